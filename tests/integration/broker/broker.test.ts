/**
 * The Broker portal's other doors over HTTP: routing refusals (overlapping windows, a
 * tendered load) and windows across a DST change; cancel before dispatch and TONU after it
 * (charge lines each party reads only on its own side); messages to the shipper and the
 * carrier (each reads only its own, the events carry no text); SLA timers as data; and a
 * shipper's booking over its credit limit (credit_hold).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../helpers/db.ts";
import { act, asUser, day, type FreightTenant, freightTenant, openLoad, stopsFor } from "../../helpers/freight.ts";
import { expectProblem } from "../../helpers/http.ts";

let t: FreightTenant;

beforeAll(async () => {
  t = await freightTenant("broker");
});
afterAll(async () => {
  await sql.end();
});

/** A load covered by carrier X and, when asked, dispatched with its driver and units. */
async function coveredLoad(dispatch: boolean): Promise<{ load: string; tender: string }> {
  const X = t.carriers.X;
  const load = await openLoad(t, day(2));
  const r = await act("broker", "tender", { load_id: load, carrier_party_id: X.id, rate_cents: 140000 }, t.dispatcher, t.id);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  await asUser(X.user, t.id, (tx) => tx`select app_private.freight_tender_accept(${r.body.data.tender_id})`);
  if (dispatch) await asUser(X.user, t.id, (tx) => tx`select app_private.freight_load_dispatch(${load}, ${X.driver}, ${X.tractor}, ${X.trailer})`);
  return { load, tender: r.body.data.tender_id };
}
const lines = async (user: string, load: string) =>
  ((await asUser(user, t.id, (tx) => tx`select side, description, amount_cents::int as cents from public.charge_lines where load_id = ${load} and kind = 'accessorial'`, "broker")).result as unknown as { side: string; description: string; cents: number }[]);

describe("route", () => {
  it("places windows in the facility's zone on both sides of a DST change (US: 2027-03-14)", async () => {
    const load = await openLoad(t, day(2));
    const stops = [
      { kind: "pickup", facility_id: t.origin, window_start_local: "2027-03-13T08:00", window_end_local: "2027-03-13T10:00" },
      { kind: "delivery", facility_id: t.destination, window_start_local: "2027-03-15T08:00", window_end_local: "2027-03-15T10:00" },
    ];
    const r = await act("broker", "route", { load_id: load, stops }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    // 08:00 CST is 14:00 UTC, 08:00 CDT is 13:00 UTC: the wall-clock times are kept
    expect(r.body.data.stops.map((s: { window_start: string }) => new Date(s.window_start).toISOString()))
      .toEqual(["2027-03-13T14:00:00.000Z", "2027-03-15T13:00:00.000Z"]);
  });

  it("refuses overlapping windows and a tendered load, each with its code, leaving the stops as they were", async () => {
    const load = await openLoad(t, day(2));
    const overlap = stopsFor(t, day(2)).map((s, i) => (i === 1 ? { ...s, window_start_local: `${day(2)}T09:00` , window_end_local: `${day(2)}T12:00` } : s));
    await expectProblem(await act("broker", "route", { load_id: load, stops: overlap }, t.dispatcher, t.id), 422, "stop_window_overlap");
    expect((await sql`select count(*)::int as n from stops where load_id = ${load}`)[0].n).toBe(2);
    await act("broker", "tender", { load_id: load, carrier_party_id: t.carriers.Y.id, rate_cents: 100000 }, t.dispatcher, t.id);
    await expectProblem(await act("broker", "route", { load_id: load, stops: stopsFor(t, day(3)) }, t.dispatcher, t.id), 409, "route_locked");
    // a float amount is a 400
    await expectProblem(await act("broker", "tender", { load_id: load, carrier_party_id: t.carriers.Z.id, rate_cents: 1000.5 }, t.dispatcher, t.id), 400, "validation_failed");
  });
});

describe("cancel", () => {
  it("before dispatch: cancelled, its accepted tender withdrawn, no TONU", async () => {
    const { load, tender } = await coveredLoad(false);
    const r = await act("broker", "cancel", { load_id: load, reason: "customer cancelled" }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ from: "covered", status: "cancelled", charge_lines: [] });
    expect((await sql`select status from tenders where id = ${tender}`)[0].status).toBe("cancelled");
    const events = await sql`select event_type from outbox_events where trace_id = ${r.body.trace_id}`;
    expect(events.map((e) => e.event_type)).toEqual(expect.arrayContaining(["freight.tender.cancelled", "freight.load.cancelled"]));
  });

  it("after dispatch: tonu with a TONU line to the carrier (catalogue rate) and one billed to the shipper; each side reads its own", async () => {
    const { load } = await coveredLoad(true);
    const r = await act("broker", "cancel", { load_id: load, reason: "shipper not ready", bill_shipper_cents: 30000 }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ from: "dispatched", status: "tonu" });
    expect(await lines(t.carriers.X.user, load)).toEqual([{ side: "buy", description: "TONU", cents: 25000 }]);
    expect(await lines(t.shippers.A.user, load)).toEqual([{ side: "sell", description: "TONU", cents: 30000 }]);
    expect(await lines(t.carriers.Y.user, load)).toEqual([]);
    // terminal: nothing cancels it again
    await expectProblem(await act("broker", "cancel", { load_id: load, reason: "again" }, t.dispatcher, t.id), 409, "illegal_transition");
  });
});

