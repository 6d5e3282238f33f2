import { type ChildProcess, spawn } from "node:child_process";
import { readlinkSync } from "node:fs";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { stackEnv } from "../../helpers/env.ts";
import { type Answer, newSecret, outboxTenant, publishEvents, receiver as startReceiver, until } from "../../helpers/outbox.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../../../packages/shared/outbox/relay.ts";
import { PROJECT_ROOT } from "../../../scripts/stack/instance.ts";
import { processes, processGroup, waitUntil } from "../../../scripts/stack/leftovers.ts";

const sql = postgres(stackEnv.dbUrl, { prepare: false, max: 6, onnotice: () => {} });
const log = createLogger("relay-test", { write: () => {} });
const tenants: string[] = [];

const receivers: { close: () => Promise<void> }[] = [];
async function receiver(secret: string, answer: Answer) {
  const rx = await startReceiver(secret, answer);
  receivers.push(rx);
  return rx;
}

/**
 * A tenant of its own with a subscription to `url`, and (unless `relay: false`) a relay of that
 * tenant: the shared stack's other due events (other files' dead receivers, older in seq) are
 * never claimed ahead of the test's, which a relay of every tenant did under load.
 */
const scenario = async (url: string, secret: string, opts: { maxAttempts?: number; relay?: boolean } = {}) => {
  const t = await outboxTenant(sql, url, secret, opts);
  tenants.push(t.tenant);
  if (opts.relay !== false) relays.push(await relay(t.tenant).start(100));
  return t;
};
/** The tenant's events by state, for a failed wait's message. */
const states = async (tenant: string) =>
  (await sql`select state, count(*)::int as n from outbox_events where tenant_id = ${tenant} group by state order by state`)
    .map((r) => `${r.state}:${r.n}`).join(" ");
const publish = (tenant: string, count: number, aggregates: number) => publishEvents(sql, tenant, count, aggregates);

const readlinkCwd = (pid: number) => {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return null;
  }
};

const relay = (tenantId: string) => new Relay(sql, { principalId: RELAY_PRINCIPAL, batchSize: 200, timeoutMs: 2000, tenantId }, log);
const relays: (() => Promise<void>)[] = [];
/** The killed-relay test's child relays, killed in afterAll whatever became of the test. */
const spawned: ChildProcess[] = [];

afterAll(async () => {
  for (const c of spawned) {
    try {
      process.kill(-c.pid!, "SIGKILL");
    } catch { /* already gone */ }
  }
  await Promise.all(relays.map((stop) => stop()));
  // Leave nothing failing behind for the scheduler's relay (later tests watch the DLQ).
  await sql`update outbox_subscriptions set enabled = false where tenant_id = any(${tenants}::uuid[])`;
  await Promise.all(receivers.map((r) => r.close()));
  await sql.end();
});

