/**
 * The broker's agents on the autopilot loop (each task its own trace, reversible):
 * - tender SLA: a tender left unanswered past its deadline is expired and the load offered
 *   to the next carrier by scorecard within one tick; `ops revert <trace>` withdraws that
 *   offer, and the agents do not redo it;
 * - kill switch on: the agents' re-tendering stops (refused in Postgres too), humans still
 *   tender;
 * - appointment at risk: a dispatched load whose pickup window closed without an arrival
 *   gets the exception flag and its shipper a notice; reverted by its trace.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "../../helpers/cli.ts";
import { sql, withEmergencyStop } from "../../helpers/db.ts";
import { act, agentRun, asUser, day, type FreightTenant, freightTenant, openLoad, principalName } from "../../helpers/freight.ts";
import { expectProblem, portal, tick } from "../../helpers/http.ts";

let t: FreightTenant;

const runOf = (key: string) => agentRun(t.id, "broker", key);

/** A load tendered by the dispatcher to `carrier`. */
async function tendered(carrier: string): Promise<{ load: string; tender: string }> {
  const load = await openLoad(t, day(4));
  const r = await act("broker", "tender", { load_id: load, carrier_party_id: carrier, rate_cents: 180000 }, t.dispatcher, t.id);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { load, tender: r.body.data.tender_id };
}
/** Its deadline passed (backdated as the owner). */
const overdue = (tender: string) => sql`update tenders set sla_deadline = now() - interval '1 minute' where id = ${tender}`;

beforeAll(async () => {
  t = await freightTenant("agents");
});
afterAll(async () => {
  await sql.end();
});

describe("tender SLA agent", () => {
  it("re-tenders an expired tender to the best-scoring carrier within one tick; ops revert withdraws it, once, and it is held", async () => {
    const { load, tender } = await tendered(t.carriers.Z.id);
    await overdue(tender);
    await tick();
    const run = await runOf(`retender:${tender}`);
    expect(run, "an agents' run for the expired tender").toBeDefined();
    const [old] = await sql`select status from tenders where id = ${tender}`;
    expect(old.status).toBe("expired");
    // X has the best scorecard of the carriers not tendered yet (Z was): X, at the same rate, with its rate confirmation
    const next = await sql`select id, carrier_party_id, offered_rate_cents, status from tenders where load_id = ${load} and id <> ${tender}`;
    expect(next.map((n) => [n.carrier_party_id, Number(n.offered_rate_cents), n.status])).toEqual([[t.carriers.X.id, 180000, "offered"]]);
    expect(run.result.tender.carrier_party_id).toBe(t.carriers.X.id);
    const [doc] = await sql`select carrier_party_id from documents where id = ${run.result.tender.document_id}`;
    expect(doc.carrier_party_id).toBe(t.carriers.X.id);
    const events = await sql`select event_type, payload->>'source_portal' as door from outbox_events where trace_id = ${run.trace_id}`;
    expect(events.map((e) => e.event_type)).toEqual(expect.arrayContaining(["freight.tender.expired", "freight.tender.offered", "freight.document.recorded"]));
    expect(new Set(events.map((e) => e.door))).toEqual(new Set(["broker"]));
    const [feed] = await sql`select principal from live_feed where trace_id = ${run.trace_id} and phase = 'start'`;
    expect(feed?.principal).toBe("agents");

    const as = await principalName(t.dispatcher);
    const r = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", as, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [withdrawn] = await sql`select status from tenders where id = ${next[0].id}`;
    expect(withdrawn.status).toBe("cancelled");
    expect((await sql`select status from loads where id = ${load}`)[0].status).toBe("open");
    const twice = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", as, "--json"]);
    expect(twice.json().error.code).toBe("already_reverted");
    await tick();
    expect((await sql`select count(*)::int as n from tenders where load_id = ${load} and status = 'offered'`)[0].n).toBe(0);
  });

  it("a tender is re-tendered once: of two re-tenders at the same moment one offers the load on, the other is refused tender_superseded (Postgres decides: the edge does not check)", async () => {
    const { load, tender } = await tendered(t.carriers.Z.id);
    const both = await Promise.all([1, 2].map(() => act("broker", "retender", { tender_id: tender }, t.dispatcher, t.id)));
    const ok = both.filter((r) => r.status === 200);
    expect(ok, JSON.stringify(both.map((r) => r.body))).toHaveLength(1);
    const refused = both.find((r) => r.status !== 200)!;
    await expectProblem(refused, 409, "tender_superseded");
    expect(refused.body.detail).toContain(ok[0].body.data.tender.tender_id);
    const live = await sql`select id from tenders where load_id = ${load} and status = 'offered'`;
    expect(live.map((r) => r.id)).toEqual([ok[0].body.data.tender.tender_id]);
  });

  it("with every carrier tried, an expired tender only expires (no_next_carrier for a human re-tender before the deadline)", async () => {
    const load = await openLoad(t, day(4));
    const first = await act("broker", "tender", { load_id: load, carrier_party_id: t.carriers.X.id, rate_cents: 170000 }, t.dispatcher, t.id);
    const tender = first.body.data.tender_id;
    for (const c of [t.carriers.Y.id, t.carriers.Z.id]) {
      expect((await act("broker", "tender", { load_id: load, carrier_party_id: c, rate_cents: 170000 }, t.dispatcher, t.id)).status).toBe(200);
    }
    await expectProblem(await act("broker", "retender", { tender_id: tender }, t.dispatcher, t.id), 422, "no_next_carrier");
    expect((await sql`select status from tenders where id = ${tender}`)[0].status).toBe("offered");
  });

  it("kill switch on: the agents' re-tendering stops (and Postgres refuses agents@); a human still tenders", async () => {
    const { tender } = await tendered(t.carriers.Z.id);
    const other = await openLoad(t, day(5));
    // overdue only once stopped: the scheduler's own ticks must not take it up first
    const { human, machine } = await withEmergencyStop(async () => {
      await overdue(tender);
      await tick();
      const machine = await portal("broker").call("retender", { tender_id: tender }, "agents", { tenant: t.id });
      const human = await act("broker", "tender", { load_id: other, carrier_party_id: t.carriers.X.id, rate_cents: 160000 }, t.dispatcher, t.id);
      return { human, machine };
    });
    await expectProblem(machine, 503, "autonomy_halted");
    expect(human.status, JSON.stringify(human.body)).toBe(200);
    expect(await runOf(`retender:${tender}`)).toBeUndefined();
    expect((await sql`select status from tenders where id = ${tender}`)[0].status).toBe("offered");
    // resumed: the next tick takes it up
    await tick();
    expect((await sql`select status from tenders where id = ${tender}`)[0].status).toBe("expired");
  });
});

