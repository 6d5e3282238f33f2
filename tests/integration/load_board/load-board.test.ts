/**
 * The Load Board portal on the running stack, as real users of a tenant of its own: the
 * dispatcher posts (duplicates refused or merged by Postgres), carrier users bid and see
 * only their own bids (HTTP and SQL), the dispatcher accepts one (the load covered, the
 * others rejected, the amount held in escrow), delivery releases the escrow and a cancel
 * refunds it, the ledger balancing throughout; the agents merge duplicate posts (undone by
 * `ops revert <trace>`) and expire unanswered bids, and do nothing under the kill switch.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "../../helpers/cli.ts";
import { sql, withEmergencyStop } from "../../helpers/db.ts";
import { act, agentRun, asUser, day, type FreightTenant, freightTenant, openLoad, principalName } from "../../helpers/freight.ts";
import { expectProblem, portal, tick } from "../../helpers/http.ts";

let t: FreightTenant;
/** A second member of the brokerage's staff (posting what the dispatcher posted too). */
let colleague: string;

const runOf = (key: string) => agentRun(t.id, "load_board", key);
/** Entries of the tenant whose lines do not sum to zero (0: the ledger balances). */
const unbalanced = async () =>
  (await sql`select count(*)::int as n from (select entry_id from journal_lines where tenant_id = ${t.id}
                                              group by entry_id having sum(amount_cents) <> 0) u`)[0].n as number;
const escrowOf = async (bid: string) => (await sql`select status, amount_cents::int as amount from load_board_escrows where bid_id = ${bid}`)[0];
const lb = (action: string, body: unknown, user: string) => act("load_board", action, body, user, t.id);

/** A load posted by `by`, picking up in `days`; returns load and post ids. */
async function posted(days: number, by = t.dispatcher) {
  const load = await openLoad(t, day(days));
  const r = await lb("post", { load_id: load, target_rate_cents: 180000 }, by);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { load, post: r.body.data.post_id as string, data: r.body.data };
}
async function bidOn(post: string, user: string, amount: number) {
  const r = await lb("bid", { post_id: post, amount_cents: amount }, user);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data.bid_id as string;
}

beforeAll(async () => {
  t = await freightTenant("board");
  const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${`ops-${randomBytes(3).toString("hex")}@board.test`}, 'Ops') returning id`;
  await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, 'ops_manager', ${t.id})`;
  colleague = p.id;
});
afterAll(async () => {
  await sql.end();
});

describe("posts and the anti-duplicate rules", () => {
  it("posts an open load with its lane; the same load twice and the same lane twice are refused, or merged on request", async () => {
    const { load, post, data } = await posted(20);
    expect(data).toMatchObject({ status: "open", origin_city: "Chicago", destination_city: "Dallas", equipment_type: "van", pickup_on: day(20), target_rate_cents: 180000 });
    const [ev] = await sql`select payload from outbox_events where event_type = 'freight.load_board_post.posted' and aggregate_id = ${post}`;
    expect(ev.payload.source_portal).toBe("load_board");

    const again = await expectProblem(await lb("post", { load_id: load }, t.dispatcher), 409, "load_board_duplicate_load");
    expect(again.detail).toContain(post);
    const twin = await openLoad(t, day(20));
    const lane = await expectProblem(await lb("post", { load_id: twin }, t.dispatcher), 409, "load_board_duplicate_lane");
    expect(lane.reason).toBe("same_lane");
    expect((await sql`select count(*)::int as n from load_board_posts where load_id = ${twin}`)[0].n).toBe(0);
    const merged = await lb("post", { load_id: twin, on_duplicate: "merge" }, t.dispatcher);
    expect(merged.body.data).toMatchObject({ status: "merged", merged_into: post });
    const board = await lb("board", { pickup_from: day(20), pickup_to: day(20) }, t.carriers.X.user);
    expect(board.body.data.posts.map((p: { post_id: string; merged_posts: number }) => [p.post_id, p.merged_posts])).toEqual([[post, 1]]);
  });

  it("bad input: a float target rate or bid is a 400, a bid on a merged post is load_board_post_closed", async () => {
    const load = await openLoad(t, day(21));
    await expectProblem(await lb("post", { load_id: load, target_rate_cents: 1800.5 }, t.dispatcher), 400, "validation_failed");
    const r = await lb("post", { load_id: load }, t.dispatcher);
    const post = r.body.data.post_id;
    await expectProblem(await lb("bid", { post_id: post, amount_cents: 1799.99 }, t.carriers.X.user), 400, "validation_failed");
    await expectProblem(await lb("bid", { post_id: post, amount_cents: 0 }, t.carriers.X.user), 400, "validation_failed");
    await expectProblem(await lb("post", { load_id: load }, t.carriers.X.user), 403, "forbidden");
    // A day the schema's format takes and Postgres cannot (the year 0): the database's refusal, a 400 (was a 500).
    await expectProblem(await lb("board", { pickup_from: "0000-01-01" }, t.carriers.X.user), 400, "validation_failed");
  });
});

