/**
 * The post-deploy gate end to end (tsx scripts/gate.ts against the test stack): green exits
 * 0 and leaves the agents on; an injected failure (a dead-lettered event) switches
 * agents.autonomousEnabled off as ci, writes the report with the failing check and a trace
 * link, and exits non-zero. The SLO and lag checks are also run on failures injected inside
 * a transaction that is rolled back, so no other test or schedule ever sees them.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxLagCheck, sloBreach } from "../../../scripts/gate/checks.ts";
import { gateOptions } from "../../../scripts/gate/options.ts";
import { runScript } from "../../helpers/cli.ts";
import { pinGlobalFlags } from "../../helpers/flags.ts";
import { stackEnv } from "../../helpers/env.ts";
import { rolledBack, sql } from "../../helpers/db.ts";

// The charter's switchboard values (§3) at the start of every test.
pinGlobalFlags(sql, { "autonomy.emergencyStop": "false", "autonomy.mode": "FULL", "agents.autonomousEnabled": "true", "obs.otelEnabled": "true" }, "gate.test");
const dir = mkdtempSync(join(tmpdir(), "gate-test-"));
const CONSOLE = "https://console.example.test/functions/v1/console";
const gate = (report: string, ...args: string[]) =>
  runScript("scripts/gate.ts", ["--report", join(dir, report), "--console-url", CONSOLE, ...args], {
    SWITCHYARD_API_URL: stackEnv.apiUrl,
    SWITCHYARD_ANON_KEY: stackEnv.anonKey,
  });
const report = (name: string) => readFileSync(join(dir, name), "utf8");
const agentsOn = async () => (await sql`select public.flag_value('agents.autonomousEnabled') as v`)[0].v;

const tenant = randomUUID();

/**
 * A DLQ entry with its trace id, as the relay leaves one: dead (ran out of attempts) or parked
 * (a subscription answered 410 Gone; parked_for names it).
 */
async function injectDlqEntry(traceId: string, kind: "dead" | "parked") {
  const [attempts, error] = kind === "dead" ? [8, "HTTP 503 from n8n"] : [1, "HTTP 410"];
  await sql`
    with e as (
      insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload, trace_id, state, attempts, last_error)
      values (${tenant}, 'shipment', 'gate-test', 'shipment.created', '{}', ${traceId}, ${kind}, ${attempts}, ${error})
      returning *)
    insert into public.dlq_entries (tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id, event, attempts, last_error,
                                    payload_bytes, trace_id, state, parked_for)
    select tenant_id, id, created_at, event_type, aggregate_type, aggregate_id, to_jsonb(e), attempts, last_error, 2, trace_id,
           ${kind}, case when ${kind} = 'parked' then array[gen_random_uuid()] end from e`;
}

beforeAll(async () => {
  await sql`insert into public.tenants (id, slug, name) values (${tenant}, ${`gate-test-${randomBytes(4).toString("hex")}`}, 'Gate test')`;
});

afterAll(async () => {
  await sql`delete from public.tenants where id = ${tenant}`;
  await sql.end();
});

