import { describe, expect, it } from "vitest";
import { DEFAULT_BODY_LIMIT, isJsonContentType, parseJsonBytes, readBodyBytes, readJsonBody } from "./body.ts";

const URL_ = "http://localhost/functions/v1/rates/price_one";
const post = (body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }) =>
  new Request(URL_, { method: "POST", body, headers, duplex: "half" } as RequestInit);

/** An endless upload that counts how many 64 KiB chunks were pulled from it. */
function endlessStream() {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulled++;
      controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { stream, state };
}

describe("readBodyBytes", () => {
  it("accepts a body of exactly the limit and refuses one byte more", async () => {
    const ok = await readBodyBytes(post(new Uint8Array(1000)), 1000);
    expect(ok.ok && ok.value.byteLength).toBe(1000);
    const tooBig = await readBodyBytes(post(new Uint8Array(1001)), 1000);
    expect(tooBig).toMatchObject({ ok: false, code: "payload_too_large", problem: { status: 413, limit_bytes: 1000 } });
  });

  it("stops reading a streamed body as soon as it passes the limit (no Content-Length)", async () => {
    const { stream, state } = endlessStream();
    const r = await readBodyBytes(post(stream), DEFAULT_BODY_LIMIT);
    expect(r.ok).toBe(false);
    expect(r.ok || r.code).toBe("payload_too_large");
    // 2 MiB = 32 chunks of 64 KiB; the 33rd passes the limit. Allow a little read-ahead.
    expect(state.pulled).toBeLessThanOrEqual(36);
    expect(state.cancelled).toBe(true);
  });

  it("refuses early on a declared Content-Length over the limit", async () => {
    const req = new Request(URL_, { method: "POST", body: "x".repeat(10), headers: { "content-length": String(DEFAULT_BODY_LIMIT + 1) } });
    const r = await readBodyBytes(req);
    expect(r.ok || r.code).toBe("payload_too_large");
  });

  it("reads an absent body as empty", async () => {
    const r = await readBodyBytes(new Request(URL_));
    expect(r.ok && r.value.byteLength).toBe(0);
  });
});

describe("content type and JSON", () => {
  it.each([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["Application/JSON;charset=\"UTF-8\"", true],
    ["application/merge-patch+json", true],
    ["application/json; charset=latin1", false],
    ["text/plain", false],
    ["multipart/form-data; boundary=x", false],
    [null, false],
  ])("isJsonContentType(%s) = %s", (header, expected) => {
    expect(isJsonContentType(header)).toBe(expected);
  });

  it("says where the JSON broke without quoting the body", () => {
    const r = parseJsonBytes(new TextEncoder().encode('{"contact":"dana@acme.com" "x":1}'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.detail).toMatch(/^Body is not valid JSON( \(at position \d+\))?$/);
    expect(JSON.stringify(r.problem)).not.toContain("dana");
  });

  it("refuses malformed, empty and non-UTF-8 bodies", () => {
    for (const bytes of [new TextEncoder().encode('{"origin": "60601",'), new Uint8Array(0), new Uint8Array([0x7b, 0xff, 0x7d])]) {
      const r = parseJsonBytes(bytes);
      expect(r).toMatchObject({ ok: false, code: "malformed_json", problem: { status: 400 } });
    }
  });
});

describe("readJsonBody", () => {
  it("returns the parsed JSON and its raw bytes", async () => {
    const text = '{"origin":"60601","destination":"90210","equipment":"van"}';
    const r = await readJsonBody(post(text));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.json).toEqual({ origin: "60601", destination: "90210", equipment: "van" });
    expect(new TextDecoder().decode(r.value.bytes)).toBe(text);
  });

  it("refuses the wrong content type before reading", async () => {
    const r = await readJsonBody(post("{}", { "content-type": "text/plain" }));
    expect(r).toMatchObject({ ok: false, code: "unsupported_media_type", problem: { status: 415 } });
  });

  it("refuses an oversized JSON body with 413 and malformed JSON with 400", async () => {
    const big = JSON.stringify({ pad: "x".repeat(DEFAULT_BODY_LIMIT) });
    expect(await readJsonBody(post(big))).toMatchObject({ ok: false, code: "payload_too_large" });
    expect(await readJsonBody(post("{oops"))).toMatchObject({ ok: false, code: "malformed_json" });
  });
});
