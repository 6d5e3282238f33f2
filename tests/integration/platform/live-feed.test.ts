/**
 * Issue 11 item 14: a Live Feed Last-Event-ID above 2^53 (9007199254740993) made an
 * `id++` loop that never ended (Number(id) + 1 === Number(id)): the whole runtime hung,
 * health stopped answering. Ids are bigints (bigserial); a loop is bounded by rows.
 */
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { DEMO_TENANT, USERS, userJwt } from "../../helpers/auth.ts";
import { openSse } from "../../helpers/sse.ts";

const sql = postgres(stackEnv.dbUrl, { prepare: false, max: 2, onnotice: () => {} });
afterAll(() => sql.end());

/** The response head of a Live Feed request, or "timeout" when none came within `ms`. */
async function head(lastEventId: string, token: string, ms = 2000): Promise<{ status: number; type: string | null; code?: string } | "timeout"> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), ms);
  try {
    const res = await fetch(fnUrl("live-feed"), {
      headers: { accept: "text/event-stream", authorization: `Bearer ${token}`, "last-event-id": lastEventId },
      signal: ctrl.signal,
    });
    const type = res.headers.get("content-type");
    const out = { status: res.status, type, code: type === "application/problem+json" ? (await res.json()).code : undefined };
    ctrl.abort(); // close the stream
    return out;
  } catch {
    return "timeout";
  } finally {
    clearTimeout(timer);
  }
}

async function healthWithin(ms: number): Promise<number | "timeout"> {
  try {
    const res = await fetch(fnUrl("health"), { headers: { authorization: `Bearer ${stackEnv.anonKey}` }, signal: AbortSignal.timeout(ms) });
    await res.body?.cancel();
    return res.status;
  } catch {
    return "timeout";
  }
}

describe("live-feed Last-Event-ID", () => {
  it("answers promptly for ids above 2^53, negative, non-numeric and 40-digit ones; health still answers within 2 s", async () => {
    const viewer = await userJwt(USERS.viewer);
    const cases: [string, number, string?][] = [
      ["9007199254740993", 200], // above 2^53, inside bigserial: resumes after it (nothing that far yet)
      ["9223372036854775807", 200], // the largest bigserial
      ["9223372036854775808", 400, "validation_failed"], // one beyond
      ["-5", 400, "validation_failed"],
      ["abc", 400, "validation_failed"],
      ["1".repeat(40), 400, "validation_failed"],
    ];
    for (const [id, status, code] of cases) {
      const h = await head(id, viewer);
      expect.soft(h, `Last-Event-ID: ${id}`).toEqual({ status, type: status === 200 ? "text/event-stream" : "application/problem+json", code });
      expect.soft(await healthWithin(2000), `health after Last-Event-ID: ${id}`).toBe(200);
    }
  });

  it("a stream resumed after a huge id still delivers nothing old, and one resumed after a real id delivers what came after it", async () => {
    const ops = await userJwt(USERS.ops);
    const [{ max }] = await sql`select coalesce(max(id), 0)::text as max from live_feed where tenant_id = ${DEMO_TENANT}`;
    const [{ id: newest }] = await sql`
      insert into live_feed (tenant_id, trace_id, portal, action, phase, ok, principal, detail)
      values (${DEMO_TENANT}, ${"f".repeat(32)}, 'rates', 'price_one', 'finish', true, 'test', '{}') returning id::text`;
    const huge = await openSse(fnUrl("live-feed"), { authorization: `Bearer ${ops}`, "last-event-id": "9007199254740993" });
    const resumed = await openSse(fnUrl("live-feed"), { authorization: `Bearer ${ops}`, "last-event-id": String(max) });
    try {
      expect(huge.status).toBe(200);
      expect(resumed.status).toBe(200);
      expect(await resumed.waitFor((e) => e.id === newest, 2000)).not.toBeNull();
      expect(huge.events.filter((e) => e.id)).toEqual([]);
    } finally {
      await huge.close();
      await resumed.close();
    }
  });
});
