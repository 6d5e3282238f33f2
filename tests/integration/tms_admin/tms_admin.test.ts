/**
 * The TMS Admin portal over HTTP, as a tenant admin and an ops manager of a tenant of its
 * own: equipment types, lanes, the accessorial catalogue (cents), Rates' pricing guards, EDI
 * partners and the SLA policy. Each write is one transaction whose outbox event and audit
 * row carry the request's trace; what it writes is what the rest of the TMS then uses (a
 * guard flags a quote, the SLA policy sets a tender's deadline). Staff without
 * tms_admin.manage and outside users are refused; reads go through RLS.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../helpers/db.ts";
import { act, day, type FreightTenant, freightTenant, openLoad } from "../../helpers/freight.ts";
import { expectProblem } from "../../helpers/http.ts";

let t: FreightTenant;
let admin: string;
let ops: string;

beforeAll(async () => {
  t = await freightTenant("tmsadmin");
  const staff = async (role: string) => {
    const [p] = await sql`insert into principals (kind, name) values ('human', ${`${role}-${randomUUID()}@tmsadmin.test`}) returning id`;
    await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, ${role}, ${t.id})`;
    return p.id as string;
  };
  admin = await staff("tenant_admin");
  ops = await staff("ops_manager");
  // the catalogue the test tenant's lanes and loads use
  await sql`insert into tms_admin_equipment_types (tenant_id, code, name) values (${t.id}, 'van', 'Dry van')`;
});
afterAll(async () => {
  await sql.end();
});

/** The trace's outbox event types and audit actions. */
async function traced(trace: string) {
  const events = await sql`select event_type from outbox_events where trace_id = ${trace}`;
  const audit = await sql`select action from audit_log where trace_id = ${trace}`;
  return { events: events.map((e) => e.event_type as string), audit: audit.map((a) => a.action as string) };
}

describe("catalogue writes", () => {
  it("equipment types and lanes: one transaction each with its event and row audit under the trace; a lane needs an active type", async () => {
    const reefer = await act("tms_admin", "equipment_type_upsert", { code: "reefer", name: "53 ft reefer", temperature_controlled: true, max_weight_lbs: 43000 }, admin, t.id);
    expect(reefer.status, JSON.stringify(reefer.body)).toBe(200);
    expect(reefer.body.data).toMatchObject({ created: true, equipment_type: { code: "reefer", active: true, temperature_controlled: true } });
    expect(await traced(reefer.body.trace_id)).toEqual({ events: ["tms_admin.equipment_type.upserted"], audit: ["tms_admin_equipment_types.insert"] });

    const lane = await act("tms_admin", "lane_upsert", { name: "Chicago - Dallas reefer", origin_region: "IL", destination_region: "TX", equipment_type: "reefer", miles: 925 }, ops, t.id);
    expect(lane.status, JSON.stringify(lane.body)).toBe(200);
    expect(lane.body.data.lane).toMatchObject({ equipment_type: "reefer", miles: 925, active: true });
    expect(await traced(lane.body.trace_id)).toEqual({ events: ["freight.lane.upserted"], audit: ["lanes.insert"] });
    const [ev] = await sql`select payload from outbox_events where trace_id = ${lane.body.trace_id}`;
    expect(ev.payload).toMatchObject({ lane_id: lane.body.data.lane.id, source_portal: "tms_admin" });

    // flatbed is not in this tenant's catalogue: refused in Postgres, nothing written
    await expectProblem(await act("tms_admin", "lane_upsert", { name: "Flat lane", origin_region: "CO", destination_region: "AZ", equipment_type: "flatbed" }, admin, t.id),
      422, "equipment_type_inactive");
    expect((await sql`select count(*)::int as n from lanes where tenant_id = ${t.id} and name = 'Flat lane'`)[0].n).toBe(0);
    // the reefer lane keeps reefer active
    await expectProblem(await act("tms_admin", "equipment_type_upsert", { code: "reefer", name: "53 ft reefer", active: false }, admin, t.id), 409, "equipment_type_in_use");
    // retire the lane, then the type may go
    expect((await act("tms_admin", "lane_upsert", { name: "Chicago - Dallas reefer", origin_region: "IL", destination_region: "TX", equipment_type: "reefer", active: false }, admin, t.id)).status).toBe(200);
    const off = await act("tms_admin", "equipment_type_upsert", { code: "reefer", name: "53 ft reefer", active: false }, admin, t.id);
    expect(off.body.data).toMatchObject({ created: false, equipment_type: { active: false } });
  });

  it("the accessorial catalogue is integer cents: a float is a 400, an update keeps the entry's id", async () => {
    await expectProblem(await act("tms_admin", "accessorial_upsert", { code: "DETENTION", name: "Detention", unit: "hour", default_rate_cents: 75.5 }, admin, t.id), 400, "validation_failed");
    const a = await act("tms_admin", "accessorial_upsert", { code: "DETENTION", name: "Detention after 2 h", unit: "hour", default_rate_cents: 7500 }, admin, t.id);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const b = await act("tms_admin", "accessorial_upsert", { code: "DETENTION", name: "Detention after 2 h", unit: "hour", default_rate_cents: 8000 }, ops, t.id);
    expect(b.body.data).toMatchObject({ created: false, accessorial: { id: a.body.data.accessorial.id, default_rate_cents: 8000, currency: "USD" } });
    expect(await traced(b.body.trace_id)).toEqual({ events: ["freight.accessorial.upserted"], audit: ["accessorials.update"] });
    const [row] = await sql`select default_rate_cents from accessorials where id = ${a.body.data.accessorial.id}`;
    expect(Number(row.default_rate_cents)).toBe(8000);
  });
});

