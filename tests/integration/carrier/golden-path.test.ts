/**
 * Order -> covered -> dispatched as the real users, every step over HTTP: a shipper user
 * quotes (rates/price_one) and books (shipper/book); a broker user routes and tenders
 * (broker/route, broker/tender); carrier X's user reads the tender offered to it and
 * accepts (carrier/tenders, carrier/accept) and dispatches its driver and units
 * (carrier/dispatch). Each step is one transaction whose outbox events and audit rows carry
 * its trace. Party isolation, over HTTP and in SQL: carrier Y's user reads neither X's
 * tender nor its rate, cannot answer it, and no carrier response carries the sell rate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../helpers/db.ts";
import { act, asUser, day, type FreightTenant, freightTenant, stopsFor } from "../../helpers/freight.ts";
import { expectProblem } from "../../helpers/http.ts";

let t: FreightTenant;
const pickup = day(3);
let loadId: string;
let tenderId: string;
let sellCents: number;
const rate = 151275;
const carrierTraces: string[] = [];

beforeAll(async () => {
  t = await freightTenant("carrier-golden");
});
afterAll(async () => {
  await sql.end();
});

/** What a trace left: its outbox events (type, door) and audit actions. */
async function traced(trace: string) {
  const events = await sql`select event_type, payload->>'source_portal' as door from outbox_events where trace_id = ${trace}`;
  const audit = await sql`select action from audit_log where trace_id = ${trace}`;
  return { events: events.map((e) => e.event_type as string), doors: new Set(events.map((e) => e.door)), audit: audit.map((a) => a.action as string) };
}

describe("the golden path over HTTP, with the Carrier portal", () => {
  it("shipper quotes and books; broker routes and tenders to carrier X", async () => {
    const q = await act("rates", "price_one", { origin: "60607", destination: "75202", equipment: "van", pickup_date: pickup }, t.shippers.A.user, t.id);
    expect(q.status, JSON.stringify(q.body)).toBe(200);
    const b = await act("shipper", "book", { quote_id: q.body.data.quote_id, stops: stopsFor(t, pickup) }, t.shippers.A.user, t.id);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    ({ load_id: loadId, sell_total_cents: sellCents } = b.body.data);
    const r = await act("broker", "route", { load_id: loadId, equipment_type: "van", stops: stopsFor(t, pickup) }, t.dispatcher, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const tr = await act("broker", "tender", { load_id: loadId, carrier_party_id: t.carriers.X.id, rate_cents: rate }, t.dispatcher, t.id);
    expect(tr.status, JSON.stringify(tr.body)).toBe(200);
    tenderId = tr.body.data.tender_id;
  });

  it("carrier X's user lists the tenders offered to it: the buy rate and the lane, never the sell rate", async () => {
    const r = await act("carrier", "tenders", {}, t.carriers.X.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const mine = r.body.data.tenders.filter((x: { load_id: string }) => x.load_id === loadId);
    expect(mine).toEqual([expect.objectContaining({ tender_id: tenderId, status: "offered", offered_rate_cents: rate, counter_rate_cents: null, currency: "USD" })]);
    expect(mine[0].lane.stops.map((s: { city: string; window_start_local: string }) => [s.city, s.window_start_local]))
      .toEqual([["Chicago", `${pickup}T08:00:00`], ["Dallas", expect.stringMatching(/T13:00:00$/)]]);
    expect(JSON.stringify(r.body)).not.toContain(String(sellCents));
  });

  it("party isolation: carrier Y's user neither lists nor reads X's tender or rate (HTTP and SQL), nor answers it", async () => {
    const r = await act("carrier", "tenders", { status: "all" }, t.carriers.Y.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data.tenders.map((x: { tender_id: string }) => x.tender_id)).not.toContain(tenderId);
    expect(JSON.stringify(r.body)).not.toContain(String(rate));
    const { result } = await asUser(t.carriers.Y.user, t.id, (tx) => tx`
      select (select count(*)::int from public.tenders where id = ${tenderId}) as tenders,
             (select count(*)::int from public.loads where id = ${loadId}) as loads,
             (select count(*)::int from public.charge_lines where load_id = ${loadId}) as lines,
             (select count(*)::int from public.documents where load_id = ${loadId}) as documents`);
    expect((result as unknown[])[0]).toEqual({ tenders: 0, loads: 0, lines: 0, documents: 0 });
    for (const [action, body] of [["accept", { tender_id: tenderId }], ["decline", { tender_id: tenderId }], ["counter", { tender_id: tenderId, rate_cents: 1 }]] as const) {
      await expectProblem(await act("carrier", action, body, t.carriers.Y.user, t.id), 403, "forbidden");
    }
    expect((await sql`select status from tenders where id = ${tenderId}`)[0].status).toBe("offered");
  });

  it("carrier X accepts over HTTP: covered, one transaction with its events and audit rows under the trace (door carrier)", async () => {
    const r = await act("carrier", "accept", { tender_id: tenderId }, t.carriers.X.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toEqual({ tender_id: tenderId, load_id: loadId, status: "accepted", rate_cents: rate, load_status: "covered" });
    carrierTraces.push(r.body.trace_id);
    const tr = await traced(r.body.trace_id);
    expect(tr.events).toEqual(expect.arrayContaining(["freight.tender.accepted", "freight.load.covered"]));
    expect(tr.doors).toEqual(new Set(["carrier"]));
    expect(tr.audit).toEqual(expect.arrayContaining(["freight.tender.transition", "freight.load.transition"]));
    // the buy line X reads is its own rate; the sell side is not visible to it
    const { result } = await asUser(t.carriers.X.user, t.id, (tx) => tx`select side, amount_cents::int as cents from public.charge_lines where load_id = ${loadId}`);
    expect(result).toEqual([{ side: "buy", cents: rate }]);
  });

  it("carrier X dispatches its driver, tractor and trailer: dispatched, under the trace", async () => {
    const X = t.carriers.X;
    const loads = await act("carrier", "loads", {}, X.user, t.id);
    expect(loads.body.data.loads.map((l: { load_id: string; status: string }) => [l.load_id, l.status])).toContainEqual([loadId, "covered"]);
    const fleet = await act("carrier", "fleet", {}, X.user, t.id);
    expect(fleet.body.data.drivers.map((d: { driver_id: string }) => d.driver_id)).toEqual([X.driver]);
    const r = await act("carrier", "dispatch", { load_id: loadId, driver_id: X.driver, tractor_id: X.tractor, trailer_id: X.trailer }, X.user, t.id);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ load_id: loadId, status: "dispatched", driver_id: X.driver, tractor_id: X.tractor, trailer_id: X.trailer });
    carrierTraces.push(r.body.trace_id);
    const tr = await traced(r.body.trace_id);
    expect(tr.events).toEqual(["freight.load.dispatched"]);
    expect(tr.audit).toContain("freight.load.transition");
    const tracking = await act("shipper", "tracking", { load_id: loadId }, t.shippers.A.user, t.id);
    expect(tracking.body.data.load.status).toBe("dispatched");
    expect(JSON.stringify(tracking.body)).not.toContain(String(rate));
  });

  it("the carrier's steps are on the Live Feed (finished, ok)", async () => {
    let rows: { trace_id: string; ok: boolean | null }[] = [];
    for (let i = 0; i < 50; i++) {
      rows = (await sql`select trace_id, ok from live_feed where trace_id = any(${carrierTraces}) and phase = 'finish'`) as never;
      if (rows.length === carrierTraces.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows.map((r) => [r.trace_id, r.ok]).sort()).toEqual(carrierTraces.map((tr) => [tr, true]).sort());
  });
});
