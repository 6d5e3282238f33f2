import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { DEMO_TENANT, USERS } from "../../helpers/auth.ts";
import { hex, rolledBack, sql } from "../../helpers/db.ts";

// Issue 11 item 20: the weekly portal audit counts audit rows (not Live Feed rows), and the
// hourly guardrails job runs the idempotency-collision scan the charter names.

afterAll(() => sql.end());

describe("portal audit report", () => {
  it("audit_rows counts the audit rows of the portal's traces and actions, not its Live Feed finish rows", async () => {
    const r = await rolledBack(async (tx) => {
      // One snapshot: the autopilot's ticks write rates audit rows meanwhile; only ours count.
      await tx`set transaction isolation level repeatable read`;
      const rows = async () => Number((await tx`select audit_rows from ops.portal_audit() where portal = 'rates'`)[0].audit_rows);
      const before = await rows();
      const trace = hex(16);
      // Three finished actions in the feed that wrote no audit row ...
      await tx`insert into public.live_feed (tenant_id, trace_id, portal, action, phase, ok)
               select ${DEMO_TENANT}, ${trace}, 'rates', 'price_one', 'finish', true from generate_series(1, 3)`;
      const afterFeed = await rows();
      // ... and two audit rows the portal's actions wrote (one in a feed trace, one named after it).
      await tx`select set_config('request.headers', ${JSON.stringify({ traceparent: `00-${trace}-00f067aa0ba902b7-01` })}, true)`;
      await tx`select app_private.audit_write(${DEMO_TENANT}, 'rates_quotes.insert', 'public.rates_quotes', ${randomUUID()})`;
      await tx`select set_config('request.headers', '{}', true)`;
      await tx`select app_private.audit_write(${DEMO_TENANT}, 'rates.index_ingest', 'rates_index', 'batch-1')`;
      const afterAudit = await rows();
      await tx`select ops.portal_audit_report()`;
      const [alert] = await tx`select summary from public.alerts where source = 'report.portal_audit' order by created_at desc limit 1`;
      return { before, afterFeed, afterAudit, summary: alert.summary as string };
    });
    expect(r.afterFeed).toBe(r.before);
    expect(r.afterAudit).toBe(r.before + 2);
    expect(r.summary).toMatch(/rates: \d+ req, \d+ err, \d+ audit/);
  });
});

describe("idempotency-collision scan", () => {
  it("is part of the hourly guardrails job and raises one warning per colliding key", async () => {
    const [job] = await sql`select command from cron.job where jobname = 'guardrails-hourly'`;
    expect(job.command).toContain("ops.idempotency_collision_scan()");
    const found = await rolledBack(async (tx) => {
      const key = `collide-${hex(6)}`;
      await tx`insert into public.idempotency_keys (tenant_id, principal_id, key, fingerprint, state)
               values (${DEMO_TENANT}, ${USERS.ops}, ${key}, 'fp-a', 'completed'),
                      (${DEMO_TENANT}, ${USERS.dispatcher}, ${key}, 'fp-b', 'completed'),
                      (${DEMO_TENANT}, ${USERS.ops}, ${`unique-${hex(6)}`}, 'fp-c', 'completed')`;
      const [{ n }] = await tx`select ops.idempotency_collision_scan() as n`;
      const alerts = await tx`select severity, summary from public.alerts where source = 'guardrail.idempotency' and resolved_at is null`;
      return { n, alerts };
    });
    expect(found.n).toBe(1);
    expect(found.alerts).toEqual([expect.objectContaining({ severity: "warning", summary: expect.stringMatching(/2 different requests by 2 caller/) })]);
  });
});
