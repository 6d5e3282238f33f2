import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USERS, userJwt } from "../../helpers/auth.ts";
import { runScript } from "../../helpers/cli.ts";
import { fnUrl } from "../../helpers/env.ts";
import { tick } from "../../helpers/http.ts";
import { sql } from "../../helpers/db.ts";

const slack: { text: string; trace_url: string; source: string }[] = [];
let server: Server;

const flag = async (key: string) => (await sql`select public.flag_value(${key}) as v`)[0].v;
const setGlobal = (key: string, value: string) =>
  sql`update feature_flags_v2 set value = ${value}, reason = 'test reset' where key = ${key} and scope = 'global'`;

/** Slow requests for a fictitious portal in the last hour and now: a p95 breach in both windows. */
const PORTAL = "analytics";
async function injectLatencyBreach() {
  await sql`
    insert into request_metrics (function_name, portal, tenant_id, minute, count, errors, sum_ms, max_ms,
                                 le_100, le_250, le_500, le_1000, le_1500, le_2500, le_5000, le_10000)
    select 'slo-test', ${PORTAL}, null, date_trunc('minute', now() - make_interval(mins => m)), 100, 0, 200000, 2400,
           10, 20, 30, 40, 50, 100, 100, 100
    from unnest(array[0, 1, 20]) m
    on conflict on constraint request_metrics_key do update set count = excluded.count, le_1500 = excluded.le_1500`;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      slack.push(JSON.parse(raw));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  await sql`delete from vault.secrets where name = 'alert_webhook_url'`;
  await sql`update alerts set resolved_at = now() where source like 'slo.%' and resolved_at is null`;
  await sql`select vault.create_secret(${`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack`}, 'alert_webhook_url')`;
});
afterAll(async () => {
  await sql`delete from request_metrics where function_name = 'slo-test'`;
  await setGlobal("agents.autonomousEnabled", "true");
  await setGlobal("budget.agents.maxConcurrent", "150");
  await sql`delete from vault.secrets where name = 'alert_webhook_url'`;
  server.close();
  await sql.end();
});