describe("pricing guards (Rates' rates_guards)", () => {
  const quote = () => act("rates", "price_one", { origin: "60601", destination: "75201", equipment: "van", pickup_date: day(3) }, t.dispatcher, t.id);

  it("a guard set here flags Rates' next quote; edits are audited before/after under their trace; delete undoes it", async () => {
    const before = await quote();
    expect(before.status, JSON.stringify(before.body)).toBe(200);
    expect(before.body.data.status).toBe("priced");
    const ceiling = Math.round(before.body.data.total * 100) - 100; // one dollar under the quote
    const g = await act("tms_admin", "guard_upsert", { label: "606-752 van ceiling", equipment: "van", origin: "606", destination: "752", ceiling_total_cents: ceiling }, admin, t.id);
    expect(g.status, JSON.stringify(g.body)).toBe(200);
    expect(g.body.data.guard).toMatchObject({ ceiling_total_cents: ceiling, floor_total_cents: null });
    const [stored] = await sql`select ceiling_total::text from rates_guards where id = ${g.body.data.guard.id}`;
    expect(stored.ceiling_total).toBe((ceiling / 100).toFixed(2));
    expect(await traced(g.body.trace_id)).toEqual({ events: ["tms_admin.guard.upserted"], audit: ["rates_guards.insert"] });

    const after = await quote();
    expect(after.body.data.status).toBe("needs_approval");
    expect(JSON.stringify(after.body.data.quote)).toContain("ceiling_total");

    // an edit: the audit row keeps before and after
    const e = await act("tms_admin", "guard_upsert", { id: g.body.data.guard.id, label: "606-752 van ceiling", equipment: "van", origin: "606", destination: "752", ceiling_total_cents: ceiling + 100_000 }, ops, t.id);
    expect(e.body.data.created).toBe(false);
    const [audit] = await sql`select before ->> 'ceiling_total' as old, after ->> 'ceiling_total' as new from audit_log where trace_id = ${e.body.trace_id}`;
    expect([Number(audit.old), Number(audit.new)]).toEqual([ceiling / 100, (ceiling + 100_000) / 100]);
    expect((await quote()).body.data.status).toBe("priced");

    const d = await act("tms_admin", "guard_delete", { id: g.body.data.guard.id }, admin, t.id);
    expect(d.status).toBe(200);
    expect(await traced(d.body.trace_id)).toEqual({ events: ["tms_admin.guard.deleted"], audit: ["rates_guards.delete"] });
    await expectProblem(await act("tms_admin", "guard_delete", { id: g.body.data.guard.id }, admin, t.id), 404, "not_found");
  });

  it("refuses a floor above its ceiling, a guard without limits, a float and another tenant's guard", async () => {
    await expectProblem(await act("tms_admin", "guard_upsert", { label: "bad", floor_total_cents: 2000, ceiling_total_cents: 1000 }, admin, t.id), 400, "validation_failed");
    await expectProblem(await act("tms_admin", "guard_upsert", { label: "empty" }, admin, t.id), 400, "validation_failed");
    await expectProblem(await act("tms_admin", "guard_upsert", { label: "float", floor_total_cents: 10.5 }, admin, t.id), 400, "validation_failed");
    const [demo] = await sql`select id from rates_guards where tenant_id = 'd0000000-0000-4000-8000-000000000001' limit 1`;
    await expectProblem(await act("tms_admin", "guard_upsert", { id: demo.id, label: "steal", min_margin_pct: 1 }, admin, t.id), 404, "not_found");
    await expectProblem(await act("tms_admin", "guard_delete", { id: demo.id }, admin, t.id), 404, "not_found");
    expect((await sql`select count(*)::int as n from rates_guards where tenant_id = ${t.id}`)[0].n).toBe(0);
  });
});

