import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { fnUrl } from "../../helpers/env.ts";
import { pinGlobalFlags } from "../../helpers/flags.ts";
import { USERS, userJwt } from "../../helpers/auth.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../../../packages/shared/outbox/relay.ts";
import { sql } from "../../helpers/db.ts";

const servers: Server[] = [];
// The relay acts as agents@: autonomy must be on and agents enabled for it to deliver.
pinGlobalFlags(sql, { "autonomy.emergencyStop": "false", "autonomy.mode": "FULL", "agents.autonomousEnabled": "true" }, "dlq.test");
const tenants: string[] = [];
let stopRelay: () => Promise<void>;

/** A receiver answering `status`, counting deliveries per event id. */
async function receiver(status: number) {
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const id = String(req.headers["webhook-id"]);
    seen.set(id, (seen.get(id) ?? 0) + 1);
    req.resume();
    req.on("end", () => res.writeHead(status).end());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen };
}

/** A tenant where the ops user is ops_manager, subscribed to `url`, with `n` dead events. */
async function tenantWithDlq(url: string, n: number, aggregates: number) {
  const tenant = randomUUID();
  tenants.push(tenant);
  await sql`insert into tenants (id, slug, name) values (${tenant}, ${"dlq-" + tenant.slice(0, 8)}, 'DLQ test')`;
  await sql`insert into role_assignments (principal_id, role, tenant_id) values (${USERS.ops}, 'ops_manager', ${tenant})`;
  await sql`select vault.create_secret(${"whsec_" + randomBytes(24).toString("base64")}, ${tenant + "/dlq-secret"})`;
  // Subscribed to the replayed events only (the replay requests publish events of their own).
  await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref, event_filter)
            values (${tenant}, 'n8n', ${url}, ${tenant + "/dlq-secret"}, '{load.*}')`;
  await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
            values ('outbox.retryBaseMs', ${"tenant:" + tenant}, '50', 'test', 'test')`;
  await sql`
    insert into dlq_entries (tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id, event,
                             attempts, last_error, payload_bytes, trace_id, dead_at)
    select ${tenant}, gen_random_uuid(), now() - interval '1 hour', 'load.updated', 'load', 'agg-' || (i % ${aggregates}),
           jsonb_build_object('payload', jsonb_build_object('n', i)), 8, 'HTTP 500', 10, md5(i::text || ${tenant}),
           now() - make_interval(secs => 1000 - i)
    from generate_series(1, ${n}) i`;
  return { tenant, token: await userJwt(USERS.ops, { tenant }) };
}

const post = (token: string, action: string, body: unknown) =>
  fetch(fnUrl(`autonomous/${action}`), { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
const deadIds = async (tenant: string) =>
  (await sql`select id from dlq_entries where tenant_id = ${tenant} and state = 'dead' order by dead_at, id`).map((r) => r.id as string);

beforeAll(async () => {
  stopRelay = await new Relay(sql, { principalId: RELAY_PRINCIPAL, batchSize: 200 }, createLogger("dlq-test", { write: () => {} })).start(100);
});
afterAll(async () => {
  await stopRelay();
  // Leave nothing failing behind for the scheduler's relay (later tests watch the DLQ).
  await sql`update outbox_subscriptions set enabled = false where tenant_id = any(${tenants}::uuid[])`;
  for (const s of servers) s.close();
  await sql.end();
});

describe("DLQ replay within the caps", () => {
  // Every test calls from 127.0.0.1: start each with that IP's 3-per-5-minutes unspent.
  beforeEach(async () => {
    await sql`delete from rate_limits where bucket = 'replay'`;
  });

  it("120 events take three runs of at most 50; a fourth within 5 minutes is refused from the API and from psql", async () => {
    const rx = await receiver(200);
    const { tenant, token } = await tenantWithDlq(rx.url, 125, 25);
    const originals = await sql`select event_id, trace_id from dlq_entries where tenant_id = ${tenant}`;

    const tooMany = await post(token, "replay", { dlq_ids: (await deadIds(tenant)).slice(0, 51) });
    expect(await tooMany.json()).toMatchObject({ status: 422, code: "replay_cap_exceeded" });

    for (const size of [50, 50, 20]) {
      const res = await post(token, "replay", { dlq_ids: (await deadIds(tenant)).slice(0, size) });
      const body = await res.json();
      expect(res.status).toBe(200);
      expect(body.data).toMatchObject({ status: "executed", batch_size: size });
      expect(body.data.caps["budget.replay.maxBatch"]).toBe(50);
    }
    const fourth = await post(token, "replay", { dlq_ids: await deadIds(tenant) });
    expect(fourth.status).toBe(429);
    expect((await fourth.json()).code).toBe("rate_limited");
    expect(Number(fourth.headers.get("retry-after"))).toBeGreaterThan(0);
    const left = await deadIds(tenant);
    expect(left).toHaveLength(5);
    await expect(sql`select app_private.replay_request(${tenant}, ${left}::uuid[], false)`).rejects.toMatchObject({ code: "SY005" });

    // Every replayed event is delivered with its original id and trace.
    await expect.poll(() => rx.seen.size, { timeout: 20_000 }).toBe(120);
    const replayed = await sql`select id, trace_id from outbox_events where tenant_id = ${tenant} and event_type = 'load.updated'`;
    const byId = new Map(originals.map((o) => [o.event_id, o.trace_id]));
    expect(replayed).toHaveLength(120);
    for (const e of replayed) expect(byId.get(e.id)).toBe(e.trace_id);
  });

  it("a dry run reports what would replay and skips payloads over the 2 MB cap", async () => {
    const rx = await receiver(200);
    const { tenant, token } = await tenantWithDlq(rx.url, 3, 3);
    const [big] = await sql`
      insert into dlq_entries (tenant_id, event_id, event_created_at, event, payload_bytes, trace_id)
      values (${tenant}, gen_random_uuid(), now(), '{}', ${3 * 1024 * 1024}, 'big') returning id`;
    const res = await post(token, "replay", { all: true, dry_run: true });
    const { data } = await res.json();
    expect(data).toMatchObject({ status: "dry_run", batch_size: 3 });
    expect(data.skipped).toEqual([{ dlq_id: big.id, reason: "payload_too_large", payload_bytes: 3 * 1024 * 1024 }]);
    expect(await deadIds(tenant)).toHaveLength(4); // a dry run changes nothing
    expect(rx.seen.size).toBe(0);
  });

  it("a run in which more than 20% fail stops early and returns the rest to the DLQ", async () => {
    const rx = await receiver(500);
    const { tenant, token } = await tenantWithDlq(rx.url, 10, 5);
    const res = await post(token, "replay", { all: true });
    const { data } = await res.json();
    expect(data.batch_size).toBe(10);
    await expect.poll(async () => (await sql`select outcome from replay_requests where id = ${data.request_id}`)[0].outcome?.stopped, { timeout: 15_000 })
      .toBe(true);
    expect(rx.seen.size).toBeLessThan(10); // stopped before trying everything
    await expect.poll(async () => (await deadIds(tenant)).length, { timeout: 5000 }).toBe(10);
  });

  it("needs dlq.replay.request: a viewer is refused", async () => {
    const res = await post(await userJwt(USERS.viewer), "replay", { all: true, dry_run: true });
    expect(await res.json()).toMatchObject({ status: 403, code: "forbidden" });
  });
});
