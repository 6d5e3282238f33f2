/**
 * Order -> covered -> dispatched as the real users, over HTTP where a portal serves it: a
 * shipper user quotes (rates/price_one) and books (shipper/book); a broker user routes and
 * tenders (broker/route, broker/tender: the rate confirmation PDF); the carrier's user
 * accepts and dispatches (the core's functions under its claims: the Carrier portal is
 * another branch's). Every step is one transaction whose outbox events and audit rows carry
 * its trace, and the portal steps are on the Live Feed. Party isolation: the other shipper
 * and the other carriers read nothing of it, and no shipper reads a buy rate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../helpers/db.ts";
import { act, asUser, day, download, type FreightTenant, freightTenant, stopsFor } from "../../helpers/freight.ts";
import { expectProblem } from "../../helpers/http.ts";
import { pdfText } from "../../helpers/pdf.ts";

let t: FreightTenant;
const pickup = day(3);
const traces: Record<string, string> = {};
let quoteId: string;
let loadId: string;
let tenderId: string;
let rateConId: string;

beforeAll(async () => {
  t = await freightTenant("golden");
});
afterAll(async () => {
  await sql.end();
});

/** What a trace left: its outbox event types and audit actions. */
async function traced(trace: string) {
  const events = await sql`select event_type, payload from outbox_events where trace_id = ${trace} order by created_at, event_type`;
  const audit = await sql`select action from audit_log where trace_id = ${trace}`;
  return { events: events.map((e) => e.event_type as string), payloads: events.map((e) => e.payload), audit: audit.map((a) => a.action as string) };
}

