/**
 * The Carrier portal's other doors over HTTP: counter (positive cents; back to the broker,
 * whose broker/book covers at the counter) and decline; dispatch refusals enforced in
 * Postgres (another carrier's driver or unit, a blocked unit, expired driver documents, a
 * load not covered); capacity by lane and day; compliance with an insurance certificate
 * uploaded through the documents function and referenced by id; the scorecard, its own
 * only; and a tender to a blocked (suspended) carrier refused from the broker's door.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userJwt } from "../../helpers/auth.ts";
import { sql } from "../../helpers/db.ts";
import { fnUrl } from "../../helpers/env.ts";
import { act, day, type FreightTenant, freightTenant, openLoad } from "../../helpers/freight.ts";
import { expectProblem, readResult } from "../../helpers/http.ts";

let t: FreightTenant;

beforeAll(async () => {
  t = await freightTenant("carrier");
});
afterAll(async () => {
  await sql.end();
});

/** A load tendered by the dispatcher to carrier `c` (and, when asked, accepted by it over HTTP). */
async function tendered(c: "X" | "Y" | "Z", accept = false): Promise<{ load: string; tender: string }> {
  const load = await openLoad(t, day(2));
  const r = await act("broker", "tender", { load_id: load, carrier_party_id: t.carriers[c].id, rate_cents: 160000 }, t.dispatcher, t.id);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  if (accept) expect((await act("carrier", "accept", { tender_id: r.body.data.tender_id }, t.carriers[c].user, t.id)).status).toBe(200);
  return { load, tender: r.body.data.tender_id };
}

