/**
 * The Owner Operator portal over HTTP: a settlement with fuel advances, escrow, lease and
 * insurance adds up to the cent, its journal entry balances (the tenant's trial balance is
 * zero per currency) and its statement document is stored and downloadable; the same loads
 * cannot be settled twice; party isolation (one owner operator reads none of another's
 * settlements or loads); revenue per mile; maintenance: overdue service -> the agent blocks
 * the unit (dispatch refused), `ops revert` unblocks it, and the flag refuses an overdue unit.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "../../helpers/cli.ts";
import { sql, withFlag } from "../../helpers/db.ts";
import { act, day, download, type FreightTenant, freightTenant, openLoad } from "../../helpers/freight.ts";
import { expectProblem, tick } from "../../helpers/http.ts";

let t: FreightTenant;
let finance: string;
let opsName: string;

/** A delivered load covered by carrier `party` paying `cents` (buy lines), as the owner. */
async function delivered(party: string, cents: number[]): Promise<string> {
  const ref = `OO-${randomUUID().slice(0, 8)}`;
  const [o] = await sql`insert into orders (tenant_id, reference, shipper_party_id) values (${t.id}, ${ref}, ${t.shippers.A.id}) returning id`;
  const [l] = await sql`insert into loads (tenant_id, order_id, reference, shipper_party_id, carrier_party_id, status)
                        values (${t.id}, ${o.id}, ${ref}, ${t.shippers.A.id}, ${party}, 'delivered') returning id`;
  for (const c of cents) {
    await sql`insert into charge_lines (tenant_id, load_id, side, party_id, kind, amount_cents) values (${t.id}, ${l.id}, 'buy', ${party}, 'linehaul', ${c})`;
  }
  await sql`insert into charge_lines (tenant_id, load_id, side, party_id, kind, amount_cents) values (${t.id}, ${l.id}, 'sell', ${t.shippers.A.id}, 'linehaul', 999999)`;
  return l.id;
}

beforeAll(async () => {
  t = await freightTenant("owner-op");
  const staff = async (role: string, who: string) => {
    const name = `${who}@owner-op-${t.id.slice(0, 8)}.test`;
    const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${name}, ${who}) returning id`;
    await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, ${role}, ${t.id})`;
    return { id: p.id as string, name };
  };
  finance = (await staff("finance_manager", "finance")).id;
  opsName = (await staff("ops_manager", "ops")).name;
  await sql`insert into owner_operator_profiles (tenant_id, carrier_party_id, escrow_cents, lease_cents, insurance_cents)
            values (${t.id}, ${t.carriers.X.id}, 10000, 35000, 8333), (${t.id}, ${t.carriers.Y.id}, 0, 0, 0)`;
});
afterAll(async () => {
  await sql.end();
});

