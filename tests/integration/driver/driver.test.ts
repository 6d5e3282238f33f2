/**
 * The Driver portal over HTTP: a phone offline records 20 events across the two stops of its
 * load (shuffled, one duplicate, one malformed) and syncs twice: the load ends completed (the
 * POD uploaded through the documents function), the timeline is in device order, the answer
 * lists each event's fate, the second sync changes nothing. A driver cannot see or update
 * another driver's stops. 1,000 events with 3 bad apply 997. The agents: ETA slipping
 * (exception + shipper notice, reverted by trace) and POD missing (a task event).
 */
import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userJwt } from "../../helpers/auth.ts";
import { runScript } from "../../helpers/cli.ts";
import { sql } from "../../helpers/db.ts";
import { fnUrl } from "../../helpers/env.ts";
import { act, day, type FreightTenant, freightTenant, openLoad } from "../../helpers/freight.ts";
import { expectProblem, readResult, tick } from "../../helpers/http.ts";

let t: FreightTenant;
/** Driver principals of carriers X and Y (their drivers rows). */
let drvX: string;
let drvY: string;
let opsName: string;

async function driverUser(c: "X" | "Y"): Promise<string> {
  const carrier = t.carriers[c];
  const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${`driver-${c.toLowerCase()}-${t.id.slice(0, 8)}@driver.test`}, ${`Driver ${c}`}) returning id`;
  await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, 'driver', ${t.id})`;
  await sql`insert into party_members (tenant_id, principal_id, party_id, driver_id) values (${t.id}, ${p.id}, ${carrier.id}, ${carrier.driver})`;
  return p.id;
}

/** A load of shipper A tendered to, accepted and dispatched by carrier `c` with its driver; its stop ids. */
async function dispatched(c: "X" | "Y"): Promise<{ load: string; pickup: string; delivery: string }> {
  const load = await openLoad(t, day(2));
  const carrier = t.carriers[c];
  const tender = await act("broker", "tender", { load_id: load, carrier_party_id: carrier.id, rate_cents: 160000 }, t.dispatcher, t.id);
  expect((await act("carrier", "accept", { tender_id: tender.body.data.tender_id }, carrier.user, t.id)).status).toBe(200);
  const d = await act("carrier", "dispatch", { load_id: load, driver_id: carrier.driver, tractor_id: carrier.tractor }, carrier.user, t.id);
  expect(d.status, JSON.stringify(d.body)).toBe(200);
  const stops = await sql`select id from stops where load_id = ${load} order by sequence`;
  return { load, pickup: stops[0].id, delivery: stops[1].id };
}

const upload = async (user: string, load: string, bytes: Uint8Array<ArrayBuffer>, sha: string) =>
  readResult(await fetch(`${fnUrl("documents/upload")}?${new URLSearchParams({ kind: "pod", load_id: load, file_name: "pod.jpg" })}`, {
    method: "POST",
    headers: { authorization: `Bearer ${await userJwt(user, { tenant: t.id })}`, "content-type": "image/jpeg", "x-content-sha256": sha },
    body: bytes as Uint8Array<ArrayBuffer>,
  }));

beforeAll(async () => {
  t = await freightTenant("driver");
  drvX = await driverUser("X");
  drvY = await driverUser("Y");
  opsName = `ops@driver-${t.id.slice(0, 8)}.test`;
  const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${opsName}, 'Ops') returning id`;
  await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, 'ops_manager', ${t.id})`;
});
afterAll(async () => {
  await sql.end();
});