describe("the golden path, order -> dispatched", () => {
  it("a shipper user quotes its lane and is answered without the cost side; the quote is its party's", async () => {
    const r = await act("rates", "price_one", { origin: "60607", destination: "75202", equipment: "van", pickup_date: pickup }, t.shippers.A.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    quoteId = r.body.data.quote_id;
    expect(Object.keys(r.body.data.quote).sort()).toEqual(["currency", "destination", "equipment", "fuel", "linehaul", "miles", "origin", "pickup_date", "status", "total"]);
    expect(JSON.stringify(r.body)).not.toMatch(/cost|margin|blend|explanation/);
    const [q] = await sql`select party_id from rates_quotes where id = ${quoteId}`;
    expect(q.party_id).toBe(t.shippers.A.id);
    // naming another customer is refused in Postgres
    const other = await act("rates", "price_one", { origin: "60607", destination: "75202", equipment: "van", pickup_date: pickup, party_id: t.shippers.B.id }, t.shippers.A.user, t.id);
    await expectProblem(other, 403, "forbidden");
  });

  it("the shipper books the quote: order + load + stops at the quote's sell price, open, one transaction", async () => {
    const r = await act("shipper", "book", { quote_id: quoteId, customer_reference: "PO-1", stops: stopsFor(t, pickup) }, t.shippers.A.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    loadId = r.body.data.load_id;
    traces.book = r.body.trace_id;
    expect(r.body.data.status).toBe("open");
    const [q] = await sql`select quote from rates_quotes where id = ${quoteId}`;
    expect(r.body.data.sell_total_cents).toBe(Math.round(q.quote.linehaul.total * 100) + Math.round(q.quote.fuel.total * 100));
    const tr = await traced(traces.book);
    expect(tr.events).toEqual(expect.arrayContaining(["freight.order.booked", "freight.load.opened"]));
    expect(tr.payloads.every((p) => p.source_portal === "shipper")).toBe(true);
    expect(tr.audit).toEqual(expect.arrayContaining(["freight.order.book", "freight.load.transition"]));
    // a quote books once
    await expectProblem(await act("shipper", "book", { quote_id: quoteId, stops: stopsFor(t, pickup) }, t.shippers.A.user, t.id), 422, "quote_not_bookable");
  });

  it("the broker routes the load: windows in facility time, across the stops", async () => {
    const stops = stopsFor(t, pickup).map((s, i) => (i === 0 ? { ...s, window_start_local: `${pickup}T07:00` } : s));
    const r = await act("broker", "route", { load_id: loadId, equipment_type: "van", weight_lbs: 38000, commodity: "Canned goods", stops }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    traces.route = r.body.trace_id;
    expect(r.body.data.stops.map((s: { window_start_local: string }) => s.window_start_local)).toEqual([`${pickup}T07:00:00`, expect.stringMatching(/T13:00:00$/)]);
    expect((await traced(traces.route)).events).toEqual(["freight.load.routed"]);
  });

  it("the broker tenders to carrier X: SLA deadline from the policy, rate confirmation PDF matching rate, stops and carrier", async () => {
    const before = Date.now();
    const r = await act("broker", "tender", { load_id: loadId, carrier_party_id: t.carriers.X.id, rate_cents: 150050 }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    ({ tender_id: tenderId, document_id: rateConId } = r.body.data);
    traces.tender = r.body.trace_id;
    // freight.tenderSlaMinutes (30 by default)
    const due = Date.parse(r.body.data.sla_deadline) - before;
    expect(due).toBeGreaterThan(29 * 60_000);
    expect(due).toBeLessThan(31 * 60_000);
    const tr = await traced(traces.tender);
    expect(tr.events).toEqual(expect.arrayContaining(["freight.tender.offered", "freight.load.tendered", "freight.document.recorded"]));
    expect(tr.audit).toEqual(expect.arrayContaining(["freight.tender.offer", "freight.document.record"]));

    const pdf = await download(rateConId, t.dispatcher, t.id);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    const text = await pdfText(pdf.bytes);
    expect(text).toContain("Rate: $1,500.50 all-in linehaul (USD)");
    expect(text).toContain("Carrier: Xpress Lines (MC 700001, SCAC TST)");
    expect(text).toContain("1. Pickup: Test DC Chicago | 1200 W Fulton St Chicago, IL 60607");
    expect(text).toContain(`Window: ${pickup} 07:00 to ${pickup} 10:00 (America/Chicago)`);
    expect(text).toContain("2. Delivery: Test Dallas | 400 Commerce St Dallas, TX 75202");
    expect(text).toContain(t.brokerage);
  });

  it("party isolation: the tendered carrier reads its tender and rate confirmation; another carrier and the shippers read neither", async () => {
    const tenderSeen = async (user: string) =>
      (await asUser(user, t.id, (tx) => tx`select offered_rate_cents from public.tenders where id = ${tenderId}`)).result as { offered_rate_cents: string }[];
    expect((await tenderSeen(t.carriers.X.user)).map((r) => Number(r.offered_rate_cents))).toEqual([150050]);
    expect(await tenderSeen(t.carriers.Y.user)).toEqual([]);
    expect(await tenderSeen(t.shippers.A.user)).toEqual([]);
    expect((await download(rateConId, t.carriers.X.user, t.id)).status).toBe(200);
    for (const user of [t.carriers.Y.user, t.shippers.A.user, t.shippers.B.user]) {
      expect((await download(rateConId, user, t.id)).status, user).toBe(404);
    }
    // the broker's door is not theirs
    await expectProblem(await act("broker", "sla_timers", { load_id: loadId }, t.carriers.Y.user, t.id), 403, "forbidden");
    // the other shipper does not find the load at all
    await expectProblem(await act("shipper", "tracking", { load_id: loadId }, t.shippers.B.user, t.id), 404, "not_found");
  });

  it("carrier X's user accepts (the core's function under its claims): covered, one transaction under its trace", async () => {
    const { result, trace } = await asUser(t.carriers.X.user, t.id, (tx) => tx`select app_private.freight_tender_accept(${tenderId}) as r`);
    expect((result as { r: { load_status: string } }[])[0].r.load_status).toBe("covered");
    traces.accept = trace;
    const tr = await traced(trace);
    expect(tr.events).toEqual(expect.arrayContaining(["freight.tender.accepted", "freight.load.covered"]));
    expect(tr.audit).toEqual(expect.arrayContaining(["freight.tender.transition", "freight.load.transition"]));
  });

  it("and dispatches its driver and units: dispatched", async () => {
    const X = t.carriers.X;
    const { result, trace } = await asUser(X.user, t.id, (tx) => tx`select app_private.freight_load_dispatch(${loadId}, ${X.driver}, ${X.tractor}, ${X.trailer}) as r`);
    expect((result as { r: { status: string } }[])[0].r.status).toBe("dispatched");
    expect((await traced(trace)).events).toEqual(["freight.load.dispatched"]);
  });

  it("the shipper tracks it: timeline and stops in facility time, never a buy rate", async () => {
    const r = await act("shipper", "tracking", { load_id: loadId }, t.shippers.A.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.load.status).toBe("dispatched");
    expect(r.body.data.timeline.map((e: { text: string }) => e.text)).toEqual([
      "Load draft → open", "Load open → tendered", "Load tendered → covered", "Load covered → dispatched",
    ]);
    expect(r.body.data.stops[0]).toMatchObject({ facility: "Test DC Chicago", time_zone: "America/Chicago", window_start_local: `${pickup}T07:00:00` });
    expect(JSON.stringify(r.body)).not.toMatch(/150050|1500\.5|rate/i);
    // in SQL too: no buy line, no tender, no rate confirmation
    const { result } = await asUser(t.shippers.A.user, t.id, (tx) => tx`
      select (select count(*)::int from public.charge_lines where side = 'buy') as buy,
             (select count(*)::int from public.charge_lines where side = 'sell' and load_id = ${loadId}) as sell,
             (select count(*)::int from public.documents where kind = 'rate_confirmation') as ratecons`, "shipper");
    expect((result as unknown[])[0]).toEqual({ buy: 0, sell: 2, ratecons: 0 });
  });

  it("each portal step is on the Live Feed (start and finish, ok)", async () => {
    const portalTraces = [traces.book, traces.route, traces.tender];
    let rows: { trace_id: string; phase: string; ok: boolean | null }[] = [];
    for (let i = 0; i < 50; i++) {
      rows = (await sql`select trace_id, phase, ok from live_feed where trace_id = any(${portalTraces}) and phase = 'finish'`) as never;
      if (rows.length === portalTraces.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows.map((r) => [r.trace_id, r.ok]).sort()).toEqual(portalTraces.map((tr) => [tr, true]).sort());
    const [start] = await sql`select count(*)::int as n from live_feed where trace_id = any(${portalTraces}) and phase = 'start'`;
    expect(start.n).toBe(3);
  });
});
