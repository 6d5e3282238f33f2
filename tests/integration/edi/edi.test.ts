import { readFileSync } from "node:fs";
import { X12Parser } from "node-x12";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { machineKey, signedPost } from "../../helpers/auth.ts";
import { sql } from "../../helpers/db.ts";
import { fnUrl } from "../../helpers/env.ts";
import { asUser, type FreightTenant, freightTenant } from "../../helpers/freight.ts";
import { readResult } from "../../helpers/http.ts";

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/edi/${name}`, import.meta.url), "utf8");
let t: FreightTenant;
let key: { keyId: string; signingKey: string };
let shipperPartner: string;
let carrierPartner: string;

const receive = async (interchange: string) => {
  const r = await readResult(await signedPost(`${fnUrl("edi/receive")}?tenant=${t.id}`, { interchange }, key));
  if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(r.body)}`);
  return r.body.data;
};
const strict = (text: string) => new X12Parser(true).parse(text) as any;
const segs = (text: string, tag: string) => text.split("\n").filter((l) => l.startsWith(`${tag}*`)).map((l) => l.replace(/~$/, "").split("*").slice(1));
/** The fixture with its shipment id (and ISA13 / GS06) made this run's own. */
const with204 = (shipment: string, isa = 4711) => fixture("204-multistop.edi").replaceAll("SH-4711-001", shipment)
  .replaceAll("000004711", String(isa).padStart(9, "0"));

beforeAll(async () => {
  t = await freightTenant("edi");
  await sql`insert into facilities (tenant_id, name, address_line, city, region, postal_code, time_zone)
            values (${t.id}, 'Test Joliet DC', '2500 Channahon Rd', 'Joliet', 'IL', '60436', 'America/Chicago')`;
  const partner = async (party: string, id: string, sets: string[]) =>
    (await sql`insert into tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id, transaction_sets, ack_window_minutes)
               values (${t.id}, ${party}, 'ZZ', ${id}, ${id}, 'ZZ', 'SWITCHYARD', 'SWITCHYARD', ${sets}, 30) returning id`)[0].id as string;
  shipperPartner = await partner(t.shippers.A.id, "ACMETESTFOODS", ["204", "990", "214", "997"]);
  carrierPartner = await partner(t.carriers.X.id, "XPRESSLINES", ["214", "990", "997"]);
  key = await machineKey(sql, "n8n", [t.id]);
});
afterAll(() => sql.end());

