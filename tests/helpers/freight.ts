import { randomBytes, randomUUID } from "node:crypto";
import { withClaims } from "../../packages/shared/db/client.ts";
import { userJwt } from "./auth.ts";
import { sql } from "./db.ts";
import { fnUrl } from "./env.ts";
import { readResult } from "./http.ts";

/**
 * A freight tenant of a test file's own (so scorecards, tenders and the agents' picks are
 * exact): a brokerage with a dispatcher, two shippers with a user each, three eligible
 * carriers with a user, a driver and units each, two facilities in America/Chicago, the
 * TONU accessorial and a market index for 606 -> 752 van (Rates prices it). Carrier X has
 * the best scorecard (an accepted tender), Y the worst (a declined one), Z none.
 */
export interface FreightTenant {
  id: string;
  brokerage: string;
  dispatcher: string;
  shippers: { A: Party; B: Party };
  carriers: { X: Carrier; Y: Carrier; Z: Carrier };
  origin: string;
  destination: string;
}
export interface Party {
  id: string;
  name: string;
  user: string;
}
export interface Carrier extends Party {
  driver: string;
  tractor: string;
  trailer: string;
}

/** A date `days` from today (UTC), YYYY-MM-DD. */
export const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

export async function freightTenant(label: string): Promise<FreightTenant> {
  const id = randomUUID();
  const tag = `${label}-${randomBytes(3).toString("hex")}`;
  await sql`insert into tenants (id, slug, name) values (${id}, ${tag}, ${`${label} Freight`})`;
  const principal = async (role: string, who: string) => {
    const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${`${who}@${tag}.test`}, ${who}) returning id`;
    await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, ${role}, ${id})`;
    return p.id as string;
  };
  const party = async (kind: string, name: string, extra: { credit_limit_cents?: number; mc?: string } = {}) => {
    const [p] = await sql`insert into parties (tenant_id, kind, name, credit_limit_cents, mc_number, scac)
                          values (${id}, ${kind}, ${name}, ${extra.credit_limit_cents ?? null}, ${extra.mc ?? null}, ${kind === "carrier" ? "TST" : null})
                          returning id`;
    return p.id as string;
  };
  const member = async (role: string, who: string, partyId: string) => {
    const user = await principal(role, who);
    await sql`insert into party_members (tenant_id, principal_id, party_id) values (${id}, ${user}, ${partyId})`;
    return user;
  };
  await party("broker", `${label} Brokerage`);
  const dispatcher = await principal("dispatcher", "dispatch");
  const shipper = async (name: string, limit: number) => {
    const pid = await party("shipper", name, { credit_limit_cents: limit });
    return { id: pid, name, user: await member("shipper_user", `shipper-${name.toLowerCase().replace(/\W+/g, "-")}`, pid) };
  };
  const carrier = async (name: string, mc: string): Promise<Carrier> => {
    const pid = await party("carrier", name, { mc });
    await sql`insert into carrier_profiles (tenant_id, party_id, authority_status, allowed_to_operate) values (${id}, ${pid}, 'active', true)`;
    await sql`insert into carrier_insurance (tenant_id, party_id, kind, amount_cents, effective_on, expires_on)
              select ${id}, ${pid}, k, 100000000, current_date - 30, current_date + 365 from unnest(array['auto_liability', 'cargo']) k`;
    const [d] = await sql`insert into drivers (tenant_id, carrier_party_id, name, cdl_expires_on, medical_card_expires_on)
                          values (${id}, ${pid}, ${`${name} driver`}, current_date + 400, current_date + 400) returning id`;
    const [t] = await sql`insert into equipment (tenant_id, carrier_party_id, unit_number, kind) values (${id}, ${pid}, 'T-1', 'tractor') returning id`;
    const [v] = await sql`insert into equipment (tenant_id, carrier_party_id, unit_number, kind, trailer_type) values (${id}, ${pid}, 'V-1', 'trailer', 'van') returning id`;
    return { id: pid, name, user: await member("carrier_user", `dispatch-${mc}`, pid), driver: d.id, tractor: t.id, trailer: v.id };
  };
  const shippers = { A: await shipper("Acme Test Foods", 10_000_000), B: await shipper("Other Shipper", 10_000_000) };
  const carriers = { X: await carrier("Xpress Lines", "700001"), Y: await carrier("Yonder Trucking", "700002"), Z: await carrier("Zephyr Haul", "700003") };
  const [o] = await sql`insert into facilities (tenant_id, name, address_line, city, region, postal_code, time_zone)
                        values (${id}, 'Test DC Chicago', '1200 W Fulton St', 'Chicago', 'IL', '60607', 'America/Chicago') returning id`;
  const [dst] = await sql`insert into facilities (tenant_id, name, address_line, city, region, postal_code, time_zone)
                          values (${id}, 'Test Dallas', '400 Commerce St', 'Dallas', 'TX', '75202', 'America/Chicago') returning id`;
  await sql`insert into accessorials (tenant_id, code, name, default_rate_cents) values (${id}, 'TONU', 'Truck ordered, not used', 25000)`;
  await sql`insert into rates_index (tenant_id, origin_zip3, destination_zip3, origin_region, destination_region, equipment,
                                     rate_per_mile, sample_size, effective_date, source)
            values (${id}, '606', '752', 'east_north_central', 'west_south_central', 'van', 2.1, 40, current_date - 7, 'fixture')`;
  // history: X accepted a tender, Y declined one (scorecards X > Z > Y)
  const [ord] = await sql`insert into orders (tenant_id, reference, shipper_party_id) values (${id}, ${`${tag}-HIST`}, ${shippers.A.id}) returning id`;
  const [hist] = await sql`insert into loads (tenant_id, order_id, reference, shipper_party_id, status)
                           values (${id}, ${ord.id}, ${`${tag}-HIST`}, ${shippers.A.id}, 'completed') returning id`;
  await sql`insert into tenders (tenant_id, load_id, carrier_party_id, offered_rate_cents, accepted_rate_cents, sla_deadline, status)
            values (${id}, ${hist.id}, ${carriers.X.id}, 100000, 100000, now() - interval '30 days', 'accepted'),
                   (${id}, ${hist.id}, ${carriers.Y.id}, 100000, null, now() - interval '30 days', 'declined')`;
  return { id, brokerage: `${label} Brokerage`, dispatcher, shippers, carriers, origin: o.id, destination: dst.id };
}