describe("npm run gate", () => {
  it("all green: exit 0, agents stay on, the report says PASSED", async () => {
    const since = new Date().toISOString();
    const r = await gate("green.md", "--since", since, "--load-rate", "20", "--load-seconds", "2");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/gate: all green/);
    for (const c of ["load_smoke", "dlq_growth", "outbox_lag", "slo_breach", "flags_sane"]) expect(r.stdout).toMatch(new RegExp(`pass {2}${c}`));
    expect(await agentsOn()).toBe(true);
    expect(report("green.md")).toMatch(/^# Post-deploy gate: PASSED/);
  });

  it("an injected dead-lettered event: agents off as ci (audited), report with the failing check and its trace link, exit 1", async () => {
    const since = new Date().toISOString();
    const traceId = randomBytes(16).toString("hex");
    await injectDlqEntry(traceId, "dead");
    const r = await gate("dlq.md", "--since", since, "--load-rate", "20", "--load-seconds", "2", "--json");
    expect(r.code, r.stderr).toBe(1);
    const out = r.json();
    expect(out.ok).toBe(false);
    expect(out.checks.find((c: any) => c.name === "dlq_growth")).toMatchObject({ ok: false, summary: "1 new DLQ entry", traces: [traceId] });
    expect(out.checks.find((c: any) => c.name === "load_smoke").ok).toBe(true);
    expect(out.agents).toMatchObject({ disabled: true, by: "ci" });

    expect(await agentsOn()).toBe(false);
    const [h] = await sql`select changed_by, reason, trace_id from public.feature_flag_history
                          where key = 'agents.autonomousEnabled' order by changed_at desc limit 1`;
    expect(h).toMatchObject({ changed_by: "ci", reason: expect.stringMatching(/^post-deploy gate failed: dlq_growth/), trace_id: out.agents.traceId });
    const [a] = await sql`select principal_name, principal_kind, action from public.audit_log where trace_id = ${out.agents.traceId}`;
    expect(a).toEqual({ principal_name: "ci", principal_kind: "machine", action: "flag.update" });

    const md = report("dlq.md");
    expect(md).toMatch(/^# Post-deploy gate: FAILED/);
    expect(md).toMatch(/\| dlq_growth \| \*\*FAIL\*\* \| 1 new DLQ entry \|/);
    expect(md).toContain(`[${traceId}](${CONSOLE}#/trace/${traceId})`);
    expect(md).toContain("HTTP 503 from n8n");
    expect(md).toMatch(/`agents.autonomousEnabled` = \*\*false\*\*, set by the ci service account/);
    expect(md).toMatch(/## Recent errors and logs/);
    expect(md).not.toMatch(/postgres:postgres@/);
  });

  it("a parked DLQ entry (a receiver answered 410 Gone) is reported, not counted: the gate passes", async () => {
    const since = new Date().toISOString();
    await injectDlqEntry(randomBytes(16).toString("hex"), "parked");
    const r = await gate("parked.md", "--since", since, "--load-rate", "20", "--load-seconds", "2", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().checks.find((c: any) => c.name === "dlq_growth"))
      .toMatchObject({ ok: true, summary: "0 new DLQ entries; 1 parked (receiver gone, not counted)", traces: [] });
    expect(await agentsOn()).toBe(true);
  });

  it("flags not sane (kill switch on): ci is refused like every machine, the operator session turns agents off, exit 1", async () => {
    await sql`update public.feature_flags_v2 set value = 'true' where key = 'autonomy.emergencyStop' and scope = 'global'`;
    const r = await gate("halted.md", "--since", new Date().toISOString(), "--skip-load", "--json");
    expect(r.code).toBe(1);
    const out = r.json();
    expect(out.checks.find((c: any) => c.name === "flags_sane")).toMatchObject({ ok: false, summary: "autonomy.emergencyStop is true, expected false" });
    expect(out.agents).toMatchObject({ disabled: true, by: "operator", ciRefused: expect.stringMatching(/^autonomy_halted/) });
    expect(await agentsOn()).toBe(false);
    expect(report("halted.md")).toMatch(/ci's own write was refused: autonomy_halted/);
  });

  it("usage errors exit 2; an unreachable database exits 5 with a report that says agents were not disabled", async () => {
    const [range, unknown, down] = await Promise.all([
      gate("usage.md", "--min-success", "5"),
      gate("usage.md", "--frobnicate"),
      runScript("scripts/gate.ts", ["--skip-load", "--report", join(dir, "down.md")], { SUPABASE_DB_URL: "postgresql://postgres:secret@127.0.0.1:1/postgres" }),
    ]);
    expect(range.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(down.code).toBe(5);
    const md = report("down.md");
    expect(md).toMatch(/could not run:\*\* connection/);
    expect(md).toMatch(/Agents could NOT be disabled/);
    expect(md).not.toContain("secret");
  });
});

describe("gate checks on failures that never commit", () => {
  const opts = () => gateOptions(["--skip-load", "--window", "5m"], { SUPABASE_DB_URL: stackEnv.dbUrl });

  it("slo_breach fails on success < 98% or p95 > 2.5 s from request_metrics", async () => {
    const r = await rolledBack(async (tx) => {
      await tx`insert into public.request_metrics (function_name, portal, tenant_id, minute, count, errors, sum_ms, max_ms,
                 le_100, le_250, le_500, le_1000, le_1500, le_2500, le_5000, le_10000)
               values ('gate-test-errors', 'rates', ${tenant}, date_trunc('minute', now()), 100, 10, 5000, 90, 100, 100, 100, 100, 100, 100, 100, 100),
                      ('gate-test-slow', 'rates', ${tenant}, date_trunc('minute', now()), 100, 0, 400000, 4000, 0, 0, 0, 10, 50, 80, 100, 100)`;
      return sloBreach(tx, opts());
    });
    expect(r.ok).toBe(false);
    expect(r.summary).toMatch(/gate-test-errors\/rates success 90%/);
    expect(r.summary).toMatch(/gate-test-slow\/rates success 100% p95 <= 5000 ms/);
  });

  it("slo_breach applies slo.portalP95MaxMs to portals and judges no row below slo.minRequests (issue 11 item 20)", async () => {
    const r = await rolledBack(async (tx) => {
      await tx`insert into public.request_metrics (function_name, portal, tenant_id, minute, count, errors, sum_ms, max_ms,
                 le_100, le_250, le_500, le_1000, le_1500, le_2500, le_5000, le_10000)
               values ('gate-test-portal-2s', 'rates', ${tenant}, date_trunc('minute', now()), 100, 0, 200000, 2400, 0, 0, 0, 10, 50, 100, 100, 100),
                      ('gate-test-one-error', 'rates', ${tenant}, date_trunc('minute', now()), 1, 1, 90, 90, 1, 1, 1, 1, 1, 1, 1, 1)`;
      return sloBreach(tx, opts());
    });
    expect(r.summary).toMatch(/gate-test-portal-2s\/rates success 100% p95 <= 2500 ms/);
    expect(r.summary).not.toMatch(/gate-test-one-error/);
    expect(r.ok).toBe(false);
  });

  it("outbox_lag fails when an event waits longer than --max-oldest-lag", async () => {
    const traceId = randomBytes(16).toString("hex");
    const r = await rolledBack(async (tx) => {
      await tx`insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, trace_id, created_at, state)
               values (${tenant}, 'shipment', 'gate-lag', 'shipment.created', ${traceId}, now() - interval '10 minutes', 'failed')`;
      return outboxLagCheck(tx, opts());
    });
    expect(r.ok).toBe(false);
    // (another test's event may be older still: then that one is named)
    expect(Number(/oldest undelivered (\d+) s/.exec(r.summary)![1])).toBeGreaterThanOrEqual(600);
    expect(r.traces).toHaveLength(1);
  });
});
