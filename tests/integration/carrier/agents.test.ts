/**
 * The compliance agent on the autopilot loop (each task its own trace, reversible):
 * insurance ending within 7 days -> the carrier is suspended (a party block; notified by a
 * PII-free outbox event) within one tick, and a tender to it is refused; `ops revert <trace>`
 * clears the block (cleared_by, clear_reason) and the agents do not redo it; an
 * out-of-service carrier likewise. Kill switch on: the agent does not act (Postgres refuses
 * agents@ too); resumed, the next tick does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "../../helpers/cli.ts";
import { sql, withEmergencyStop } from "../../helpers/db.ts";
import { act, day, type FreightTenant, freightTenant, openLoad } from "../../helpers/freight.ts";
import { expectProblem, portal, tick } from "../../helpers/http.ts";

let t: FreightTenant;
let opsName: string;

/** The agents' run for a carrier (the scheduler's own tick may have got there first: either is "one tick"). */
const runFor = async (party: string) =>
  (await sql`select trace_id, task_key, result, reverted_at from action_runs where tenant_id = ${t.id} and portal = 'carrier'
             and task_key like ${`suspend:${party}:%`} order by created_at`) as unknown as { trace_id: string; task_key: string; result: { block_id: string }; reverted_at: Date | null }[];
const activeBlocks = async (party: string) =>
  (await sql`select reason from party_blocks where party_id = ${party} and cleared_at is null`).map((b) => b.reason as string);
/** The carrier's auto liability now ends in `days` days (as the owner). */
const lapseIn = (party: string, days: number) =>
  sql`update carrier_insurance set expires_on = current_date + ${days}::int where party_id = ${party} and kind = 'auto_liability'`;

beforeAll(async () => {
  t = await freightTenant("carrier-agents");
  // an ops manager of the tenant (freight.block.manage) reverts
  opsName = `ops@carrier-agents-${t.id.slice(0, 8)}.test`;
  const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${opsName}, 'Ops') returning id`;
  await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, 'ops_manager', ${t.id})`;
});
afterAll(async () => {
  await sql.end();
});

describe("compliance agent", () => {
  it("suspends a carrier whose insurance ends within 7 days, notifies it; a tender is refused; ops revert clears the block once, not redone", async () => {
    const Z = t.carriers.Z;
    await lapseIn(Z.id, 5);
    await tick();
    const [run] = await runFor(Z.id);
    expect(run, "an agents' run for Z").toBeDefined();
    expect(run.task_key).toBe(`suspend:${Z.id}:insurance:${day(5)}`);
    expect(await activeBlocks(Z.id)).toEqual(["insurance"]);
    const events = await sql`select event_type, payload from outbox_events where trace_id = ${run.trace_id} order by event_type`;
    expect(events.map((e) => e.event_type)).toEqual(["carrier.compliance.suspended", "freight.party.blocked"]);
    const notice = events[0].payload;
    expect(notice).toEqual({ recipient_party_id: Z.id, block_id: run.result.block_id, reason: "insurance", kind: "auto_liability", covered_until: day(5) });
    expect(JSON.stringify(events.map((e) => e.payload))).not.toMatch(/Zephyr|@|Demo Mutual/);
    const [audit] = await sql`select count(*)::int as n from audit_log where trace_id = ${run.trace_id} and action = 'freight.party.block_set'`;
    expect(audit.n).toBe(1);
    const [feed] = await sql`select principal from live_feed where trace_id = ${run.trace_id} and phase = 'start'`;
    expect(feed?.principal).toBe("agents");

    // suspended from tendering; the carrier sees why
    const load = await openLoad(t, day(2));
    const refused = await expectProblem(await act("broker", "tender", { load_id: load, carrier_party_id: Z.id, rate_cents: 150000 }, t.dispatcher, t.id), 422, "party_blocked");
    expect(refused.reason).toBe("insurance");
    const c = await act("carrier", "compliance", {}, Z.user, t.id);
    expect(c.body.data.blocks[0]).toMatchObject({ reason: "insurance", note: `Suspended from tendering: auto_liability insurance ends ${day(5)}; submit a renewed certificate` });

    const r = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", opsName, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [b] = await sql`select b.cleared_at, b.clear_reason, p.name from party_blocks b join principals p on p.id = b.cleared_by where b.id = ${run.result.block_id}`;
    expect(b).toMatchObject({ clear_reason: "agent suspension reverted", name: opsName });
    expect(await activeBlocks(Z.id)).toEqual([]);
    expect((await act("broker", "tender", { load_id: load, carrier_party_id: Z.id, rate_cents: 150000 }, t.dispatcher, t.id)).status).toBe(200);
    const twice = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", opsName, "--json"]);
    expect(twice.json().error.code).toBe("already_reverted");
    await tick();
    expect(await activeBlocks(Z.id)).toEqual([]);
    expect((await runFor(Z.id)).length).toBe(1);
  });

  it("leaves a carrier covered past the horizon alone (and a renewal on file keeps it covered)", async () => {
    const X = t.carriers.X;
    // one transaction: the scheduler's own tick never sees the lapse without its renewal
    await sql.begin(async (tx) => {
      await tx`update carrier_insurance set expires_on = current_date + 3 where party_id = ${X.id} and kind = 'auto_liability'`;
      await tx`insert into carrier_insurance (tenant_id, party_id, kind, amount_cents, effective_on, expires_on)
               values (${t.id}, ${X.id}, 'auto_liability', 100000000, current_date + 4, current_date + 400)`;
    });
    await tick();
    expect(await runFor(X.id)).toEqual([]);
    expect(await activeBlocks(X.id)).toEqual([]);
  });

  it("kill switch on: the agent does not act (Postgres refuses agents@ too); resumed, the next tick suspends the out-of-service carrier", async () => {
    const Y = t.carriers.Y;
    const machine = await withEmergencyStop(async () => {
      await sql`update carrier_profiles set out_of_service = true, out_of_service_since = current_date where party_id = ${Y.id}`;
      await tick();
      return await portal("carrier").call("suspend_carrier", { carrier_party_id: Y.id, reason: "out_of_service" }, "agents", { tenant: t.id });
    });
    await expectProblem(machine, 503, "autonomy_halted");
    expect(await runFor(Y.id)).toEqual([]);
    expect(await activeBlocks(Y.id)).toEqual([]);
    await tick();
    expect(await activeBlocks(Y.id)).toEqual(["out_of_service"]);
    expect((await runFor(Y.id)).map((r) => r.task_key)).toEqual([`suspend:${Y.id}:out_of_service:oos`]);
  });
});