describe("messages and SLA timers", () => {
  it("a message to both sides: each reads its own row, the events name recipients and never the text", async () => {
    const { load } = await coveredLoad(false);
    const r = await act("broker", "message", { load_id: load, to: ["shipper", "carrier"], body: "Dock 4, call Ana at 555-0100" }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const seen = async (user: string) =>
      ((await asUser(user, t.id, (tx) => tx`select audience from public.load_messages where load_id = ${load}`)).result as unknown as { audience: string }[]).map((m) => m.audience);
    expect(await seen(t.shippers.A.user)).toEqual(["shipper"]);
    expect(await seen(t.carriers.X.user)).toEqual(["carrier"]);
    expect(await seen(t.carriers.Y.user)).toEqual([]);
    const events = await sql`select payload from outbox_events where trace_id = ${r.body.trace_id} and event_type = 'freight.message.sent'`;
    expect(events.length).toBe(2);
    expect(JSON.stringify(events)).not.toMatch(/Dock 4|555-0100|Ana/);
  });

  it("SLA timers as data: the tender's response timer is met by the acceptance; the appointments run", async () => {
    const { load, tender } = await coveredLoad(false);
    const r = await act("broker", "sla_timers", { load_id: load }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const byKind = Object.fromEntries(r.body.data.timers.map((x: { kind: string; state: string }) => [x.kind, x]));
    expect(byKind.tender_response).toMatchObject({ tender_id: tender, state: "met" });
    expect(byKind.pickup_appointment.state).toBe("running");
    expect(byKind.delivery_appointment.state).toBe("running");
    const sc = await act("broker", "scorecard", {}, t.dispatcher, t.id);
    expect(sc.body.data.carriers[0].carrier_party_id).toBe(t.carriers.X.id);
  });
});

describe("shipper booking limits", () => {
  it("a booking over the customer's credit limit is credit_hold, and nothing is written", async () => {
    await sql`update parties set credit_limit_cents = 1000 where id = ${t.shippers.B.id}`;
    const q = await act("rates", "price_one", { origin: "60607", destination: "75202", equipment: "van", pickup_date: day(3) }, t.shippers.B.user, t.id);
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    const before = (await sql`select count(*)::int as n from orders where tenant_id = ${t.id}`)[0].n;
    await expectProblem(await act("shipper", "book", { quote_id: q.body.data.quote_id, stops: stopsFor(t, day(3)) }, t.shippers.B.user, t.id), 422, "credit_hold");
    // another customer's quote is not this one's
    await expectProblem(await act("shipper", "book", { quote_id: q.body.data.quote_id, stops: stopsFor(t, day(3)) }, t.shippers.A.user, t.id), 403, "forbidden");
    // a quote prices its pickup day only
    await sql`update parties set credit_limit_cents = null where id = ${t.shippers.B.id}`;
    await expectProblem(await act("shipper", "book", { quote_id: q.body.data.quote_id, stops: stopsFor(t, day(5)) }, t.shippers.B.user, t.id), 422, "quote_not_bookable");
    expect((await sql`select count(*)::int as n from orders where tenant_id = ${t.id}`)[0].n).toBe(before);
  });
});