describe("EDI partners", () => {
  const partner = (over: Record<string, unknown> = {}) => ({
    party_id: t.shippers.A.id, isa_qualifier: "ZZ", isa_id: "ACMETEST", gs_id: "ACMETEST", our_isa_qualifier: "ZZ",
    our_isa_id: "TMSADMIN", our_gs_id: "TMSADMIN", transaction_sets: ["204", "990", "214"], usage: "test", ...over,
  });

  it("configures a partner (test, then production) with its credentials by Vault name only", async () => {
    const ref = `${t.id}/edi-acme-as2`;
    const secret = `as2-password-${randomUUID()}`;
    await expectProblem(await act("tms_admin", "edi_partner_upsert", partner({ credential_ref: ref }), admin, t.id), 422, "edi_credential_missing");
    await sql`select vault.create_secret(${secret}, ${ref})`;
    const p = await act("tms_admin", "edi_partner_upsert", partner({ credential_ref: ref }), admin, t.id);
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body.data).toMatchObject({ created: true, edi_partner: { usage: "test", transaction_sets: ["204", "990", "214"], credential_ref: ref } });
    expect(await traced(p.body.trace_id)).toEqual({ events: ["tms_admin.edi_partner.upserted"], audit: ["tms_admin_edi_partners.insert"] });
    const prod = await act("tms_admin", "edi_partner_upsert", partner({ credential_ref: ref, usage: "production", transaction_sets: ["204", "990", "214", "210", "997"] }), ops, t.id);
    expect(prod.body.data).toMatchObject({ created: false, edi_partner: { id: p.body.data.edi_partner.id, usage: "production" } });
    // the secret is nowhere: not in the row, the answer, the events or the audit
    const leaks = await sql`
      select (select count(*)::int from tms_admin_edi_partners e where to_jsonb(e)::text like ${`%${secret}%`}) +
             (select count(*)::int from outbox_events o where o.tenant_id = ${t.id} and o.payload::text like ${`%${secret}%`}) +
             (select count(*)::int from audit_log a where a.tenant_id = ${t.id} and (a.before::text like ${`%${secret}%`} or a.after::text like ${`%${secret}%`})) as n`;
    expect(leaks[0].n).toBe(0);
    expect(JSON.stringify([p.body, prod.body])).not.toContain(secret);
  });

  it("refuses a plain secret as credential_ref, a factor party, a taken interchange id and bad X12 ids, writing nothing", async () => {
    await expectProblem(await act("tms_admin", "edi_partner_upsert", partner({ party_id: t.shippers.B.id, isa_id: "OTHER", credential_ref: "hunter2-hunter2-hunter2-hunter2-hunter2-x" }), admin, t.id), 400, "validation_failed");
    const [factor] = await sql`insert into parties (tenant_id, kind, name) values (${t.id}, 'factor', 'Test Factor') returning id`;
    await expectProblem(await act("tms_admin", "edi_partner_upsert", partner({ party_id: factor.id, isa_id: "FACTOR" }), admin, t.id), 422, "edi_partner_not_eligible");
    await expectProblem(await act("tms_admin", "edi_partner_upsert", partner({ party_id: t.shippers.B.id }), admin, t.id), 409, "edi_interchange_taken");
    await expectProblem(await act("tms_admin", "edi_partner_upsert", partner({ party_id: t.shippers.B.id, isa_id: "lower case" }), admin, t.id), 400, "validation_failed");
    await expectProblem(await act("tms_admin", "edi_partner_upsert", partner({ party_id: t.shippers.B.id, isa_id: "X", transaction_sets: ["204", "204"] }), admin, t.id), 400, "validation_failed");
    expect((await sql`select count(*)::int as n from tms_admin_edi_partners where tenant_id = ${t.id} and party_id <> ${t.shippers.A.id}`)[0].n).toBe(0);
  });
});