describe("bids, acceptance and escrow", () => {
  it("carrier B never sees carrier A's bid (HTTP and SQL); accepting covers the load, rejects the rest, holds escrow; delivery releases it", async () => {
    const { load, post } = await posted(22);
    const bidX = await bidOn(post, t.carriers.X.user, 176000);
    const bidY = await bidOn(post, t.carriers.Y.user, 171000);

    const seenByY = await lb("board", { pickup_from: day(22), pickup_to: day(22) }, t.carriers.Y.user);
    const mine = seenByY.body.data.posts.find((p: { post_id: string }) => p.post_id === post);
    expect(mine.bids.map((b: { bid_id: string }) => b.bid_id)).toEqual([bidY]);
    expect(JSON.stringify(seenByY.body)).not.toContain("176000");
    expect(JSON.stringify(seenByY.body)).not.toContain("200000"); // the sell linehaul
    const asY = async (query: (tx: any) => PromiseLike<unknown>) => (await asUser(t.carriers.Y.user, t.id, query, "load_board")).result as Record<string, unknown>[];
    expect((await asY((tx) => tx`select id from bids where post_id = ${post}`)).map((r) => r.id)).toEqual([bidY]);
    expect(await asY((tx) => tx`select count(*)::int as n from charge_lines where load_id = ${load}`)).toEqual([{ n: 0 }]);
    await expectProblem(await lb("withdraw_bid", { bid_id: bidX }, t.carriers.Y.user), 403, "forbidden");
    await expectProblem(await lb("accept_bid", { bid_id: bidY }, t.carriers.Y.user), 403, "forbidden");

    const acc = await lb("accept_bid", { bid_id: bidY }, t.dispatcher);
    expect(acc.status, JSON.stringify(acc.body)).toBe(200);
    expect(acc.body.data).toMatchObject({ load_status: "covered", carrier_party_id: t.carriers.Y.id, rate_cents: 171000, rejected_bids: 1, escrow: { status: "held", amount_cents: 171000 } });
    const [l] = await sql`select status, carrier_party_id from loads where id = ${load}`;
    expect(l).toEqual({ status: "covered", carrier_party_id: t.carriers.Y.id });
    expect((await sql`select status from bids where id = ${bidX}`)[0].status).toBe("rejected");
    expect((await sql`select status from load_board_posts where id = ${post}`)[0].status).toBe("covered");
    expect(await escrowOf(bidY)).toEqual({ status: "held", amount: 171000 });
    const [{ trace_id: trace }] = await sql`select trace_id from journal_entries where external_key = ${`load_board:hold:${bidY}`}`;
    const events = await sql`select event_type, payload->>'source_portal' as door from outbox_events where trace_id = ${trace}`;
    expect(events.map((e) => e.event_type)).toEqual(expect.arrayContaining(["freight.bid.accepted", "freight.load.covered", "freight.bid.rejected", "freight.load_board_post.covered", "freight.journal_entry.posted", "freight.escrow.held"]));
    expect(new Set(events.map((e) => e.door))).toEqual(new Set(["load_board"]));
    expect(await unbalanced()).toBe(0);
    // too late and not open any more
    await expectProblem(await lb("bid", { post_id: post, amount_cents: 150000 }, t.carriers.Z.user), 409, "load_board_post_closed");

    const Y = t.carriers.Y;
    await asUser(Y.user, t.id, (tx) => tx`select app_private.freight_load_dispatch(${load}, ${Y.driver}, ${Y.tractor}, ${Y.trailer})`);
    await asUser(Y.user, t.id, (tx) => tx`select app_private.freight_load_event_record(${load}, ${tx.json({ source_event_id: `lb-${bidY}`, status_code: "D1", stop_sequence: 2 })})`);
    expect((await sql`select status from loads where id = ${load}`)[0].status).toBe("delivered");
    expect(await escrowOf(bidY)).toEqual({ status: "released", amount: 171000 });
    const seen = await lb("escrow", { load_id: load }, Y.user);
    expect(seen.body.data.escrows).toEqual([expect.objectContaining({ bid_id: bidY, status: "released", amount_cents: 171000 })]);
    expect((await lb("escrow", { load_id: load }, t.carriers.X.user)).body.data.escrows).toEqual([]);
    const [bal] = await sql`select coalesce(sum(l.amount_cents), 0)::int as n from journal_lines l join ledger_accounts a on a.id = l.account_id
                            where a.tenant_id = ${t.id} and a.subtype = 'escrow' and a.party_id = ${Y.id}`;
    expect(bal.n).toBe(0);
    expect(await unbalanced()).toBe(0);
  });

  it("a cancelled load refunds its escrow; the ledger still balances", async () => {
    const { load, post } = await posted(23);
    const bidX = await bidOn(post, t.carriers.X.user, 165000);
    expect((await lb("accept_bid", { bid_id: bidX }, t.dispatcher)).status).toBe(200);
    const cancel = await act("broker", "cancel", { load_id: load, reason: "customer cancelled" }, t.dispatcher, t.id);
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
    expect(await escrowOf(bidX)).toEqual({ status: "refunded", amount: 165000 });
    const lines = await sql`select a.subtype, sum(l.amount_cents)::int as n from journal_entries e join journal_lines l on l.entry_id = e.id
                            join ledger_accounts a on a.id = l.account_id where e.source_id = ${bidX} group by a.subtype order by a.subtype`;
    expect(lines).toEqual([{ subtype: "cash", n: 0 }, { subtype: "escrow", n: 0 }]);
    expect(await unbalanced()).toBe(0);
  });
});

