/**
 * Issue 11, "Kill switch and machines" (items 2, 3) and item 17: the machines act under a
 * principal's claims so the rails see them; the relay and the DLQ auto-replay behave under
 * STEP-DOWN; detectors can read the conditions they check; prove-green cleans up.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { deadEntry, ensureTenant, sql, withEmergencyStop, withFlag } from "../../helpers/db.ts";
import { machineClaims, type Tx, withClaims } from "../../../packages/shared/db/client.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../../../packages/shared/outbox/relay.ts";
import { loadManifest, PORTALS } from "../../../packages/portals/registry.ts";
import { staleIndex } from "../../../packages/portals/rates/detectors.ts";
import { loadInstance } from "../../../scripts/stack/instance.ts";
import { proveGreen } from "../../../scripts/prove-green/checks.ts";

const servers: Server[] = [];
const tenants: string[] = [];
afterAll(async () => {
  await sql`update outbox_subscriptions set enabled = false where tenant_id = any(${tenants}::uuid[])`;
  for (const s of servers) s.close();
  await sql.end();
});

const post = async (path: string) => {
  const res = await fetch(fnUrl(path), {
    method: "POST", headers: { authorization: `Bearer ${stackEnv.serviceRoleKey}`, "content-type": "application/json" }, body: "{}",
  });
  expect(res.status).toBe(200);
  return res.json();
};

function newTenant(prefix: string): Promise<string> {
  const id = randomUUID();
  tenants.push(id);
  return ensureTenant(id, `${prefix}-${id.slice(0, 8)}`);
}

describe("item 2: the autopilot writes under its own claims", () => {
  it("with the stop on, a tick does not widen canary.percent; without it, the widening is autopilot@'s", async () => {
    const scope = "portal:rates";
    await withFlag("canary.percent", scope, "10", async () => {
      const tick = await withEmergencyStop(() => post("autopilot/tick"));
      const [halted] = await sql`select value from feature_flags_v2 where key = 'canary.percent' and scope = ${scope}`;
      expect({ value: halted.value, canaries: tick.canaries }).toMatchObject({ value: "10" });

      await post("autopilot/tick");
      const [open] = await sql`select value from feature_flags_v2 where key = 'canary.percent' and scope = ${scope}`;
      expect(open.value).toBe("20");
      const [h] = await sql`select changed_by, db_user from feature_flag_history
                            where key = 'canary.percent' and scope = ${scope} and new_value = '20' order by changed_at desc limit 1`;
      expect(h.changed_by).toBe("autopilot");
    }, { reason: "machines.test canary" });
  });
});

describe("item 3: the relay and the DLQ auto-replay under STEP-DOWN", () => {
  const log = createLogger("machines-test", { write: () => {} });

  it("a dead-lettered event's ack under STEP-DOWN commits (DLQ entry + alert), it is not re-delivered", async () => {
    let attempts = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        attempts++;
        res.writeHead(500).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    servers.push(server);
    const tenant = await newTenant("stepdown-relay");
    const ref = `${tenant}/sub-secret`;
    await sql`select vault.create_secret(${`whsec_${randomBytes(24).toString("base64")}`}, ${ref})`;
    await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
              values (${tenant}, 'sink', ${`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`}, ${ref})`;
    await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
              values ('outbox.maxAttempts', ${`tenant:${tenant}`}, '1', 'one attempt', 'test')`;
    const relay = new Relay(sql, { principalId: RELAY_PRINCIPAL, batchSize: 50, timeoutMs: 2000, claimSeconds: 1 }, log);
    await withFlag("autonomy.mode", "global", "STEP-DOWN", async () => {
      const [e] = await sql`insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
                            values (${tenant}, 'test', 'a', 'test.stepdown', '{}') returning id`;
      // Several drains, past the claim's expiry: before the fix each ack rolled back and the
      // event was claimed and delivered again.
      const errors: string[] = [];
      for (let n = 0; n < 4; n++) {
        await relay.drainOnce().catch((err) => errors.push(String(err.message).split("\n")[0]));
        await new Promise((r) => setTimeout(r, 1100));
      }
      const [ev] = await sql`select state from outbox_events where id = ${e.id}`;
      const dlq = await sql`select 1 from dlq_entries where event_id = ${e.id}`;
      const alert = await sql`select 1 from alerts where source = 'outbox.dead' and dedupe_key = ${e.id}::text`;
      expect({ errors, state: ev.state, attempts, dlq: dlq.length, alert: alert.length })
        .toEqual({ errors: [], state: "dead", attempts: 1, dlq: 1, alert: 1 });
    }, { reason: "machines.test step-down relay" });
  });

  it("the 5-minute auto-replay under STEP-DOWN asks once for the entries dead over 5 minutes, not every run", async () => {
    const tenant = await newTenant("stepdown-replay");
    const old = await deadEntry(tenant);
    const fresh = await deadEntry(tenant);
    await sql`update dlq_entries set dead_at = now() - interval '10 minutes' where id = ${old.id}`;
    await withFlag("autonomy.mode", "global", "STEP-DOWN", async () => {
      await post("autopilot/every_5m");
      await post("autopilot/every_5m");
    }, { reason: "machines.test step-down replay" });
    const reqs = await sql`select status, dlq_ids from replay_requests where tenant_id = ${tenant} and not dry_run`;
    expect(reqs.map((r) => ({ status: r.status, ids: r.dlq_ids }))).toEqual([{ status: "pending_approval", ids: [old.id] }]);
    expect(reqs[0].dlq_ids).not.toContain(fresh.id);
  });
});

describe("item 17: detectors read their conditions as their principal; prove-green cleans up", () => {
  /** The tables a detector's SQL reads (from / join public.x), captured from its queries. */
  const tablesOf = (queries: string[]) =>
    [...new Set(queries.flatMap((q) => [...q.matchAll(/\b(?:from|join)\s+(public\.[a-z_0-9]+)\b/gi)].map((m) => m[1])))];

  it("every registry detector runs as agents@ and may read every table it reads (RLS select permission)", async () => {
    const tenant = await newTenant("detectors");
    const checked: string[] = [];
    const blind: string[] = [];
    for (const p of PORTALS) {
      const manifest = await loadManifest(p.name);
      for (const d of manifest.detectors) {
        const claims = machineClaims("agents", tenant, d.portal);
        const queries: string[] = [];
        await withClaims(sql, claims, async (tx) => {
          const spy = ((strings: TemplateStringsArray, ...values: unknown[]) => {
            queries.push(strings.join("$"));
            return (tx as unknown as (s: TemplateStringsArray, ...v: unknown[]) => unknown)(strings, ...values);
          }) as unknown as Tx;
          await d.detect(spy, tenant, new Date());
        });
        for (const t of tablesOf(queries)) {
          // what RLS asks to select the table (ops.rls_registry), read as the owner ...
          const [g] = await sql`select g.select_perm from (select ${t}::regclass as t) x
                                left join ops.rls_registry g on g.table_name = x.t`;
          // ... and whether agents@ holds it in the tenant (or the table's grant, without RLS)
          const [r] = await withClaims(sql, claims, (tx) => g.select_perm
            ? tx`select app_private.has_permission(${tenant}::uuid, ${g.select_perm}) as readable`
            : tx`select has_table_privilege(${t}::regclass, 'select') as readable`);
          checked.push(`${d.portal}.${d.name}: ${t}`);
          if (!r.readable) blind.push(`${d.portal}.${d.name} reads ${t}, which agents@ cannot read (needs ${g.select_perm ?? "select"})`);
        }
      }
    }
    expect(checked.length).toBeGreaterThan(0);
    expect(blind).toEqual([]);
  });

  it("the stale-index detector raises its condition once: with the alert open, a second detect returns no task", async () => {
    const tenant = await newTenant("stale-index");
    const claims = machineClaims("agents", tenant, "rates");
    const first = await withClaims(sql, claims, (tx) => staleIndex.detect(tx, tenant, new Date()));
    expect(first.map((t) => t.key)).toEqual([`stale-index:${tenant}`]);
    await sql`select app_private.raise_alert(${tenant}, 'rates.index_stale', 'warning', 'market-index', 'No market index loaded')`;
    const second = await withClaims(sql, claims, (tx) => staleIndex.detect(tx, tenant, new Date()));
    expect(second).toEqual([]);
  });

  it("prove-green leaves no failing subscription, flag or secret of its tenant behind", async () => {
    const results = await proveGreen(loadInstance(stackEnv.name)!);
    expect(results.find((r) => r.name.startsWith("forced safe error"))?.ok).toBe(true);
    const [left] = await sql`
      select (select count(*)::int from outbox_subscriptions where tenant_id = 'd0000000-0000-4000-8000-00000000ffff' and enabled) as subs,
             (select count(*)::int from feature_flags_v2 where tenant_id = 'd0000000-0000-4000-8000-00000000ffff') as flags,
             (select count(*)::int from vault.secrets where name = 'prove_green_sink') as secrets`;
    expect(left).toEqual({ subs: 0, flags: 0, secrets: 0 });
  });
});
