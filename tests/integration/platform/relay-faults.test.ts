/**
 * Issue 12, items 3, 6 and 7: delivery outlives an SLO rollback and the stop (relay@); a slow
 * or hanging receiver causes no re-claim, no batch-wide ack failure and no unlogged attempt;
 * a 410 parks the events its subscription would have taken instead of dropping them.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_TENANT, userJwt, USERS } from "../../helpers/auth.ts";
import { CHARTER_RESUME, CHARTER_STOP, sql, withFlag } from "../../helpers/db.ts";
import { fnUrl } from "../../helpers/env.ts";
import { type Answer, newSecret, outboxTenant, publishEvents, receiver, until } from "../../helpers/outbox.ts";
import { type Tx, withClaims } from "../../../packages/shared/db/client.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { Relay, type RelayOptions, SCHEDULED_DRAIN_MS } from "../../../packages/shared/outbox/relay.ts";
import { dlqSize } from "../../../scripts/ops/metrics.ts";

const tenants: string[] = [];
const closers: (() => Promise<void>)[] = [];
// The scheduler's relay (pg_cron -> outbox-relay) pauses while this file runs: each test's
// relays are the only ones, so what the receivers saw is what they did (integration files
// run one at a time; the job's command, which a test reads, stays as it is).
beforeAll(async () => {
  await sql`select cron.alter_job(jobid, active := false) from cron.job where jobname like 'outbox-relay%'`;
});
afterAll(async () => {
  // Nothing of this file is left for the scheduler's relay to deliver.
  await sql`update outbox_subscriptions set enabled = false, gone_at = null where tenant_id = any(${tenants}::uuid[])`;
  for (const close of closers.reverse()) await close();
  await sql`select cron.alter_job(jobid, active := true) from cron.job where jobname like 'outbox-relay%'`;
  await sql.end();
});

/** A relay of the test's own tenant, and the warnings it logged (a failed drain or ack would be one): the shared stack's other events (other files' slow receivers) never hold it up. */
function testRelay(opts: RelayOptions & { tenantId: string }) {
  const warnings: string[] = [];
  const log = createLogger("relay-faults", {
    write: (line: string) => void (["warn", "error", "fatal"].includes(JSON.parse(line).level) && warnings.push(line)),
  });
  return { relay: new Relay(sql, opts, log), warnings };
}

async function rx(answer: Answer) {
  const secret = newSecret();
  const r = await receiver(secret, answer);
  closers.push(r.close);
  return { ...r, secret };
}

async function tenantWith(url: string, secret: string, slug: string, opts: { maxAttempts?: number } = {}) {
  const t = await outboxTenant(sql, url, secret, { ...opts, slug });
  tenants.push(t.tenant);
  return t;
}

/** Every logged attempt of these events, per event id. */
async function logged(ids: string[]) {
  const rows = await sql`select event_id, attempt, ok, status_code, error from outbox_deliveries
                         where event_id = any(${ids}::uuid[]) order by created_at, attempt`;
  return rows;
}

const states = async (tenant: string) =>
  (await sql`select state, count(*)::int as n from outbox_events where tenant_id = ${tenant} group by state order by state`)
    .map((r) => `${r.state}:${r.n}`);

describe("a relay of one tenant (RelayOptions.tenantId)", () => {
  it("claims, delivers and acknowledges that tenant's events only; another tenant's wait for their own relay", async () => {
    const r = await rx(() => ({ status: 204 }));
    const mine = await tenantWith(r.url, r.secret, "scoped-a");
    const other = await tenantWith(r.url, r.secret, "scoped-b");
    const ids = await publishEvents(sql, mine.tenant, 3, 3);
    const others = await publishEvents(sql, other.tenant, 3, 3);
    await testRelay({ timeoutMs: 2000, tenantId: mine.tenant }).relay.drainOnce();
    expect(await states(mine.tenant)).toEqual(["delivered:3"]);
    expect(await states(other.tenant)).toEqual(["pending:3"]);
    expect(new Set(r.got.map((g) => g.id))).toEqual(new Set(ids));
    await testRelay({ timeoutMs: 2000, tenantId: other.tenant }).relay.drainOnce();
    expect(await states(other.tenant)).toEqual(["delivered:3"]);
    expect(new Set(r.got.map((g) => g.id))).toEqual(new Set([...ids, ...others]));
  });
});