describe("SLA policy", () => {
  it("sets freight.tenderSlaMinutes for the tenant (audited with the reason); the broker's next tender is due by it", async () => {
    const s = await act("tms_admin", "sla_set", { key: "freight.tenderSlaMinutes", value: 45, reason: "carriers asked for more time" }, admin, t.id);
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    expect(s.body.data.policy).toMatchObject({ key: "freight.tenderSlaMinutes", value: 45, scope: `tenant:${t.id}`, min: 1, max: 10080 });
    const tr = await traced(s.body.trace_id);
    expect(tr.events).toEqual(["tms_admin.sla_policy.changed"]);
    expect(tr.audit.length).toBeGreaterThan(0);
    const [hist] = await sql`select new_value, reason from feature_flag_history where key = 'freight.tenderSlaMinutes' and scope = ${`tenant:${t.id}`} order by changed_at desc limit 1`;
    expect(hist).toMatchObject({ new_value: "45", reason: "carriers asked for more time" });

    const load = await openLoad(t, day(2));
    const r = await act("broker", "tender", { load_id: load, carrier_party_id: t.carriers.X.id, rate_cents: 150000 }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const [td] = await sql`select extract(epoch from sla_deadline - offered_at)::int as s from tenders where id = ${r.body.data.tender_id}`;
    expect(td.s).toBe(45 * 60);
  });

  it("checks the bounds in Postgres (each flag's own), and a float, leaving the value as it was", async () => {
    for (const [key, value] of [["freight.tenderSlaMinutes", 0], ["broker.checkCallMinutes", 4], ["broker.appointmentRiskMinutes", 2881]] as const) {
      const r = await act("tms_admin", "sla_set", { key, value, reason: "out of bounds" }, ops, t.id);
      await expectProblem(r, 400, "validation_failed", key);
      expect(r.body.rail).toBe("bad_flag_value");
    }
    await expectProblem(await act("tms_admin", "sla_set", { key: "broker.checkCallMinutes", value: 30.5, reason: "float" }, ops, t.id), 400, "validation_failed");
    await expectProblem(await act("tms_admin", "sla_set", { key: "rates.indexStaleDays", value: 3, reason: "not policy" }, ops, t.id), 400, "validation_failed");
    const ok = await act("tms_admin", "sla_set", { key: "broker.checkCallMinutes", value: 5, reason: "lower bound" }, ops, t.id);
    expect(ok.body.data.policy).toMatchObject({ value: 5, min: 5, max: 1440 });
    const rows = await sql`select key, value from feature_flags_v2 where scope = ${`tenant:${t.id}`} order by key`;
    expect(rows.map((r) => [r.key, r.value])).toEqual([["broker.checkCallMinutes", "5"], ["freight.tenderSlaMinutes", "45"]]);
  });
});

describe("who may", () => {
  it("refuses the dispatcher and outside users every write; reads are the caller's tenant only", async () => {
    const writes: [string, unknown][] = [
      ["equipment_type_upsert", { code: "tanker", name: "Tanker" }],
      ["lane_upsert", { name: "Nope", origin_region: "IL", destination_region: "TX", equipment_type: "van" }],
      ["accessorial_upsert", { code: "LUMPER", name: "Lumper", default_rate_cents: 100 }],
      ["guard_upsert", { label: "nope", min_margin_pct: 5 }],
      ["sla_set", { key: "broker.checkCallMinutes", value: 60, reason: "nope" }],
    ];
    for (const [action, body] of writes) {
      for (const who of [t.dispatcher, t.carriers.X.user, t.shippers.A.user]) await expectProblem(await act("tms_admin", action, body, who, t.id), 403, "forbidden", action);
    }
    const s = await act("tms_admin", "settings", {}, admin, t.id);
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    expect(s.body.data.equipment_types.map((e: { code: string }) => e.code)).toEqual(["reefer", "van"]);
    expect(s.body.data.accessorials.map((a: { code: string }) => a.code)).toEqual(["DETENTION", "TONU"]);
    expect(s.body.data.edi_partners.map((p: { isa_id: string }) => p.isa_id)).toEqual(["ACMETEST"]);
    // the tenant's own values, and the default for the one it never set
    expect(s.body.data.sla_policy.map((p: { key: string; scope: string }) => [p.key, p.scope === `tenant:${t.id}`])).toEqual([
      ["broker.appointmentRiskMinutes", false], ["broker.checkCallMinutes", true], ["freight.tenderSlaMinutes", true],
    ]);
    const only = await act("tms_admin", "settings", { section: "edi_partners" }, ops, t.id);
    expect([only.body.data.edi_partners.length, only.body.data.lanes.length]).toEqual([1, 0]);
    // the demo tenant's settings (its seeds) never show here
    expect(JSON.stringify(s.body.data)).not.toContain("ACMEFOODS");
    await expectProblem(await act("tms_admin", "settings", {}, t.carriers.X.user, t.id), 403, "forbidden");
  });
});