describe("appointment-risk agent", () => {
  it("flags a dispatched load whose pickup window closed without an arrival and notifies its shipper; revert clears both", async () => {
    const X = t.carriers.X;
    const load = await openLoad(t, day(1));
    const r = await act("broker", "tender", { load_id: load, carrier_party_id: X.id, rate_cents: 150000 }, t.dispatcher, t.id);
    await asUser(X.user, t.id, (tx) => tx`select app_private.freight_tender_accept(${r.body.data.tender_id})`);
    await asUser(X.user, t.id, (tx) => tx`select app_private.freight_load_dispatch(${load}, ${X.driver}, ${X.tractor}, ${X.trailer})`);
    // the pickup window has closed (moved into the past as the owner): the ETA is past it
    await sql`update stops set appointment = tstzrange(now() - interval '3 hours', now() - interval '1 hour') where load_id = ${load} and sequence = 1`;
    await tick();
    const [stop] = await sql`select id from stops where load_id = ${load} and sequence = 1`;
    const run = await runOf(`appointment-risk:${load}:${stop.id}`);
    expect(run).toBeDefined();
    const [l] = await sql`select status, exception, exception_reason from loads where id = ${load}`;
    expect(l).toMatchObject({ status: "dispatched", exception: true });
    expect(l.exception_reason).toMatch(/^stop 1 \(Test DC Chicago\): its window closed at .* without an arrival$/);
    const seen = await act("shipper", "tracking", { load_id: load }, t.shippers.A.user, t.id);
    expect(seen.body.data.load.exception).toBe(true);
    expect(seen.body.data.messages).toEqual([expect.objectContaining({ kind: "notice", status: "sent", body: expect.stringContaining("may miss its appointment") })]);
    const [sent] = await sql`select payload from outbox_events where trace_id = ${run.trace_id} and event_type = 'freight.message.sent'`;
    expect(Object.keys(sent.payload).sort()).toEqual(["audience", "kind", "load_id", "message_id", "recipient_party_id", "source_portal"]);

    const out = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", await principalName(t.dispatcher), "--json"]);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect((await sql`select exception from loads where id = ${load}`)[0].exception).toBe(false);
    const after = await act("shipper", "tracking", { load_id: load }, t.shippers.A.user, t.id);
    expect(after.body.data.messages.map((m: { status: string }) => m.status)).toEqual(["retracted"]);
  });
});
