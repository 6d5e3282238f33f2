import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { expectProblem, portal, tick } from "../../helpers/http.ts";
import { sql } from "../../helpers/db.ts";

/**
 * Issue 11, item 12: 30 bad approvals (autonomous/approve naming a replay request that does
 * not exist) answered 500, counted against the success SLO, and the next autopilot tick rolled
 * back (canary to 0, agents off). A client's bad request is a 4xx and never an SLO failure.
 */
const flag = async (key: string) => (await sql`select public.flag_value(${key}) as v`)[0].v;

afterAll(() => sql.end());

describe("client errors and the SLO gate", () => {
  it("30 bad approvals answer 400 and the next tick does not roll the platform back", async () => {
    await sql`update feature_flags_v2 set value = 'true', reason = 'test reset' where key = 'agents.autonomousEnabled' and scope = 'global'`;
    const since = new Date();
    const autonomous = portal("autonomous");
    for (let i = 0; i < 30; i++) {
      const r = await autonomous.call("approve", { request_id: randomUUID(), approve: true }, "ops", { idempotencyKey: randomUUID() });
      const p = await expectProblem(r, 400, "validation_failed", `bad approval ${i + 1}`);
      expect(p.rail).toBe("bad_request");
    }
    // The metrics buffer flushes every second: wait until the 30 requests are recorded.
    let recorded = 0;
    for (let i = 0; i < 50 && recorded < 30; i++) {
      await new Promise((r) => setTimeout(r, 200));
      [{ n: recorded }] = await sql`select coalesce(sum(count), 0)::int as n from request_metrics
                                    where portal = 'autonomous' and minute >= date_trunc('minute', ${since}::timestamptz)`;
    }
    expect(recorded).toBeGreaterThanOrEqual(30);
    const [{ errors }] = await sql`select coalesce(sum(errors), 0)::int as errors from request_metrics
                                   where portal = 'autonomous' and minute >= date_trunc('minute', ${since}::timestamptz)`;
    expect(errors, "client errors counted as SLO failures").toBe(0);

    const out = await tick();
    const mine = (out.slo.breaches as { scope: string }[]).filter((b) => b.scope.includes("autonomous"));
    expect(mine, "SLO breaches from the bad approvals").toEqual([]);
    expect(out.slo.rolled_back).toBe(false);
    expect(await flag("agents.autonomousEnabled")).toBe(true);
  });
});