describe("offline sync", () => {
  it("20 events over two stops, shuffled, one duplicate, one malformed, synced twice: completed, device order, each fate, nothing changed the second time", async () => {
    const { load, pickup, delivery } = await dispatched("X");
    const bytes = new TextEncoder().encode("\xff\xd8 POD photo: 26 pallets received in good order");
    const sha = createHash("sha256").update(bytes).digest("hex");
    // a POD whose hash does not match its bytes is refused by the documents function, nothing kept
    await expectProblem(await upload(drvX, load, bytes, "0".repeat(64)), 422, "document_hash_mismatch");
    const pod = await upload(drvX, load, bytes, sha);
    expect(pod.status, JSON.stringify(pod.body)).toBe(201);

    const start = Date.now() - 3 * 3_600_000;
    const ev = (seq: number, kind: string, stop: string | null, payload: Record<string, unknown> = {}) => ({
      client_event_id: randomUUID(), device_seq: seq, kind, client_at: new Date(start + seq * 60_000).toISOString(), payload,
      ...(stop ? { stop_id: stop } : {}),
    });
    const ping = (seq: number, lat: number) => ev(seq, "position", null, { lat, lon: -90, speed_mph: 55 });
    const recorded = [
      ping(1, 41.8), ev(2, "arrived", pickup), ping(3, 41.8), ev(4, "loaded", pickup), ev(5, "departed", pickup),
      ping(6, 40), ping(7, 38), ping(8, 36), ping(9, 34),
      { client_event_id: randomUUID(), device_seq: 10, kind: "teleported", stop_id: pickup, client_at: new Date(start + 600_000).toISOString() },
      ping(11, 33.5), ping(12, 33), ping(13, 32.9),
      ev(14, "arrived", delivery), ev(15, "unloaded", delivery),
      ev(16, "pod", delivery, { document_id: pod.body.data.document_id, signer_name: "R. Receiver", lat: 32.78, lon: -96.8 }),
      ev(17, "departed", delivery), ping(18, 32.9), ping(19, 33.2),
    ];
    // shuffled (a fixed permutation), the arrival at delivery sent twice
    const order = [16, 4, 0, 13, 9, 2, 18, 7, 14, 1, 11, 5, 17, 3, 10, 8, 15, 6, 12];
    const batch = [...order.map((i) => recorded[i]), recorded[13]];
    expect(batch).toHaveLength(20);

    const first = await act("driver", "sync", { device_id: "phone-x", events: batch }, drvX, t.id);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const fates = first.body.data.results as { index: number; client_event_id: string; status: string; reason?: string }[];
    expect(fates.map((f) => f.index)).toEqual([...Array(20).keys()]);
    expect(first.body.data.counts).toEqual({ applied: 18, duplicate: 1, rejected: 1 });
    expect(fates.find((f) => f.client_event_id === recorded[9].client_event_id)).toMatchObject({ status: "rejected", reason: "validation_failed" });
    expect(fates[19]).toMatchObject({ client_event_id: recorded[13].client_event_id, status: "duplicate", first: "applied" });
    expect(first.body.data.applied_seq).toBe(19);

    const [l] = await sql`select status from loads where id = ${load}`;
    expect(l.status).toBe("completed");
    const timeline = await sql`select status_code, source, occurred_at from load_events where load_id = ${load} and status_code is not null order by occurred_at, recorded_at`;
    expect(timeline.map((e) => e.status_code)).toEqual(["X3", "CP", "AF", "X1", "D1", "CD"]);
    expect(timeline.every((e) => e.source === "driver_app")).toBe(true);
    const statuses = await sql`select to_status from load_events where load_id = ${load} and kind = 'status' and to_status not in ('draft', 'open', 'tendered', 'covered', 'dispatched') order by occurred_at, recorded_at`;
    expect(statuses.map((e) => e.to_status)).toEqual(["at_pickup", "picked_up", "in_transit", "at_delivery", "delivered", "completed"]);
    expect((await sql`select count(*)::int as n from driver_positions where load_id = ${load}`)[0].n)
      .toBe(recorded.filter((e) => e.kind === "position").length); // every ping (11), once
    const [p] = await sql`select document_id, signer_name from driver_pods where stop_id = ${delivery}`;
    expect(p).toEqual({ document_id: pod.body.data.document_id, signer_name: "R. Receiver" });
    const events = await sql`select event_type, payload from outbox_events where trace_id = ${first.body.trace_id}`;
    expect(events.map((e) => e.event_type)).toContain("freight.load.completed");
    expect(JSON.stringify(events.map((e) => e.payload))).not.toContain("Receiver");

    const counts = async () => (await sql`select (select count(*) from load_events where load_id = ${load})::int as ev,
                                                 (select count(*) from driver_positions where load_id = ${load})::int as pos,
                                                 (select count(*) from outbox_events where aggregate_id = ${load})::int as ob,
                                                 (select count(*) from driver_sync_events where device_id = 'phone-x')::int as se`)[0];
    const before = await counts();
    const second = await act("driver", "sync", { device_id: "phone-x", events: batch }, drvX, t.id);
    expect(second.status).toBe(200);
    // every event was seen: each answers duplicate with its first fate (the malformed one: rejected)
    expect(second.body.data.counts).toEqual({ duplicate: 20 });
    expect(second.body.data.results.find((f: { client_event_id: string }) => f.client_event_id === recorded[9].client_event_id))
      .toMatchObject({ status: "duplicate", first: "rejected" });
    expect(await counts()).toEqual(before);
  });

  it("1,000 events with 3 bad ones: 997 applied, the 3 reported by index with their reasons", async () => {
    const { pickup } = await dispatched("X");
    const { pickup: other } = await dispatched("Y");
    const events: Record<string, unknown>[] = Array.from({ length: 1000 }, (_, i) => ({
      client_event_id: randomUUID(), device_seq: i + 1, kind: "position", client_at: new Date(Date.now() - (1000 - i) * 1000).toISOString(),
      stop_id: pickup, payload: { lat: 41 + i / 10000, lon: -88, speed_mph: 50 },
    }));
    events[100] = { ...events[100], client_at: new Date(Date.now() + 3_600_000).toISOString() };
    events[500] = { ...events[500], stop_id: other };
    events[900] = { ...events[900], payload: { lat: 123, lon: -88 } };
    const r = await act("driver", "sync", { device_id: "phone-bulk", events }, drvX, t.id);
    expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(200);
    expect(r.body.data.counts).toEqual({ applied: 997, rejected: 3 });
    const bad = (r.body.data.results as { index: number; status: string; reason?: string }[]).filter((x) => x.status !== "applied");
    expect(bad.map((x) => [x.index, x.reason])).toEqual([[100, "driver_event_in_future"], [500, "driver_stop_not_assigned"], [900, "validation_failed"]]);
  });
});

