/**
 * The Workers portal over HTTP: 30 queue items enqueued concurrently over 3 on-shift
 * dispatchers land within one item of even, each assigned once (assignment is race-safe in
 * SQL); ending a shift reassigns that worker's open items; the agents rebalance a queue over
 * its SLA and alert on a coverage gap of a 24/7 rule.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "../../helpers/db.ts";
import { act } from "../../helpers/freight.ts";
import { expectProblem, tick } from "../../helpers/http.ts";

let tenant: string;
let ops: string;
let d: string[];
const shiftOf = new Map<string, string>();

/** Open items per dispatcher, in d's order. */
const loads = async () => {
  const rows = await sql`select assigned_to, count(*)::int as n from workers_items where tenant_id = ${tenant} and status = 'open' group by 1`;
  return d.map((w) => rows.find((r) => r.assigned_to === w)?.n ?? 0);
};

beforeAll(async () => {
  tenant = randomUUID();
  const tag = `workers-${randomBytes(3).toString("hex")}`;
  await sql`insert into tenants (id, slug, name) values (${tenant}, ${tag}, 'Workers Test')`;
  const principal = async (role: string, who: string) => {
    const [p] = await sql`insert into principals (kind, name, display_name) values ('human', ${`${who}@${tag}.test`}, ${who}) returning id`;
    await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, ${role}, ${tenant})`;
    return p.id as string;
  };
  ops = await principal("ops_manager", "ops");
  d = [await principal("dispatcher", "d1"), await principal("dispatcher", "d2"), await principal("dispatcher", "d3")];
  await sql`insert into workers_staff (tenant_id, principal_id, skills) select ${tenant}, unnest(${d}::uuid[]), '{dispatch}'`;
  await sql`insert into workers_queues (tenant_id, key, name, skill, sla_minutes, min_coverage)
            values (${tenant}, 'exceptions', 'Exceptions', 'dispatch', 30, 1), (${tenant}, 'tenders', 'Tenders to cover', 'dispatch', 15, 0)`;
  const now = Date.now();
  for (const w of d) {
    const r = await act("workers", "shift_add", { principal_id: w, starts_at: new Date(now - 3_600_000).toISOString(), ends_at: new Date(now + 8 * 3_600_000).toISOString() }, ops, tenant);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    shiftOf.set(w, r.body.data.shift_id);
  }
});
afterAll(async () => {
  await sql.end();
});

describe("load balancing", () => {
  it("30 items enqueued at once over 3 on-shift workers: each assigned once, within one item of even", async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      act("workers", "enqueue", { queue_key: i % 2 ? "exceptions" : "tenders", source_type: "freight.load", source_id: `L-${i}`, summary: `Item ${i}`, dedupe_key: `item:${i}` }, d[i % 3], tenant)));
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(results.every((r) => r.body.data.assigned_to !== null)).toBe(true);
    const counts = await loads();
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    const q = await act("workers", "queues", {}, ops, tenant);
    const listed = q.body.data.workers as { principal_id: string; open: number; on_shift: boolean }[];
    expect(d.map((w) => listed.find((x) => x.principal_id === w))).toEqual(counts.map((n) => expect.objectContaining({ open: n, on_shift: true })));
    // the same dedupe key again: its open item, nothing new
    const again = await act("workers", "enqueue", { queue_key: "tenders", source_type: "freight.load", summary: "again", dedupe_key: "item:0" }, d[0], tenant);
    expect(again.body.data.replayed).toBe(true);
    await expectProblem(await act("workers", "enqueue", { queue_key: "nope", source_type: "x.y", summary: "x" }, d[0], tenant), 422, "worker_unknown");
    await expectProblem(await act("workers", "shift_add", { principal_id: d[0], starts_at: new Date().toISOString(), ends_at: new Date(Date.now() + 3_600_000).toISOString() }, ops, tenant), 409, "shift_overlap");
    await expectProblem(await act("workers", "rebalance", {}, d[0], tenant), 403, "forbidden");
  });

  it("ending a shift reassigns that worker's open items to the others", async () => {
    const before = await loads();
    const r = await act("workers", "shift_end", { shift_id: shiftOf.get(d[1]) }, ops, tenant);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.data).toMatchObject({ held: before[1], still_unassigned: 0 });
    const after = await loads();
    expect(after[1]).toBe(0);
    expect(after[0] + after[2]).toBe(30);
    expect(Math.abs(after[0] - after[2])).toBeLessThanOrEqual(1);
    const [e] = await sql`select payload from outbox_events where trace_id = ${r.body.trace_id} and event_type = 'workers.shift.ended'`;
    expect(e.payload).toMatchObject({ held: before[1], principal_id: d[1] });
    // a worker closes its own item; another's is not its to close
    const [mine] = await sql`select id from workers_items where tenant_id = ${tenant} and assigned_to = ${d[0]} and status = 'open' limit 1`;
    const [theirs] = await sql`select id from workers_items where tenant_id = ${tenant} and assigned_to = ${d[2]} and status = 'open' limit 1`;
    expect((await act("workers", "close_item", { item_id: mine.id }, d[0], tenant)).status).toBe(200);
    await expectProblem(await act("workers", "close_item", { item_id: mine.id }, d[0], tenant), 409, "queue_item_closed");
    await expectProblem(await act("workers", "close_item", { item_id: theirs.id }, d[0], tenant), 403, "forbidden");
  });
});

describe("agents", () => {
  it("a queue over its SLA is rebalanced; a coverage gap raises an alert", async () => {
    // w0 overloaded by hand and an item past due: one tick rebalances
    await sql`update workers_items set assigned_to = ${d[0]} where tenant_id = ${tenant} and assigned_to = ${d[2]} and status = 'open'
                and id in (select id from workers_items where tenant_id = ${tenant} and assigned_to = ${d[2]} and status = 'open' order by id limit 6)`;
    // a breach on a balanced worker's item moves nothing: only the overloaded one's counts
    await sql`update workers_items set due_at = now() - interval '1 minute' where id = (select id from workers_items where tenant_id = ${tenant} and assigned_to = ${d[0]} and status = 'open' order by id limit 1)`;
    const skewed = await loads();
    expect(skewed[0] - skewed[2]).toBeGreaterThan(1);
    await tick();
    // (rebalance is not reversible: no action_runs row; its audit row names the agents)
    const [run] = await sql`select after from audit_log where tenant_id = ${tenant} and action = 'workers.rebalance' and principal_name = 'agents'`;
    expect(run, "an agents' rebalance").toBeDefined();
    expect(run.after.moved).toBeGreaterThan(0);
    const after = await loads();
    expect(Math.abs(after[0] - after[2])).toBeLessThanOrEqual(1);
    // exceptions needs a dispatcher 24/7; the shifts end within 8 hours: a gap
    const [alert] = await sql`select summary, dedupe_key from alerts where tenant_id = ${tenant} and source = 'workers.coverage_gap' and resolved_at is null`;
    expect(alert?.summary).toMatch(/^Queue exceptions has fewer than 1 worker on shift /);
    const gaps = await act("workers", "coverage", {}, ops, tenant);
    expect(gaps.body.data.gaps.map((g: { queue_key: string }) => g.queue_key)).toEqual(["exceptions"]);
  });
});