describe("EDI inbound", () => {
  let loadId: string;
  let loadRef: string;

  it("a multi-stop 204 books order + load + stops; the 997 and the 990 parse back and match the rows; the mailbox gives them once", async () => {
    const r = await receive(with204("SH-RT-1"));
    expect(r.state).toBe("applied");
    expect(r.sets).toMatchObject([{ set_id: "204", state: "applied", ack: "A" }]);
    loadId = r.sets[0].load_id;
    const [load] = await sql`select l.reference, l.status, l.weight_lbs, l.equipment_type, l.shipper_party_id, o.customer_reference,
                                    (select sum(amount_cents)::int from charge_lines c where c.load_id = l.id and c.side = 'sell') as sell
                             from loads l join orders o on o.id = l.order_id where l.id = ${loadId}`;
    expect(load).toMatchObject({ status: "open", weight_lbs: 42000, equipment_type: "van", shipper_party_id: t.shippers.A.id, customer_reference: "PO-88123", sell: 185000 });
    loadRef = load.reference;
    const stops = await sql`select s.sequence, s.kind, f.name, to_char(lower(s.appointment) at time zone f.time_zone, 'YYYY-MM-DD HH24:MI') as opens
                            from stops s join facilities f on f.id = s.facility_id where s.load_id = ${loadId} order by s.sequence`;
    expect(stops.map((s) => [s.sequence, s.kind, s.name, s.opens])).toEqual([
      [1, "pickup", "Test DC Chicago", "2027-01-12 08:00"], [2, "pickup", "Test Joliet DC", "2027-01-12 14:00"], [3, "delivery", "Test Dallas", "2027-01-14 13:00"]]);

    // the 997: strict parse, addressed back, AK1 = the 204 group, AK5 A
    const ack = strict(r.ack);
    expect([ack.header.valueOf(6).trim(), ack.header.valueOf(8).trim(), ack.functionalGroups[0].header.valueOf(1)]).toEqual(["SWITCHYARD", "ACMETESTFOODS", "FA"]);
    expect(segs(r.ack, "AK1")).toEqual([["SM", "4711"]]);
    expect(segs(r.ack, "AK5")).toEqual([["A"]]);
    expect(segs(r.ack, "AK9")).toEqual([["A", "1", "1", "1"]]);

    // the mailbox: the 997 and the 990 (B102 = their shipment id, N9 CN = our load), each once
    const mb = await readResult(await signedPost(`${fnUrl("edi/mailbox")}?tenant=${t.id}`, { partner_id: shipperPartner }, key));
    expect(mb.status).toBe(200);
    const files = mb.body.data.files as { functional_id: string; raw: string; control_number: string }[];
    expect(files.map((f) => f.functional_id)).toEqual(["FA", "GF"]);
    const reply = files[1].raw;
    expect(strict(reply).functionalGroups[0].transactions[0].header.valueOf(1)).toBe("990");
    expect(segs(reply, "B1")[0].slice(1, 4).filter((_, i) => i !== 1)).toEqual(["SH-RT-1", "A"]);
    expect(segs(reply, "N9")).toEqual([["CN", loadRef]]);
    // gap-free per partner: ISA13 1 then 2
    expect(files.map((f) => f.control_number)).toEqual(["000000001", "000000002"]);
    const again = await readResult(await signedPost(`${fnUrl("edi/mailbox")}?tenant=${t.id}`, { partner_id: shipperPartner }, key));
    expect(again.body.data.files).toEqual([]);
  });

  it("the same bytes again, the same ISA13, and a resend under a new ISA13: duplicate, one load booked", async () => {
    const count = async () => (await sql`select count(*)::int as n from orders where tenant_id = ${t.id} and customer_reference = 'PO-88123'`)[0].n;
    const before = await count();
    const bytes = await receive(with204("SH-RT-1"));
    expect(bytes).toMatchObject({ state: "duplicate" });
    expect(bytes.duplicate_of).not.toBeNull();
    const resend = await receive(with204("SH-RT-1", 4799));
    expect(resend.state).toBe("duplicate");
    expect(resend.sets).toMatchObject([{ set_id: "204", state: "duplicate", ack: "A" }]);
    expect(await count()).toBe(before);
    const stored = await sql`select state from edi_interchanges where tenant_id = ${t.id} and direction = 'in' order by created_at`;
    expect(stored.map((s) => s.state)).toEqual(["applied", "duplicate", "duplicate"]);
  });

  it("a 214 with several AT7 codes drives the covered load through the state machine; for an unknown load: 997 R, nothing applied", async () => {
    await asUser(t.dispatcher, t.id, (tx) => tx`select app_private.freight_tender_offer(${loadId}, ${t.carriers.X.id}, 150000)`, "broker");
    const [tender] = await sql`select id from tenders where load_id = ${loadId} and status = 'offered'`;
    await asUser(t.carriers.X.user, t.id, (tx) => tx`select app_private.freight_tender_accept(${tender.id})`);
    await asUser(t.carriers.X.user, t.id, (tx) => tx`select app_private.freight_load_dispatch(${loadId}, ${t.carriers.X.driver}, ${t.carriers.X.tractor}, ${t.carriers.X.trailer})`);
    const trip = fixture("214-trip.edi").replaceAll("SH-4711-001", loadRef);
    const r = await receive(trip);
    expect(r.state).toBe("applied");
    expect(r.sets.map((s: any) => [s.control, s.state, s.ack])).toEqual([["3210", "applied", "A"], ["3211", "applied", "A"]]);
    const events = await sql`select status_code, to_char(occurred_at at time zone 'America/Chicago', 'HH24:MI') as at from load_events
                             where load_id = ${loadId} and source = 'edi' order by occurred_at`;
    expect(events.map((e) => `${e.status_code}@${e.at}`)).toEqual(["X3@08:12", "CP@09:05", "AF@09:15", "X1@13:22", "D1@14:10"]);
    expect((await sql`select status from loads where id = ${loadId}`)[0].status).toBe("delivered");
    expect((await sql`select distinct partner_id from edi_transactions where interchange_id = ${r.interchange_id}`).map((x) => x.partner_id)).toEqual([carrierPartner]);

    const unknown = await receive(fixture("214-trip.edi").replaceAll("SH-4711-001", "NO-SUCH-LOAD").replaceAll("321", "322"));
    expect(unknown.state).toBe("rejected");
    expect(segs(unknown.ack, "AK3")[0]).toEqual(["B10", "2", "", "8"]);
    expect(segs(unknown.ack, "AK4")[0]).toEqual(["2", "145", "7", "NO-SUCH-LOAD"]);
    expect(segs(unknown.ack, "AK9")).toEqual([["R", "2", "2", "0"]]);
    const [row] = await sql`select errors from edi_transactions where interchange_id = ${unknown.interchange_id} order by control_number limit 1`;
    expect(row.errors[0]).toMatchObject({ code: "edi_shipment_unknown", locator: "shipment" });
  });

  it("broken envelopes and an unknown partner: stored, rejected with a readable reason, nothing booked", async () => {
    const orders = async () => (await sql`select count(*)::int as n from orders where tenant_id = ${t.id}`)[0].n;
    const before = await orders();
    const ieaMismatch = await receive(with204("SH-BAD-1", 5001).replace("IEA*1*000005001", "IEA*1*000005002"));
    expect(ieaMismatch).toMatchObject({ state: "rejected", rejection: { code: "001" } });
    const unknown = await receive(with204("SH-BAD-2", 5003).replaceAll("ACMETESTFOODS  ", "NOBODY         "));
    expect(unknown).toMatchObject({ state: "rejected", rejection: { code: "006" } });
    const count = await receive(with204("SH-BAD-3", 5004).replace("SE*27*0001", "SE*25*0001"));
    expect(count.state).toBe("rejected");
    expect(segs(count.ack, "AK5")).toEqual([["R", "4"]]);
    const errors = await receive(fixture("204-three-errors.edi"));
    expect(segs(errors.ack, "AK4")).toEqual([["4", "145", "1"], ["2", "163", "7", "ZZ"], ["2", "373", "8", "20270230"]]);
    expect(await orders()).toBe(before);
    const stored = await sql`select state, errors from edi_interchanges where id = any(${[ieaMismatch.interchange_id, unknown.interchange_id]}::uuid[]) order by created_at`;
    expect(stored[0]).toMatchObject({ state: "rejected", errors: { envelope: { code: "001" } } });
    expect(stored[1].errors.reason).toMatch(/no active trading partner ZZ\/NOBODY/);
  });
});
