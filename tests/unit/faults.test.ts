/**
 * The fault suite's own rules (scripts/faults): what its client retries, what its receiver
 * counts as delivered and as a duplicate, and when it calls a fault recovered. The suite's
 * figures are only as good as these.
 */
import { afterEach, describe, expect, it } from "vitest";
import { type Attempt, retryDelayMs, type Sent } from "../../scripts/faults/load.ts";
import { recoveredAt } from "../../scripts/faults/measure.ts";
import { deliveredAt, duplicates, type Receiver, startReceiver } from "../../scripts/faults/receiver.ts";

const attempt = (status: number, o: Partial<Attempt> = {}): Attempt => ({ at: 0, ms: 10, status, code: null, retryAfter: null, ...o });

describe("the client's retries", () => {
  it("waits Retry-After on 503 and 429 (1 s without it, at most 10 s)", () => {
    expect(retryDelayMs(attempt(503, { retryAfter: "3" }))).toBe(3000);
    expect(retryDelayMs(attempt(429, { retryAfter: "0" }))).toBe(0);
    expect(retryDelayMs(attempt(503))).toBe(1000);
    expect(retryDelayMs(attempt(503, { retryAfter: "120" }))).toBe(10_000);
  });

  it("backs off on connection errors and timeouts: 1, 2, 4, 8, 8 s", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(attempt(0, { code: "timeout" }), n))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it("retries an idempotency key still in flight, and nothing else", () => {
    expect(retryDelayMs(attempt(409, { code: "idempotency_in_flight" }))).toBe(1000);
    for (const a of [attempt(409, { code: "conflict" }), attempt(500, { code: "internal_error" }), attempt(400), attempt(200)]) {
      expect(retryDelayMs(a)).toBeNull();
    }
  });
});

describe("recovery", () => {
  const sent = (attempts: Attempt[]): Sent[] => [{ key: "k", tenant: "t", firstAt: 0, attempts, status: 200, quoteId: "q", done: true }];

  it("is the answer to the first request sent after the fault that succeeded promptly", () => {
    const s = sent([attempt(503, { at: 1000 }), attempt(200, { at: 1500, ms: 9000 }), attempt(200, { at: 2000, ms: 300 }), attempt(200, { at: 4000, ms: 100 })]);
    expect(recoveredAt(s, 1200)).toBe(2300); // the 9 s answer was not prompt
    expect(recoveredAt(s, 1200, 10_000)).toBe(2300); // earliest answer wins, not the earliest send
    expect(recoveredAt(s, 5000)).toBeNull();
  });
});

describe("the receiver", () => {
  let r: Receiver | null = null;
  afterEach(async () => {
    await r?.close();
    r = null;
  });
  const post = (id: string) => fetch(r!.url, { method: "POST", headers: { "webhook-id": id }, body: "{}" }).then((res) => res.status);

  it("counts a webhook-id taken twice as a duplicate, a retry after a failure not", async () => {
    r = await startReceiver();
    r.mode = "500";
    expect(await post("a")).toBe(500);
    r.mode = "ok";
    expect(await post("a")).toBe(204);
    expect(await post("b")).toBe(204);
    expect(await post("b")).toBe(204);
    await new Promise((res) => setTimeout(res, 50)); // the 'finish' of the last answer
    expect([...deliveredAt(r).keys()].sort()).toEqual(["a", "b"]);
    expect(duplicates(r)).toBe(1);
    expect(r.seen.get("a")!.map((s) => s.status)).toEqual([500, 204]);
  });

  it("answers 429 with Retry-After and 410 as told", async () => {
    r = await startReceiver();
    r.mode = "429";
    const res = await fetch(r.url, { method: "POST", headers: { "webhook-id": "c" }, body: "{}" });
    expect([res.status, res.headers.get("retry-after")]).toEqual([429, "2"]);
    r.mode = "410";
    expect(await post("c")).toBe(410);
    expect(deliveredAt(r).size).toBe(0);
  });

  it("does not count a hung request's late answer, once the sender gave up, as delivered", async () => {
    r = await startReceiver(100);
    r.mode = "hang";
    const ac = new AbortController();
    const req = fetch(r.url, { method: "POST", headers: { "webhook-id": "d" }, body: "{}", signal: ac.signal }).catch(() => "aborted");
    while (!r.seen.has("d")) await new Promise((res) => setTimeout(res, 10));
    ac.abort();
    expect(await req).toBe("aborted");
    await new Promise((res) => setTimeout(res, 300)); // past the 100 ms hold: the late answer was due
    expect(r.seen.get("d")).toHaveLength(1);
    expect(deliveredAt(r).size).toBe(0);
  });
});