/** Stops for a pickup on `pickup` (YYYY-MM-DD) 08:00-10:00 and a delivery two days later 13:00-15:00, facility time. */
export function stopsFor(t: FreightTenant, pickup: string) {
  const later = new Date(Date.parse(`${pickup}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
  return [
    { kind: "pickup", facility_id: t.origin, window_start_local: `${pickup}T08:00`, window_end_local: `${pickup}T10:00` },
    { kind: "delivery", facility_id: t.destination, window_start_local: `${later}T13:00`, window_end_local: `${later}T15:00` },
  ];
}

/** A portal action as a user of the tenant (JWT), with a fresh idempotency key. */
export async function act(portal: string, action: string, body: unknown, user: string, tenant: string) {
  const res = await fetch(fnUrl(`${portal}/${action}`), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await userJwt(user, { tenant })}`, "idempotency-key": randomUUID() },
    body: JSON.stringify(body),
  });
  return readResult(res);
}

/** Claims of a user of the tenant (what the edge sends), for SQL run as that user. */
export const userClaims = (user: string, tenant: string, portal = "") =>
  ({ sub: user, role: "authenticated", tenant_id: tenant, principal_kind: "human", portal });

/** Runs `query` as that user with a traceparent of its own; returns the result and the trace id. */
export async function asUser<T>(user: string, tenant: string, query: (tx: any) => PromiseLike<T>, portal = "carrier"): Promise<{ result: T; trace: string }> {
  const trace = randomBytes(16).toString("hex");
  const result = await withClaims(sql, userClaims(user, tenant, portal), query, { traceparent: `00-${trace}-${randomBytes(8).toString("hex")}-01` });
  return { result, trace };
}

/** An open load of shipper A booked by the dispatcher (SQL, the core's function), picking up on `pickup`. */
export async function openLoad(t: FreightTenant, pickup: string): Promise<string> {
  const { result } = await asUser(t.dispatcher, t.id, (tx) => tx`
    select app_private.freight_order_book(${tx.json({ shipper_party_id: t.shippers.A.id, equipment_type: "van", sell: { linehaul_cents: 200000 }, stops: stopsFor(t, pickup) })}) as r`, "broker");
  return (result as { r: { load_id: string } }[])[0].r.load_id;
}

/** The agents' run on a task key of a tenant's portal (the scheduler's own tick may have got there first: either is "one tick"). */
export const agentRun = async (tenant: string, portal: string, key: string) =>
  (await sql`select trace_id, result, reverted_at from action_runs where tenant_id = ${tenant} and portal = ${portal} and task_key = ${key}`)[0];

/** A principal's name (what `ops revert --as` takes). */
export const principalName = async (id: string) => (await sql`select name from principals where id = ${id}`)[0].name as string;

/** The document's bytes as that user downloads them (GET documents/<id>). */
export async function download(documentId: string, user: string, tenant: string) {
  const res = await fetch(fnUrl(`documents/${documentId}`), { headers: { authorization: `Bearer ${await userJwt(user, { tenant })}` } });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}