describe("a driver sees and updates only its own stops", () => {
  it("HTTP: stops lists its own; a status for another driver's stop is driver_stop_not_assigned, nothing written; staff are not drivers", async () => {
    const x = await dispatched("X");
    const y = await dispatched("Y");
    const mine = await act("driver", "stops", {}, drvY, t.id);
    expect(mine.status).toBe(200);
    const ids = (mine.body.data.stops as { stop_id: string }[]).map((s) => s.stop_id);
    expect(ids).toEqual(expect.arrayContaining([y.pickup, y.delivery]));
    expect(ids).not.toContain(x.pickup);
    await expectProblem(await act("driver", "status", { stop_id: x.pickup, kind: "arrived" }, drvY, t.id), 404, "driver_stop_not_assigned");
    const r = await act("driver", "sync", { device_id: "y-phone", events: [{ client_event_id: randomUUID(), device_seq: 1, kind: "arrived", stop_id: x.pickup, client_at: new Date().toISOString() }] }, drvY, t.id);
    expect(r.body.data.results[0]).toMatchObject({ status: "rejected", reason: "driver_stop_not_assigned" });
    expect((await sql`select actual_arrival_at from stops where id = ${x.pickup}`)[0].actual_arrival_at).toBeNull();
    expect((await sql`select status from loads where id = ${x.load}`)[0].status).toBe("dispatched");
    // its own: arrived, through the core (214 X3)
    const ok = await act("driver", "status", { stop_id: y.pickup, kind: "arrived" }, drvY, t.id);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.data).toMatchObject({ status: "applied", detail: { status_code: "X3", load_status: "at_pickup" } });
    await expectProblem(await act("driver", "status", { stop_id: y.delivery, kind: "loaded" }, drvY, t.id), 400, "validation_failed");
    await expectProblem(await act("driver", "sync", { device_id: "d", events: [{}] }, t.dispatcher, t.id), 403, "forbidden");
    // the delta feed shows the arrival
    const feed = await act("driver", "changes", { cursor: 0 }, drvY, t.id);
    expect(feed.body.data.stops.find((s: { stop_id: string }) => s.stop_id === y.pickup).actual_arrival_at).not.toBeNull();
    expect(feed.body.data.loads.map((l: { load_id: string }) => l.load_id)).not.toContain(x.load);
  });
});

describe("agents", () => {
  it("ETA slipping: pings far from the pickup at a crawl -> exception + shipper notice; ops revert clears it", async () => {
    const { load, pickup } = await dispatched("Y");
    const now = Date.now();
    const pings = [0, 1, 2].map((i) => ({ client_event_id: randomUUID(), device_seq: i + 1, kind: "position", stop_id: pickup,
                                         client_at: new Date(now - (3 - i) * 60_000).toISOString(), payload: { lat: 25.77, lon: -80.19, speed_mph: 10 } }));
    expect((await act("driver", "sync", { device_id: "eta-phone", events: pings }, drvY, t.id)).body.data.counts).toEqual({ applied: 3 });
    await tick();
    const [run] = await sql`select trace_id, task_key from action_runs where tenant_id = ${t.id} and portal = 'driver' and task_key = ${`eta-risk:${load}:${pickup}`}`;
    expect(run, "an agents' run").toBeDefined();
    const [l] = await sql`select exception, exception_reason from loads where id = ${load}`;
    expect(l.exception).toBe(true);
    expect(l.exception_reason).toMatch(/^ETA slipping: stop 1 expected/);
    const [notice] = await sql`select payload from outbox_events where trace_id = ${run.trace_id} and event_type = 'driver.eta.at_risk'`;
    expect(notice.payload).toMatchObject({ recipient_party_id: t.shippers.A.id, load_id: load, stop_id: pickup });
    const r = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", opsName, "--json"]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect((await sql`select exception from loads where id = ${load}`)[0].exception).toBe(false);
  });

  it("POD missing a day after delivery -> a task event for the dispatcher's queue, once", async () => {
    const { load } = await dispatched("X");
    const [drv] = await sql`select driver_id from loads where id = ${load}`;
    // delivered (the trusted session walks it) 25 hours ago, no POD
    await sql`select app_private.freight_load_move(${load}, s, 'test') from unnest(array['at_pickup', 'picked_up', 'in_transit', 'at_delivery', 'delivered']) s`;
    await sql`update loads set status_changed_at = now() - interval '25 hours' where id = ${load}`;
    expect(drv.driver_id).toBe(t.carriers.X.driver);
    await tick();
    await tick();
    const runs = await sql`select trace_id from action_runs where tenant_id = ${t.id} and portal = 'driver' and task_key = ${`pod-missing:${load}`}`;
    expect(runs).toHaveLength(1);
    const [task] = await sql`select payload from outbox_events where trace_id = ${runs[0].trace_id} and event_type = 'driver.pod_missing'`;
    expect(task.payload).toMatchObject({ queue: "dispatch", kind: "collect_pod", load_id: load });
  });
});