describe("settlements", () => {
  it("adds up to the cent, posts a balanced entry, stores the statement; once per load; party isolation", async () => {
    const X = t.carriers.X, Y = t.carriers.Y;
    const a = await delivered(X.id, [230000, 20000]);
    const b = await delivered(X.id, [187550]);
    const y = await delivered(Y.id, [150000]);
    expect((await act("owner_operator", "miles_record", { load_id: a, loaded_miles: 900, empty_miles: 100 }, X.user, t.id)).status).toBe(200);
    await expectProblem(await act("owner_operator", "miles_record", { load_id: y, loaded_miles: 900 }, X.user, t.id), 403, "forbidden");
    for (const amount_cents of [40000, 12525]) {
      const r = await act("owner_operator", "fuel_advance", { carrier_party_id: X.id, amount_cents }, finance, t.id);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    await expectProblem(await act("owner_operator", "fuel_advance", { carrier_party_id: X.id, amount_cents: 10.5 }, finance, t.id), 400, "validation_failed");
    // an owner operator does not settle itself
    await expectProblem(await act("owner_operator", "settle", { carrier_party_id: X.id, load_ids: [a, b] }, X.user, t.id), 403, "forbidden");

    const r = await act("owner_operator", "settle", { carrier_party_id: X.id, load_ids: [a, b] }, finance, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const s = r.body.data;
    // 250000 + 187550 = 437550; 40000 + 12525 + 10000 + 35000 + 8333 = 105858
    expect(s).toMatchObject({
      gross_cents: 437550, deductions_cents: 105858, net_cents: 331692, currency: "USD",
      deductions: { fuel_advance_cents: 52525, escrow_cents: 10000, lease_cents: 35000, insurance_cents: 8333 },
    });
    expect(s.gross_cents - s.deductions.fuel_advance_cents - s.deductions.escrow_cents - s.deductions.lease_cents - s.deductions.insurance_cents).toBe(s.net_cents);
    const [entry] = await sql`select sum(amount_cents)::bigint as sum, count(*)::int as lines from journal_lines where entry_id = ${s.journal_entry_id}`;
    expect({ sum: Number(entry.sum), lines: entry.lines }).toEqual({ sum: 0, lines: 6 });
    const trial = await sql`select e.currency, sum(l.amount_cents)::bigint as sum from journal_entries e join journal_lines l on l.entry_id = e.id
                            where e.tenant_id = ${t.id} group by e.currency`;
    expect(trial.map((x) => [x.currency, Number(x.sum)])).toEqual([["USD", 0]]);
    const [payable] = await sql`select sum(l.amount_cents)::bigint as c from journal_lines l join ledger_accounts a on a.id = l.account_id
                                where a.tenant_id = ${t.id} and a.code = ${`oo.payable:${X.id}`}`;
    expect(Number(payable.c)).toBe(-331692);
    const events = await sql`select event_type, payload from outbox_events where trace_id = ${r.body.trace_id} order by event_type`;
    expect(events.map((e) => e.event_type)).toEqual(["freight.document.recorded", "freight.journal_entry.posted", "owner_operator.settlement.posted"]);
    expect(JSON.stringify(events.map((e) => e.payload))).not.toMatch(/Xpress|@/);

    // the statement document: stored, hash-verified on download, to the cent
    const doc = await download(s.document_id, finance, t.id);
    expect(doc.status).toBe(200);
    const text = new TextDecoder().decode(doc.bytes);
    expect(text).toMatch(/NET PAY\s+3,316.92/);
    expect(text).toMatch(/Fuel advances\s+-525.25/);

    // once per load
    const dup = await expectProblem(await act("owner_operator", "settle", { carrier_party_id: X.id, load_ids: [b] }, finance, t.id), 409, "settlement_duplicate");
    expect(dup.detail).toContain(s.number);

    // isolation: Y settled too; each reads its own only, naming the other reads nothing
    expect((await act("owner_operator", "settle", { carrier_party_id: Y.id, load_ids: [y] }, finance, t.id)).status).toBe(200);
    const mine = await act("owner_operator", "settlements", {}, X.user, t.id);
    expect(mine.body.data.settlements.map((x: { number: string; net_cents: number }) => [x.number, x.net_cents])).toEqual([[s.number, 331692]]);
    const theirs = await act("owner_operator", "settlements", {}, Y.user, t.id);
    expect(theirs.body.data.settlements.map((x: { carrier_party_id: string }) => x.carrier_party_id)).toEqual([Y.id]);
    expect((await act("owner_operator", "settlements", { carrier_party_id: X.id }, Y.user, t.id)).body.data.settlements).toEqual([]);
    expect((await download(s.document_id, Y.user, t.id)).status).toBe(404);

    // revenue per load and per mile (the buy side only: never the 999999 sell line)
    const l = await act("owner_operator", "loads", { status: "delivered" }, X.user, t.id);
    const row = l.body.data.loads.find((x: { load_id: string }) => x.load_id === a);
    expect(row).toMatchObject({ revenue_cents: 250000, loaded_miles: 900, empty_miles: 100, revenue_per_mile_cents: 250, settlement_number: s.number });
    expect(l.body.data.loads.some((x: { load_id: string }) => x.load_id === y)).toBe(false);
    expect(JSON.stringify(l.body)).not.toContain("999999");
  });
});

describe("maintenance", () => {
  it("overdue service: the agent blocks the unit, dispatch is refused, ops revert unblocks it; the flag refuses an overdue unit", async () => {
    const X = t.carriers.X;
    const [unit] = await sql`insert into equipment (tenant_id, carrier_party_id, unit_number, kind) values (${t.id}, ${X.id}, 'OO-T2', 'tractor') returning id`;
    expect((await act("owner_operator", "service_interval_set", { unit_id: unit.id, service_kind: "pm_a", every_miles: 15000 }, X.user, t.id)).status).toBe(200);
    await expectProblem(await act("owner_operator", "service_interval_set", { unit_id: t.carriers.Y.tractor, service_kind: "pm_a", every_days: 30 }, X.user, t.id), 403, "forbidden");
    expect((await act("owner_operator", "odometer_set", { unit_id: unit.id, odometer_miles: 15500 }, X.user, t.id)).status).toBe(200);
    await expectProblem(await act("owner_operator", "odometer_set", { unit_id: unit.id, odometer_miles: 100 }, X.user, t.id), 400, "validation_failed");
    const m = await act("owner_operator", "maintenance", {}, X.user, t.id);
    expect(m.body.data.status).toEqual([expect.objectContaining({ unit_id: unit.id, service_kind: "pm_a", due_miles: 15000, odometer_miles: 15500, overdue: true })]);

    // the flag: an overdue unit is not assigned, from any door (psql here)
    const [load] = await sql`select id from loads where tenant_id = ${t.id} and carrier_party_id = ${X.id} limit 1`;
    await withFlag("owner_operator.blockOverdueDispatch", `tenant:${t.id}`, "true", async () => {
      await expect(sql`update loads set tractor_id = ${unit.id} where id = ${load.id}`).rejects.toMatchObject({ code: "SY193" });
    });

    await tick();
    const [run] = await sql`select trace_id, task_key, result from action_runs where tenant_id = ${t.id} and portal = 'owner_operator' and task_key like ${`block-unit:${unit.id}:%`}`;
    expect(run, "an agents' run for the unit").toBeDefined();
    expect((await sql`select status from equipment where id = ${unit.id}`)[0].status).toBe("blocked");
    const [audit] = await sql`select count(*)::int as n from audit_log where trace_id = ${run.trace_id} and action = 'owner_operator.unit.block'`;
    expect(audit.n).toBe(1);
    // the core's dispatch refuses the blocked unit
    const covered = await openLoad(t, day(2));
    const tender = await act("broker", "tender", { load_id: covered, carrier_party_id: X.id, rate_cents: 160000 }, t.dispatcher, t.id);
    expect((await act("carrier", "accept", { tender_id: tender.body.data.tender_id }, X.user, t.id)).status).toBe(200);
    const dispatch = () => act("carrier", "dispatch", { load_id: covered, driver_id: X.driver, tractor_id: unit.id }, X.user, t.id);
    await expectProblem(await dispatch(), 422, "asset_blocked");

    const r = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", opsName, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await sql`select status from equipment where id = ${unit.id}`)[0].status).toBe("active");
    const [b] = await sql`select clear_reason from owner_operator_unit_blocks where id = ${run.result.block_id}`;
    expect(b.clear_reason).toBe("agent block reverted");
    expect((await dispatch()).status).toBe(200);
    await tick();
    expect((await sql`select status from equipment where id = ${unit.id}`)[0].status).toBe("active");

    // serviced: nothing overdue
    expect((await act("owner_operator", "service_record", { unit_id: unit.id, service_kind: "pm_a", odometer_miles: 15510, cost_cents: 48500 }, X.user, t.id)).status).toBe(200);
    expect((await act("owner_operator", "maintenance", {}, X.user, t.id)).body.data.status[0].overdue).toBe(false);
  });
});