describe("item 3: delivery is relay@'s, not an agent's", () => {
  it("with agents off (what an SLO rollback sets) a human's price_one event is still delivered", async () => {
    const r = await rx(() => ({ status: 204 }));
    // The demo tenant (it has rates data); the subscription takes only this test's quote events.
    const ref = `d0000000-0000-4000-8000-000000000001/relay-faults-${randomUUID().slice(0, 8)}`;
    await sql`select vault.create_secret(${r.secret}, ${ref})`;
    const [sub] = await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref, event_filter)
                            values ('d0000000-0000-4000-8000-000000000001', ${ref.split("/")[1]}, ${r.url}, ${ref}, '{rates.quote.created}')
                            returning id`;
    closers.push(async () => void await sql`update outbox_subscriptions set enabled = false where id = ${sub.id}`);
    const { relay, warnings } = testRelay({ timeoutMs: 2000, tenantId: DEMO_TENANT });
    const stop = await relay.start(100);
    try {
      await withFlag("agents.autonomousEnabled", "global", "false", async () => {
        const res = await fetch(fnUrl("rates/price_one"), {
          method: "POST",
          headers: { authorization: `Bearer ${await userJwt(USERS.ops)}`, "content-type": "application/json", "idempotency-key": randomUUID() },
          body: JSON.stringify({ origin: "60601", destination: "75201", equipment: "van", pickup_date: new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10) }),
        });
        expect(res.status).toBe(200);
        const { trace_id } = await res.json();
        const [ev] = await sql`select id from outbox_events where trace_id = ${trace_id} and event_type = 'rates.quote.created'`;
        expect(await until(() => r.got.some((g) => g.id === ev.id), 20_000)).toBe(true);
        expect(await until(async () => (await sql`select state from outbox_events where id = ${ev.id}`)[0].state === "delivered", 5000)).toBe(true);
        expect((await logged([ev.id])).map((d) => d.ok)).toEqual([true]);
      }, { reason: "relay-faults: the SLO rollback's switch" });
      expect(warnings.filter((w) => w.includes("agents_disabled"))).toEqual([]);
    } finally {
      await stop();
    }
  });

  it("under STOP committed events are delivered; no machine writes anything else", async () => {
    const r = await rx(() => ({ status: 204 }));
    const { tenant } = await tenantWith(r.url, r.secret, "stop");
    // Committed before the stop, by a human (the owner session publishes as a trusted operator).
    const ids = await publishEvents(sql, tenant, 5, 5);
    const { relay, warnings } = testRelay({ timeoutMs: 2000, tenantId: tenant });
    await sql.unsafe(CHARTER_STOP);
    let stop: (() => Promise<void>) | null = null;
    try {
      const [{ at: stoppedAt }] = await sql`select clock_timestamp() as at`;
      stop = await relay.start(100);
      expect(await until(() => ids.every((id) => r.got.some((g) => g.id === id)), 20_000)).toBe(true);
      expect(await until(async () => (await states(tenant)).join() === "delivered:5", 5000)).toBe(true);
      // An agent's write in the same window is refused (machines publish nothing new) ...
      const refused = await withClaims(sql, { sub: "a0000000-0000-4000-8000-000000000002", role: "authenticated", tenant_id: tenant },
        (tx: Tx) => tx`select app_private.outbox_publish('load', 'x', 'load.updated')`).then(() => "committed", (e) => e.code);
      expect(refused).toBe("SY001");
      // ... and what relay@ wrote is its delivery bookkeeping only: the deliveries log and the
      // events' state; no machine principal left an audit row (every domain, subscription,
      // alert and flag write is audited) or published an event since the stop.
      expect((await logged(ids)).length).toBe(5);
      const [machine] = await sql`
        select (select count(*)::int from audit_log where occurred_at >= ${stoppedAt} and principal_kind = 'machine') as audited,
               (select count(*)::int from outbox_events e join principals p on p.id = e.published_by
                 where e.created_at >= ${stoppedAt} and p.kind = 'machine') as published`;
      expect(machine).toEqual({ audited: 0, published: 0 });
      expect(warnings).toEqual([]);
    } finally {
      await stop?.();
      await sql.unsafe(CHARTER_RESUME);
    }
  });
});

describe("item 6: a slow or hanging receiver", () => {
  it("a batch that outlasts its claim is not claimed again: each event reaches the receiver once, every attempt logged", async () => {
    const r = await rx(() => ({ status: 200, delayMs: 400 }));
    const { tenant } = await tenantWith(r.url, r.secret, "slow");
    const ids = await publishEvents(sql, tenant, 6, 6);
    // Six deliveries one at a time take about 2.4 s against a 1 s claim; a second relay (the
    // scheduled one) keeps draining meanwhile.
    const a = testRelay({ claimSeconds: 1, concurrency: 1, timeoutMs: 5000, tenantId: tenant });
    const b = testRelay({ claimSeconds: 1, timeoutMs: 5000, tenantId: tenant });
    const first = a.relay.drainOnce();
    expect(await until(() => r.seen() >= 1, 10_000)).toBe(true);
    const stopB = await b.relay.start(100);
    try {
      await first;
      expect(await until(async () => (await states(tenant)).join() === "delivered:6", 10_000)).toBe(true);
    } finally {
      await stopB();
    }
    expect([...r.attempts.values()]).toEqual([1, 1, 1, 1, 1, 1]); // no duplicate webhook-id
    expect((await logged(ids)).map((d) => d.ok)).toEqual([true, true, true, true, true, true]);
    expect([...a.warnings, ...b.warnings]).toEqual([]);
  });

  it("a receiver that hangs 30 s: the attempts it saw are all logged, and the late acknowledgement fails nothing", async () => {
    // First attempts hang for 30 s (the relay gives up after 3 s); later ones are answered.
    const r = await rx((_id, attempt) => (attempt === 1 ? { status: 200, delayMs: 30_000 } : { status: 200 }));
    const { tenant } = await tenantWith(r.url, r.secret, "hang");
    const ids = await publishEvents(sql, tenant, 3, 3);
    const a = testRelay({ claimSeconds: 30, timeoutMs: 3000, tenantId: tenant });
    const b = testRelay({ claimSeconds: 30, timeoutMs: 3000, tenantId: tenant });
    const first = a.relay.drainOnce();
    expect(await until(() => r.seen() === 3, 10_000)).toBe(true);
    // The first relay stalls past its claim (its heartbeat cannot help a stalled process):
    // the claim lapses and another relay takes the events and delivers them.
    await sql`update outbox_events set next_attempt_at = now() where id = any(${ids}::uuid[])`;
    await b.relay.drainOnce();
    expect(await until(async () => (await states(tenant)).join() === "delivered:3", 10_000)).toBe(true);
    const stats = await first; // before the fix: "outbox event ... is delivered, not delivering", all rolled back
    expect(stats.late).toBe(3);
    const log = await logged(ids);
    expect(log.length).toBe(r.seen()); // every attempt the receiver saw
    expect(log.filter((d) => !d.ok).map((d) => [d.attempt, d.error])).toEqual(ids.map(() => [1, "timeout after 3000 ms"]));
    expect(log.filter((d) => d.ok).map((d) => d.attempt)).toEqual([2, 2, 2]);
    expect(a.warnings.join()).toContain("logged only");
  });

  it("a drain with a budget starts no delivery that could end after it; the rest is released, not counted", async () => {
    const r = await rx(() => ({ status: 200, delayMs: 30_000 }));
    const { tenant } = await tenantWith(r.url, r.secret, "budget");
    const ids = await publishEvents(sql, tenant, 3, 3);
    // A 3 s delivery in a 5 s budget: the first starts (the claim may take up to 2 s on a
    // loaded machine), a second could not end in time (3 s + 3 s).
    const { relay } = testRelay({ concurrency: 1, timeoutMs: 3000, tenantId: tenant });
    try {
      const stats = await relay.drain(5000);
      expect(stats.released).toBeGreaterThanOrEqual(2);
      expect(r.seen()).toBe(1);
      const rows = await sql`select state, attempts from outbox_events where id = any(${ids}::uuid[])`;
      expect(rows.map((e) => `${e.state}/${e.attempts}`).sort()).toEqual(["failed/1", "pending/0", "pending/0"]);
      expect((await logged(ids)).length).toBe(1);
    } finally {
      // Its hanging receiver must not hold up the next tests' relays (they deliver every tenant's events).
      await sql`update outbox_subscriptions set enabled = false where tenant_id = ${tenant}`;
    }
  });

  it("the scheduled relay call waits longer than the function drains (no false schedule.call alert)", async () => {
    const jobs = await sql`select command from cron.job where jobname like 'outbox-relay%'`;
    expect(jobs.length).toBeGreaterThan(0);
    for (const j of jobs) {
      const timeout = Number(/'service_role_key',\s*(\d+)\)/.exec(j.command)?.[1] ?? 10_000); // pg_net's default: 10 s
      expect(timeout).toBeGreaterThanOrEqual(SCHEDULED_DRAIN_MS + 5000);
    }
  });
});

describe("item 7: a 410 parks events, it does not drop them", () => {
  it("the subscription goes off with a reason and an alert; its events wait in the DLQ, visible; re-enabled, they are replayed", async () => {
    let gone = true;
    const r = await rx(() => ({ status: gone ? 410 : 200 }));
    const { tenant, subscriptionId } = await tenantWith(r.url, r.secret, "gone");
    await sql`insert into role_assignments (principal_id, role, tenant_id) values (${USERS.ops}, 'ops_manager', ${tenant})`;
    const ids = await publishEvents(sql, tenant, 8, 8);
    // Two per batch: the first batch meets the 410, the other six are never sent.
    const { relay } = testRelay({ batchSize: 2, timeoutMs: 2000, tenantId: tenant });
    const stop = await relay.start(100);
    try {
      expect(await until(async () => (await states(tenant)).join() === "parked:8", 20_000)).toBe(true);
      expect((await logged(ids)).length).toBe(r.seen()); // the 410s (the rest were never sent)
      const [sub] = await sql`select enabled, gone_at is not null as gone, disabled_reason from outbox_subscriptions where id = ${subscriptionId}`;
      expect(sub).toMatchObject({ enabled: false, gone: true, disabled_reason: expect.stringMatching(/^410 Gone from the receiver \(event /) });
      const [audit] = await sql`select reason, principal_name from audit_log where action = 'outbox_subscriptions.update'
                                and target_id = ${subscriptionId}::text order by occurred_at desc limit 1`;
      expect(audit).toMatchObject({ principal_name: "relay", reason: expect.stringMatching(/^receiver of subscription n8n answered 410 Gone/) });
      const alerts = await sql`select severity from alerts where tenant_id = ${tenant} and source = 'outbox.subscription_gone' and resolved_at is null`;
      expect(alerts.map((a) => a.severity)).toEqual(["warning"]);
      const dlq = await sql`select id, state, parked_for from dlq_entries where tenant_id = ${tenant}`;
      expect(dlq.map((d) => [d.state, d.parked_for])).toEqual(ids.map(() => ["parked", [subscriptionId]]));

      // Visible: ops status and the console's outbox panel.
      expect((await dlqSize(sql, { interval: "5 minutes" })).parked).toBeGreaterThanOrEqual(8);
      const res = await fetch(fnUrl("console/api/outbox"), { headers: { authorization: `Bearer ${await userJwt(USERS.ops, { tenant })}` } });
      expect(res.status).toBe(200);
      expect((await res.json()).dlq_parked).toBe(8);

      // Replayed through the DLQ caps, once the subscription is back (not before).
      const asOps = (q: (tx: Tx) => PromiseLike<unknown>) =>
        withClaims(sql, { sub: USERS.ops, role: "authenticated", tenant_id: tenant }, q).then(() => "ok", (e) => `${e.code} ${e.message}`);
      const dlqIds = dlq.map((d) => d.id as string);
      expect(await asOps((tx) => tx`select app_private.replay_request(${tenant}::uuid, ${dlqIds}::uuid[], false)`))
        .toMatch(/^SY018 replay_bad_selection: DLQ entry .* is parked for subscription n8n, which is still switched off/);
      gone = false;
      await sql`update outbox_subscriptions set enabled = true where id = ${subscriptionId}`;
      expect(await asOps((tx) => tx`select app_private.replay_request(${tenant}::uuid, ${dlqIds}::uuid[], false)`)).toBe("ok");
      expect(await until(async () => (await states(tenant)).join() === "delivered:8", 20_000)).toBe(true);
      expect(new Set(r.got.map((g) => g.id))).toEqual(new Set(ids));
    } finally {
      await stop();
    }
  });
});