describe("tender answers", () => {
  it("a counter is positive integer cents (0, negative, a float: 400, nothing written); it goes back to the broker, who books it", async () => {
    const { load, tender } = await tendered("X");
    for (const rate_cents of [0, -5, 1700.5]) {
      await expectProblem(await act("carrier", "counter", { tender_id: tender, rate_cents }, t.carriers.X.user, t.id), 400, "validation_failed");
    }
    const r = await act("carrier", "counter", { tender_id: tender, rate_cents: 172500, note: "fuel is up" }, t.carriers.X.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toEqual({ tender_id: tender, status: "countered", counter_rate_cents: 172500 });
    const events = await sql`select event_type, payload from outbox_events where trace_id = ${r.body.trace_id}`;
    expect(events.map((e) => [e.event_type, e.payload.counter_rate_cents, e.payload.source_portal])).toEqual([["freight.tender.countered", 172500, "carrier"]]);
    // the carrier cannot accept its own counter; the broker books it at the counter
    await expectProblem(await act("carrier", "accept", { tender_id: tender }, t.carriers.X.user, t.id), 409, "illegal_transition");
    const listed = await act("carrier", "tenders", {}, t.carriers.X.user, t.id);
    expect(listed.body.data.tenders.find((x: { tender_id: string }) => x.tender_id === tender)).toMatchObject({ status: "countered", counter_rate_cents: 172500 });
    const booked = await act("broker", "book", { tender_id: tender }, t.dispatcher, t.id);
    expect(booked.status, JSON.stringify(booked.body)).toBe(200);
    expect(booked.body.data).toMatchObject({ rate_cents: 172500, load_status: "covered" });
    expect((await sql`select amount_cents::int as c from charge_lines where load_id = ${load} and side = 'buy'`).map((l) => l.c)).toEqual([172500]);
  });

  it("decline: the load reopens; a declined tender cannot be accepted after", async () => {
    const { load, tender } = await tendered("Z");
    const r = await act("carrier", "decline", { tender_id: tender, reason: "no truck that day" }, t.carriers.Z.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toEqual({ tender_id: tender, status: "declined" });
    expect((await sql`select status from loads where id = ${load}`)[0].status).toBe("open");
    const again = await expectProblem(await act("carrier", "accept", { tender_id: tender }, t.carriers.Z.user, t.id), 409, "illegal_transition");
    expect(again).toMatchObject({ machine: "tender", from: "declined", to: "accepted" });
  });
});

describe("dispatch is refused in Postgres, each with its code, nothing written", () => {
  it("another carrier's driver or unit, a blocked unit, expired driver documents, a load not covered", async () => {
    const { X, Y } = t.carriers;
    const { load } = await tendered("X", true);
    const go = (body: Record<string, string>) => act("carrier", "dispatch", { load_id: load, driver_id: X.driver, tractor_id: X.tractor, ...body }, X.user, t.id);
    expect(await expectProblem(await go({ driver_id: Y.driver }), 422, "foreign_asset")).toMatchObject({ detail: expect.stringContaining("drives for another carrier") });
    await expectProblem(await go({ tractor_id: Y.tractor }), 422, "foreign_asset");
    await expectProblem(await go({ trailer_id: Y.trailer }), 422, "foreign_asset");
    const [blocked] = await sql`insert into equipment (tenant_id, carrier_party_id, unit_number, kind, status) values (${t.id}, ${X.id}, 'T-BLK', 'tractor', 'blocked') returning id`;
    await expectProblem(await go({ tractor_id: blocked.id }), 422, "asset_blocked");
    const [expired] = await sql`insert into drivers (tenant_id, carrier_party_id, name, cdl_expires_on, medical_card_expires_on)
                                values (${t.id}, ${X.id}, 'Expired driver', current_date + 400, current_date - 1) returning id`;
    await expectProblem(await go({ driver_id: expired.id }), 422, "driver_documents_expired");
    // another carrier's user cannot dispatch X's load
    await expectProblem(await act("carrier", "dispatch", { load_id: load, driver_id: Y.driver, tractor_id: Y.tractor }, Y.user, t.id), 403, "forbidden");
    expect((await sql`select status, driver_id from loads where id = ${load}`)[0]).toEqual({ status: "covered", driver_id: null });
    // a load only tendered (not covered) is not dispatched
    const { load: open } = await tendered("X");
    await expectProblem(await act("carrier", "dispatch", { load_id: open, driver_id: X.driver, tractor_id: X.tractor }, X.user, t.id), 403, "forbidden");
  });
});

describe("capacity and contract lanes", () => {
  it("sets trucks by lane and day (0 removes), lists its own only, refuses a day in the past", async () => {
    const body = { origin_region: "IL", destination_region: "TX", equipment_type: "van", available_on: day(1), trucks: 4 };
    const r = await act("carrier", "capacity_set", body, t.carriers.X.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ ...body, carrier_party_id: t.carriers.X.id });
    const [e] = await sql`select event_type, payload from outbox_events where trace_id = ${r.body.trace_id}`;
    expect(e.event_type).toBe("carrier.capacity.updated");
    expect(Object.keys(e.payload).sort()).toEqual(["available_on", "capacity_id", "carrier_party_id", "destination_region", "equipment_type", "origin_region", "source_portal", "trucks"]);
    expect((await act("carrier", "capacity_set", { ...body, trucks: 2 }, t.carriers.X.user, t.id)).body.data.trucks).toBe(2);
    const mine = await act("carrier", "capacity", {}, t.carriers.X.user, t.id);
    expect(mine.body.data.capacity.map((c: { available_on: string; trucks: number }) => [c.available_on, c.trucks])).toEqual([[day(1), 2]]);
    expect((await act("carrier", "capacity", {}, t.carriers.Y.user, t.id)).body.data.capacity).toEqual([]);
    // naming another carrier is refused in Postgres
    await expectProblem(await act("carrier", "capacity_set", { ...body, carrier_party_id: t.carriers.Y.id }, t.carriers.X.user, t.id), 403, "forbidden");
    await expectProblem(await act("carrier", "capacity_set", { ...body, available_on: day(-1) }, t.carriers.X.user, t.id), 422, "capacity_date_past");
    expect((await act("carrier", "capacity_set", { ...body, trucks: 0 }, t.carriers.X.user, t.id)).status).toBe(200);
    expect((await act("carrier", "capacity", {}, t.carriers.X.user, t.id)).body.data.capacity).toEqual([]);
  });

  it("contract lanes: each carrier reads its own", async () => {
    await sql`insert into carrier_contract_lanes (tenant_id, carrier_party_id, origin_city, origin_region, destination_city, destination_region, equipment_type, rate_cents, valid_from, valid_to)
              values (${t.id}, ${t.carriers.X.id}, 'Chicago', 'IL', 'Dallas', 'TX', 'van', 185000, current_date - 1, current_date + 90)`;
    const x = await act("carrier", "contract_lanes", {}, t.carriers.X.user, t.id);
    expect(x.body.data.lanes).toEqual([expect.objectContaining({ origin_region: "IL", destination_region: "TX", rate_cents: 185000 })]);
    expect((await act("carrier", "contract_lanes", {}, t.carriers.Y.user, t.id)).body.data.lanes).toEqual([]);
  });
});

describe("compliance", () => {
  const bytes = new TextEncoder().encode("%PDF-1.7 certificate of insurance, cargo, $250,000");
  const sha = createHash("sha256").update(bytes).digest("hex");
  const upload = async (user: string, party: string) => readResult(await fetch(`${fnUrl("documents/upload")}?${new URLSearchParams({ kind: "insurance_certificate", party_id: party, file_name: "coi.pdf" })}`, {
    method: "POST",
    headers: { authorization: `Bearer ${await userJwt(user, { tenant: t.id })}`, "content-type": "application/pdf", "x-content-sha256": sha },
    body: bytes,
  }));

  it("uploads a certificate (documents function) and submits it by id: amount in cents, expiry; compliance shows it", async () => {
    const Z = t.carriers.Z;
    const up = await upload(Z.user, Z.id);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    const doc = up.body.data.document_id;
    const cert = { kind: "cargo", insurer: "Demo Mutual", amount_cents: 25_000_000, effective_on: day(0), expires_on: day(365), document_id: doc };
    const r = await act("carrier", "insurance_submit", cert, Z.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ carrier_party_id: Z.id, kind: "cargo", amount_cents: 25_000_000, expires_on: day(365), document_id: doc });
    const [e] = await sql`select payload from outbox_events where trace_id = ${r.body.trace_id} and event_type = 'freight.insurance.recorded'`;
    expect(JSON.stringify(e.payload)).not.toContain("Demo Mutual");
    const c = await act("carrier", "compliance", {}, Z.user, t.id);
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.data).toMatchObject({ carrier_party_id: Z.id, tenderable: true, authority: { status: "active", allowed_to_operate: true, out_of_service: false } });
    expect(c.body.data.insurance).toContainEqual(expect.objectContaining({ kind: "cargo", amount_cents: 25_000_000, document_id: doc }));
    // the certificate is Z's: Y does not read it, nor Z's compliance
    const y = await expectProblem(await act("carrier", "compliance", { carrier_party_id: Z.id }, t.carriers.Y.user, t.id), 404, "not_found");
    expect(JSON.stringify(y)).not.toContain(doc);
  });

  it("refuses a certificate that is not the carrier's insurance document, a float amount, another carrier's upload", async () => {
    const { Y, Z } = t.carriers;
    const cert = { kind: "auto_liability", amount_cents: 100_000_000, effective_on: day(0), expires_on: day(365) };
    const zDoc = (await upload(Z.user, Z.id)).body.data.document_id;
    await expectProblem(await act("carrier", "insurance_submit", { ...cert, document_id: zDoc }, Y.user, t.id), 422, "insurance_document_invalid");
    await expectProblem(await act("carrier", "insurance_submit", { ...cert, amount_cents: 100.5, document_id: zDoc }, Z.user, t.id), 400, "validation_failed");
    await expectProblem(await act("carrier", "insurance_submit", { ...cert, expires_on: day(-1), document_id: zDoc }, Z.user, t.id), 400, "validation_failed");
    await expectProblem(await upload(Y.user, Z.id), 403, "forbidden");
    expect((await sql`select count(*)::int as n from carrier_insurance where party_id = ${Y.id}`)[0].n).toBe(2);
  });
});