describe("outbox relay", () => {
  it("delivers 1,000 events over 10 aggregates in per-aggregate order, every signature verified", async () => {
    const secret = newSecret();
    const rx = await receiver(secret, () => ({ status: 204 }));
    const { tenant } = await scenario(rx.url, secret);
    const ids = await publish(tenant, 1000, 10);
    // By id: the stack may publish an event of its own for the new tenant (seen: 1001 delivered).
    const mine = () => rx.got.filter((g) => ids.includes(g.id));
    const all = await until(() => new Set(mine().map((g) => g.id)).size === 1000, 45_000);
    expect(all, `received ${new Set(mine().map((g) => g.id)).size} of 1000; events ${await states(tenant)}`).toBe(true);
    expect(rx.got.every((g) => g.verified)).toBe(true); // standardwebhooks verified each one
    expect(mine().every((g) => /^00-[0-9a-f]{32}-/.test(g.traceparent ?? ""))).toBe(true);
    const byAggregate = new Map<string, number[]>();
    for (const g of mine()) byAggregate.set(g.body.aggregate.id, [...(byAggregate.get(g.body.aggregate.id) ?? []), g.body.data.n]);
    expect(byAggregate.size).toBe(10);
    for (const seq of byAggregate.values()) expect(seq).toEqual([...seq].sort((a, b) => a - b));
    // Every delivery's commit-to-ack lag is recorded (the last acks may land just after).
    const lagged = async () => (await sql`select count(*)::int as n from outbox_delivery_lag where event_id = any(${ids}::uuid[])`)[0].n === 1000;
    expect(await until(lagged, 5000)).toBe(true);
  });

  it("a receiver that fails three times then succeeds gets every event once it recovers", async () => {
    const secret = newSecret();
    const rx = await receiver(secret, (_id, attempt) => ({ status: attempt <= 3 ? 500 : 200 }));
    const { tenant } = await scenario(rx.url, secret);
    await publish(tenant, 5, 5);
    expect(await until(() => rx.got.length === 5, 30_000)).toBe(true);
    expect(new Set(rx.got.map((g) => g.id)).size).toBe(5);
    for (const n of rx.attempts.values()) expect(n).toBe(4);
    // The acks land just after the receiver's 200s.
    const delivered = async () =>
      (await sql`select count(*) filter (where state = 'delivered')::int as n from outbox_events where tenant_id = ${tenant}`)[0].n === 5;
    expect(await until(delivered, 5000)).toBe(true);
  });

  it("a receiver that always fails sends the event to the DLQ with its trace id", async () => {
    const secret = newSecret();
    const rx = await receiver(secret, () => ({ status: 500 }));
    const { tenant } = await scenario(rx.url, secret, { maxAttempts: 3 });
    await publish(tenant, 2, 2);
    const dead = async () => (await sql`select count(*)::int as n from dlq_entries where tenant_id = ${tenant}`)[0].n === 2;
    expect(await until(dead, 30_000)).toBe(true);
    const rows = await sql`
      select d.trace_id, d.last_error, d.attempts, e.trace_id as event_trace
      from dlq_entries d join outbox_events e on e.id = d.event_id where d.tenant_id = ${tenant}`;
    for (const r of rows) {
      expect(r.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(r.trace_id).toBe(r.event_trace);
      expect(r.last_error).toBe("HTTP 500");
      expect(r.attempts).toBe(3);
    }
  });

  it("honours Retry-After and switches a subscription off on 410 Gone", async () => {
    const secret = newSecret();
    const rx = await receiver(secret, (_id, attempt) =>
      attempt === 1 ? { status: 429, headers: { "retry-after": "3" } } : { status: 200 });
    const { tenant } = await scenario(rx.url, secret);
    await publish(tenant, 1, 1);
    expect(await until(() => rx.attempts.size === 1, 10_000)).toBe(true);
    await until(async () => (await sql`select state from outbox_events where tenant_id = ${tenant}`)[0].state === "failed", 5000);
    const [e] = await sql`select extract(epoch from next_attempt_at - now()) as wait from outbox_events where tenant_id = ${tenant}`;
    expect(Number(e.wait)).toBeGreaterThan(1.5);

    const goneSecret = newSecret();
    const gone = await receiver(goneSecret, () => ({ status: 410 }));
    const g = await scenario(gone.url, goneSecret);
    await publish(g.tenant, 1, 1);
    const off = async () => !(await sql`select enabled from outbox_subscriptions where id = ${g.subscriptionId}`)[0].enabled;
    expect(await until(off, 10_000)).toBe(true);
  });

  it("a relay killed mid-batch and restarted loses nothing", async () => {
    const secret = newSecret();
    const rx = await receiver(secret, () => ({ status: 200, delayMs: 30 }));
    const { tenant } = await scenario(rx.url, secret, { relay: false }); // only the child relays below
    const ids = new Set(await publish(tenant, 300, 60));
    // Its own process group (detached): the test kills the group, so the node process running
    // scripts/relay.ts dies with the tsx wrapper (a SIGKILL to the wrapper alone left it running).
    const start = (): ChildProcess => spawn(`${PROJECT_ROOT}/node_modules/.bin/tsx`, [`${PROJECT_ROOT}/scripts/relay.ts`], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SUPABASE_DB_URL: stackEnv.dbUrl, RELAY_CLAIM_SECONDS: "2", RELAY_BATCH: "60", RELAY_POLL_MS: "200" },
      stdio: "ignore",
      detached: true,
    });
    const killGroup = async (child: ChildProcess, signal: NodeJS.Signals) => {
      const pgid = child.pid!;
      try {
        process.kill(-pgid, signal);
      } catch { /* already gone */ }
      if (!(await waitUntil(() => processGroup(pgid).length === 0, 5000))) {
        try {
          process.kill(-pgid, "SIGKILL");
        } catch { /* gone meanwhile */ }
      }
      return waitUntil(() => processGroup(pgid).length === 0, 5000);
    };
    const first = start();
    spawned.push(first);
    const firstWorkers = () => processGroup(first.pid!).filter((p) => p.cmdline.includes(`${PROJECT_ROOT}/scripts/relay.ts`));
    // The wrapper and the node process doing the work are both in the group (waited for: under
    // load tsx starts its child late, while the stack's own relays already deliver).
    expect(await until(() => rx.got.length >= 30 && firstWorkers().length >= 2, 30_000)).toBe(true);
    // Mid-batch: claimed events stay 'delivering' until their claim expires.
    expect(await killGroup(first, "SIGKILL")).toBe(true);
    expect(firstWorkers().map((p) => p.cmdline)).toEqual([]);
    // The process doing the work is gone, not only its wrapper: nothing it had claimed is
    // acknowledged afterwards. (Told by its claim token, not at the receiver: the scheduler's
    // relay may take up the other events meanwhile.)
    const relays = () => processes().filter((p) => p.cmdline.includes("scripts/relay.ts") && readlinkCwd(p.pid) === PROJECT_ROOT);
    expect(relays().map((p) => p.cmdline)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300)); // an acknowledgement already sent may still commit
    // (its claims are for 2 s; the scheduler's relay claims for 30 s)
    const held = await sql`select id, claim_token from outbox_events where tenant_id = ${tenant} and state = 'delivering'
                           and next_attempt_at < now() + interval '10 seconds'`;
    await new Promise((r) => setTimeout(r, 700));
    const [{ n: acked }] = await sql`select count(*)::int as n from outbox_events
      where id = any(${held.map((h) => h.id)}::uuid[]) and claim_token = any(${held.map((h) => h.claim_token)}::uuid[])
        and state <> 'delivering'`;
    expect(acked).toBe(0);
    const second = start();
    spawned.push(second);
    try {
      // its own events, counted by id (the stack may publish others for the new tenant)
      const received = () => new Set(rx.got.map((g) => g.id).filter((id) => ids.has(id))).size;
      expect(await until(() => received() === 300, 60_000), `received ${received()} of 300; events ${await states(tenant)}`).toBe(true);
      const allDelivered = async () =>
        (await sql`select count(*) filter (where state = 'delivered')::int as d from outbox_events where id = any(${[...ids]}::uuid[])`)[0].d === 300;
      expect(await until(allDelivered, 10_000)).toBe(true);
    } finally {
      expect(await killGroup(second, "SIGTERM")).toBe(true);
    }
  }, 150_000); // two tsx relays start; under a loaded machine each takes seconds
});