describe("agents", () => {
  it("merges a duplicate post of another poster within one tick; ops revert unmerges it, once, and it is held", async () => {
    const first = await posted(24);
    const second = await posted(24, colleague);
    await tick();
    const run = await runOf(`merge-post:${second.post}`);
    expect(run, "an agents' run for the duplicate").toBeDefined();
    expect((await sql`select status, merged_into from load_board_posts where id = ${second.post}`)[0]).toEqual({ status: "merged", merged_into: first.post });
    const [feed] = await sql`select principal from live_feed where trace_id = ${run.trace_id} and phase = 'start'`;
    expect(feed?.principal).toBe("agents");
    const [ev] = await sql`select payload from outbox_events where trace_id = ${run.trace_id} and event_type = 'freight.load_board_post.merged'`;
    expect(ev.payload).toMatchObject({ into_post_id: first.post, source_portal: "load_board" });

    const as = await principalName(t.dispatcher);
    const r = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", as, "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await sql`select status from load_board_posts where id = ${second.post}`)[0].status).toBe("open");
    const twice = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", as, "--json"]);
    expect(twice.json().error.code).toBe("already_reverted");
    await tick();
    expect((await sql`select status from load_board_posts where id = ${second.post}`)[0].status).toBe("open");
  });

  it("expires a bid left unanswered past its response deadline; kill switch on: the agents do nothing (Postgres refuses agents@)", async () => {
    const { post } = await posted(25);
    const bidZ = await bidOn(post, t.carriers.Z.user, 160000);
    const dup = await posted(25, colleague);
    const { machine } = await withEmergencyStop(async () => {
      await sql`update bids set respond_by = now() - interval '1 minute' where id = ${bidZ}`;
      await tick();
      return { machine: await portal("load_board").call("expire_bid", { bid_id: bidZ }, "agents", { tenant: t.id }) };
    });
    await expectProblem(machine, 503, "autonomy_halted");
    expect((await sql`select status from bids where id = ${bidZ}`)[0].status).toBe("open");
    expect((await sql`select status from load_board_posts where id = ${dup.post}`)[0].status).toBe("open");
    await expectProblem(await lb("accept_bid", { bid_id: bidZ }, t.dispatcher), 409, "load_board_bid_closed");

    await tick();
    expect((await sql`select status from bids where id = ${bidZ}`)[0].status).toBe("expired");
    expect((await sql`select status from load_board_posts where id = ${dup.post}`)[0].status).toBe("merged");
    const run = await runOf(`expire-bid:${bidZ}`);
    const r = await runScript("scripts/ops.ts", ["revert", run.trace_id, "--as", await principalName(t.dispatcher), "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await sql`select status, respond_by > now() as fresh from bids where id = ${bidZ}`)[0]).toEqual({ status: "open", fresh: true });
  });
});
