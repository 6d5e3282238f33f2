/**
 * The load state machine's complement over HTTP, generated from its transition table
 * (public.freight_transitions): every portal action that moves a load is tried from every
 * load state, by a human (JWT) and by the agents' door (agents@, HMAC-signed), and every
 * pair it reaches that the table does not list is refused by the one transition function
 * with 409 illegal_transition naming the machine, from and to; every listed pair succeeds.
 * (supabase/tests/freight/010_state_machine_test.sql tries every pair through psql, the
 * agents' and a dispatcher's SQL doors; EDI joins both when it lands.)
 *
 * Doors (the action decides the target; the table decides the outcome):
 *   broker/cancel   -> cancelled before dispatch, tonu after it     (dispatcher; agents@)
 *   broker/book     -> covered (accepting an offered tender)        (dispatcher)
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../helpers/db.ts";
import { act, type FreightTenant, freightTenant } from "../../helpers/freight.ts";
import { portal } from "../../helpers/http.ts";

let t: FreightTenant;
let states: string[];
let legal: Set<string>;
const pair = (from: string, to: string) => `${from}->${to}`;

beforeAll(async () => {
  t = await freightTenant("transitions");
  states = (await sql`select state from freight_states where machine = 'load' order by position`).map((r) => r.state as string);
  legal = new Set((await sql`select from_state, to_state from freight_transitions where machine = 'load'`).map((r) => pair(r.from_state, r.to_state)));
});
afterAll(async () => {
  await sql.end();
});

/** A load of carrier X in `state` (the owner may import any state), with an offered tender. */
async function loadIn(state: string): Promise<{ load: string; tender: string }> {
  const X = t.carriers.X;
  const ref = `SM-${state}-${randomUUID().slice(0, 8)}`;
  const [o] = await sql`insert into orders (tenant_id, reference, shipper_party_id) values (${t.id}, ${ref}, ${t.shippers.A.id}) returning id`;
  const [l] = await sql`insert into loads (tenant_id, order_id, reference, shipper_party_id, carrier_party_id, driver_id, tractor_id, trailer_id, status)
                        values (${t.id}, ${o.id}, ${ref}, ${t.shippers.A.id}, ${X.id}, ${X.driver}, ${X.tractor}, ${X.trailer}, ${state}) returning id`;
  const [td] = await sql`insert into tenders (tenant_id, load_id, carrier_party_id, offered_rate_cents, sla_deadline, status)
                         values (${t.id}, ${l.id}, ${X.id}, 120000, now() + interval '1 hour', 'offered') returning id`;
  return { load: l.id, tender: td.id };
}

interface Door {
  name: string;
  targets: string[];
  call: (f: { load: string; tender: string }) => Promise<{ status: number; body: any }>;
}
const broker = portal("broker");
const DOORS: Door[] = [
  { name: "broker/cancel as dispatcher", targets: ["cancelled", "tonu"], call: (f) => act("broker", "cancel", { load_id: f.load, reason: "generated" }, t.dispatcher, t.id) },
  { name: "broker/cancel as agents@ (signed)", targets: ["cancelled", "tonu"],
    call: (f) => broker.call("cancel", { load_id: f.load, reason: "generated" }, "agents", { tenant: t.id, idempotencyKey: randomUUID() }) },
  { name: "broker/book as dispatcher", targets: ["covered"], call: (f) => act("broker", "book", { tender_id: f.tender }, t.dispatcher, t.id) },
];

describe("the load state machine's complement, from every HTTP door", () => {
  it("refuses every unlisted pair it reaches with illegal_transition naming from and to; allows every listed one", async () => {
    const refused = new Set<string>();
    const allowed = new Set<string>();
    let attempts = 0;
    for (const door of DOORS) {
      for (const from of states) {
        const f = await loadIn(from);
        const r = await door.call(f);
        attempts++;
        const [after] = await sql`select status from loads where id = ${f.load}`;
        if (r.status === 200) {
          const to = after.status as string;
          expect(legal.has(pair(from, to)), `${door.name} from ${from}: moved to ${to}, which the table does not list`).toBe(true);
          expect(door.targets).toContain(to);
          allowed.add(pair(from, to));
        } else {
          const label = `${door.name} from ${from}: ${JSON.stringify(r.body)}`;
          expect(r.status, label).toBe(409);
          expect(r.body, label).toMatchObject({ code: "illegal_transition", rail: "illegal_transition", machine: "load", from });
          expect(door.targets, label).toContain(r.body.to);
          expect(legal.has(pair(from, r.body.to)), `${label}: a listed pair was refused`).toBe(false);
          // nothing half-written: the load and its tender are as they were
          expect(after.status, label).toBe(from);
          expect((await sql`select status from tenders where id = ${f.tender}`)[0].status, label).toBe("offered");
          refused.add(pair(from, r.body.to));
        }
      }
    }
    const complement = states.flatMap((a) => states.filter((b) => b !== a && !legal.has(pair(a, b))).map((b) => pair(a, b)));
    // (each action picks its own target, so HTTP reaches the complement pairs into cancelled,
    // tonu and covered; the SQL doors of 010_state_machine_test.sql try all of them)
    console.log(`state machine over HTTP: ${attempts} attempts through ${DOORS.length} doors from ${states.length} load states; ` +
      `${refused.size} of the ${complement.length} unlisted pairs reached and refused (illegal_transition naming from/to), ` +
      `${allowed.size} listed pairs allowed`);
    expect(refused.size).toBeGreaterThan(0);
    expect(allowed.size).toBeGreaterThan(0);
  });
});