describe("scorecard", () => {
  it("is the carrier's own, computed (X accepted a tender in its history, Y declined one)", async () => {
    const x = await act("carrier", "scorecard", {}, t.carriers.X.user, t.id);
    expect(x.status, JSON.stringify(x.body)).toBe(200);
    expect(x.body.data.scorecard).toMatchObject({ carrier_party_id: t.carriers.X.id, tender_acceptance_pct: expect.any(Number) });
    const y = await act("carrier", "scorecard", {}, t.carriers.Y.user, t.id);
    expect(y.body.data.scorecard.carrier_party_id).toBe(t.carriers.Y.id);
    expect(y.body.data.scorecard.tender_acceptance_pct).toBeLessThan(x.body.data.scorecard.tender_acceptance_pct);
    // naming another carrier: party RLS leaves nothing to compute from
    expect((await act("carrier", "scorecard", { carrier_party_id: t.carriers.X.id }, t.carriers.Y.user, t.id)).body.data.scorecard).toBeNull();
  });
});

describe("a blocked carrier is not tendered, from every door", () => {
  it("the broker's tender and psql (function and raw insert) refuse party_blocked; cleared, it is tendered again", async () => {
    const Y = t.carriers.Y;
    const [b] = await sql`insert into party_blocks (tenant_id, party_id, reason, note) values (${t.id}, ${Y.id}, 'sanctions', 'screening hit') returning id`;
    const load = await openLoad(t, day(3));
    const refused = await expectProblem(await act("broker", "tender", { load_id: load, carrier_party_id: Y.id, rate_cents: 150000 }, t.dispatcher, t.id), 422, "party_blocked");
    expect(refused.reason).toBe("sanctions");
    await expect(sql`insert into tenders (tenant_id, load_id, carrier_party_id, offered_rate_cents, sla_deadline) values (${t.id}, ${load}, ${Y.id}, 150000, now() + interval '1 hour')`)
      .rejects.toMatchObject({ code: "SY105" });
    const c = await act("carrier", "compliance", {}, Y.user, t.id);
    expect(c.body.data).toMatchObject({ tenderable: false, blocks: [expect.objectContaining({ reason: "sanctions", cleared_at: null })] });
    await sql`update party_blocks set cleared_at = now(), clear_reason = 'false positive' where id = ${b.id}`;
    expect((await act("broker", "tender", { load_id: load, carrier_party_id: Y.id, rate_cents: 150000 }, t.dispatcher, t.id)).status).toBe(200);
  });
});
