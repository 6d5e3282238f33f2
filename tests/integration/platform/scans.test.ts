import { afterAll, describe, expect, it } from "vitest";
import { rolledBack, sql } from "../../helpers/db.ts";

afterAll(() => sql.end());


describe("scheduled scans", () => {
  it("the security scan is clean, and finds a table without RLS, a definer without search_path and a PUBLIC grant", async () => {
    expect((await sql`select ops.security_scan() as n`)[0].n).toBe(0);
    const found = await rolledBack(async (tx) => {
      await tx`create table public.scan_probe (id int)`;
      await tx`create function app_private.scan_probe() returns int language sql security definer as 'select 1'`;
      await tx`grant usage on schema ops to public`;
      const [{ n }] = await tx`select ops.security_scan() as n`;
      const alerts = await tx`select dedupe_key from public.alerts where source like 'security.%' and resolved_at is null`;
      return { n, keys: alerts.map((a) => a.dedupe_key) };
    });
    expect(found.n).toBe(3);
    expect(found.keys).toEqual(expect.arrayContaining(["public.scan_probe", "app_private.scan_probe", "ops"]));
  });

  it("the guardrail scan flags an email leaked into a span", async () => {
    const found = await rolledBack(async (tx) => {
      await tx`alter table public.spans disable trigger spans_redact`; // simulate a writer that skipped redaction
      await tx`insert into public.spans (trace_id, span_id, name, attributes, start_time, duration_ms)
               values (md5('leak'), substr(md5('span'), 1, 16), 'leaky', '{"note": "call maria.lopez@acme-freight.com"}', now(), 1)`;
      const [{ n }] = await tx`select ops.guardrail_scan() as n`;
      return n;
    });
    expect(found).toBe(1);
  });

  it("key drift raises an alert for a service key that expires within a week; runs are recorded", async () => {
    const drift = await rolledBack(async (tx) => {
      await tx`select * from ops.issue_service_key('ci', 3)`;
      const [{ n }] = await tx`select ops.key_drift_scan() as n`;
      return n;
    });
    expect(drift).toBeGreaterThanOrEqual(1);
    await sql`select ops.run_job('portal-audit', 'select ops.portal_audit_report()')`;
    const [run] = await sql`select ok from ops.schedule_runs where job = 'portal-audit' order by id desc limit 1`;
    expect(run.ok).toBe(true);
    await sql`select ops.run_job('broken-job', 'select 1/0')`;
    const [bad] = await sql`select ok, detail from ops.schedule_runs where job = 'broken-job' order by id desc limit 1`;
    expect(bad.ok).toBe(false);
    const [alert] = await sql`select severity from alerts where source = 'schedule.broken-job' and resolved_at is null`;
    expect(alert.severity).toBe("warning");
  });
});