describe("autopilot tick", () => {
  it("runs the agents' loop: an overdue approval is escalated by agents@, on the Live Feed, within a lease", async () => {
    const tenant = "d0000000-0000-4000-8000-000000000001";
    const quote = randomUUID();
    await sql`insert into rates_quotes (id, tenant_id, request, quote, total, status, needs_approval_since)
              values (${quote}, ${tenant}, '{}', '{}', 4200, 'needs_approval', now() - interval '2 hours')`;
    const out = await tick();
    expect(out.agents.rates.tasks).toBeGreaterThan(0);
    const [q] = await sql`select escalated_at from rates_quotes where id = ${quote}`;
    expect(q.escalated_at).not.toBeNull();
    const [a] = await sql`select trace_id from alerts where source = 'rates.approval_sla' and dedupe_key = ${quote}`;
    // Each task the agents ran is its own trace: the alert's trace is the escalation's.
    expect(out.agents.rates.traces).toContain(a.trace_id);
    const feed = await sql`select phase, principal, action from live_feed
                           where trace_id = ${a.trace_id} and action = 'escalate_quote' order by id`;
    expect(feed.map((f) => f.phase)).toEqual(expect.arrayContaining(["start", "prove", "finish"]));
    expect(feed.every((f) => f.principal === "agents" && f.action === "escalate_quote")).toBe(true);
    const [leases] = await sql`select count(*)::int as n from concurrency_leases where holder = ${"escalate:" + quote}`;
    expect(leases.n).toBe(0); // released
    const [run] = await sql`select ok, duration_ms from ops.schedule_runs where job = 'autopilot-tick' order by id desc limit 1`;
    expect(run.ok).toBe(true);
  });

  it("ops revert undoes an agent's escalation by its trace, once; the agents do not redo it until a human clears it", async () => {
    const tenant = "d0000000-0000-4000-8000-000000000001";
    const overdue = async () => {
      const id = randomUUID();
      await sql`insert into rates_quotes (id, tenant_id, request, quote, total, status, needs_approval_since)
                values (${id}, ${tenant}, '{}', '{}', 1234, 'needs_approval', now() - interval '2 hours')`;
      await tick();
      const [a] = await sql`select trace_id from alerts where source = 'rates.approval_sla' and dedupe_key = ${id}`;
      return { id, trace: a.trace_id as string };
    };
    const ops = (...args: string[]) => runScript("scripts/ops.ts", args);
    const q = await overdue();

    expect((await ops("revert", q.trace, "--json")).code).toBe(2); // no --as: refused
    const r = await ops("revert", q.trace, "--as", "ops@demo-freight.test", "--json");
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().data).toMatchObject({ trace_id: q.trace, action: "escalate_quote", undo: { quote_id: q.id, escalated: false } });
    const [after] = await sql`select escalated_at from rates_quotes where id = ${q.id}`;
    expect(after.escalated_at).toBeNull();
    const [open] = await sql`select count(*)::int as n from alerts where dedupe_key = ${q.id} and resolved_at is null`;
    expect(open.n).toBe(0);
    // The revert is an audited action of its own trace, by the human.
    const audit = await sql`select distinct principal_name, target_type from audit_log where trace_id = ${r.json().data.revert_trace_id}`;
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((a) => a.principal_name === "ops@demo-freight.test")).toBe(true);

    // Two ticks later the escalation has not been redone: the work is held.
    const t1 = await tick();
    await tick();
    expect(t1.agents.rates.held).toBeGreaterThanOrEqual(1);
    expect((await sql`select escalated_at from rates_quotes where id = ${q.id}`)[0].escalated_at).toBeNull();

    // A second revert is refused with its own code and exit.
    const twice = await ops("revert", q.trace, "--as", "ops@demo-freight.test", "--json");
    expect(twice.code).toBe(41);
    expect(twice.json().error.code).toBe("already_reverted");

    // A human clears it: the next tick escalates again.
    expect((await ops("revert", q.trace, "--clear", "--as", "ops@demo-freight.test", "--json")).code).toBe(0);
    await tick();
    expect((await sql`select escalated_at from rates_quotes where id = ${q.id}`)[0].escalated_at).not.toBeNull();

    // Revert after a human moved the state on: refused, saying why; nothing changes.
    const moved = await overdue();
    await sql`update rates_quotes set status = 'approved' where id = ${moved.id}`;
    const stale = await ops("revert", moved.trace, "--as", "ops@demo-freight.test", "--json");
    expect(stale.code).toBe(1);
    expect(stale.json().error).toMatchObject({ code: "revert_state_changed" });
    expect(stale.json().error.message).toContain("approved");
    expect((await sql`select reverted_at from action_runs where trace_id = ${moved.trace}`)[0].reverted_at).toBeNull();

    // The console's Revert button: the trace view offers it, the API forwards to rates/revert as the caller.
    const c = await overdue();
    const token = await userJwt(USERS.ops, { tenant });
    const consoleApi = (path: string, body?: unknown) => fetch(fnUrl(`console/api/${path}`), {
      method: body ? "POST" : "GET",
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const view = await (await consoleApi(`trace/${c.trace}`)).json();
    expect(view.reversible).toMatchObject({ portal: "rates", action: "escalate_quote", reverted_at: null });
    const viaConsole = await consoleApi("revert", { trace_id: c.trace });
    expect(viaConsole.status).toBe(200);
    expect((await viaConsole.json()).data).toMatchObject({ trace_id: c.trace, undo: { quote_id: c.id, escalated: false } });
    const second = await consoleApi("revert", { trace_id: c.trace });
    expect(second.status).toBe(409);
    expect((await second.json()).code).toBe("already_reverted");
    const viewerTry = await fetch(fnUrl("console/api/revert"), {
      method: "POST",
      headers: { authorization: `Bearer ${await userJwt(USERS.viewer, { tenant })}`, "content-type": "application/json" },
      body: JSON.stringify({ trace_id: (await overdue()).trace }),
    });
    expect(viewerTry.status).toBe(403);
  });

  it("an injected latency breach downshifts concurrency and turns agents off; recovery raises it back; audited and alerted", async () => {
    await setGlobal("budget.agents.maxConcurrent", "150");
    await injectLatencyBreach();
    const out = await tick();
    expect(out.slo.breaches).toEqual(expect.arrayContaining([expect.objectContaining({ scope: `portal:${PORTAL}`, metric: "p95" })]));
    expect(out.slo.rolled_back).toBe(true);
    const after = Number(await flag("budget.agents.maxConcurrent"));
    expect(after).toBeLessThan(150);
    expect(after).toBeGreaterThanOrEqual(10);
    expect(await flag("agents.autonomousEnabled")).toBe(false);
    const history = await sql`select key, changed_by, reason from feature_flag_history
                              where trace_id = ${out.trace_id} and reason like 'SLO breach%'`;
    expect(history.map((h) => h.key).sort()).toEqual(["agents.autonomousEnabled", "budget.agents.maxConcurrent"]);
    expect(history.every((h) => String(h.changed_by).includes("autopilot"))).toBe(true);
    const [audit] = await sql`select count(*)::int as n from audit_log where principal_name = 'autopilot' and trace_id = ${out.trace_id}`;
    expect(audit.n).toBeGreaterThanOrEqual(2);
    const breachMsg = slack.find((m) => m.source === "slo.breach");
    expect(breachMsg?.text).toContain("SLO breach");
    expect(breachMsg?.trace_url).toContain(`#/trace/${out.trace_id}`);

    // Recovery: the slow minutes are gone; the next tick raises concurrency back.
    await sql`delete from request_metrics where function_name = 'slo-test'`;
    const rec = await tick();
    expect(rec.slo.breaches).toEqual([]);
    expect(rec.slo.concurrency.to).toBeGreaterThan(rec.slo.concurrency.from);
    const [h] = await sql`select reason, changed_by from feature_flag_history where key = 'budget.agents.maxConcurrent' and reason like 'SLOs healthy%' order by changed_at desc limit 1`;
    expect(String(h.changed_by)).toContain("autopilot");
    expect(slack.some((m) => m.source === "slo.recovery")).toBe(true);
  });

  it("the agents' loop does nothing while the kill switch is on", async () => {
    await setGlobal("agents.autonomousEnabled", "true");
    await sql.unsafe(`update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global';`);
    try {
      const out = await tick();
      expect(out.agents.rates.skipped).toBe("autonomy.emergencyStop is true");
    } finally {
      await sql.unsafe(`update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';`);
    }
  });
});
