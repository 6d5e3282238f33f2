/**
 * Outbound webhooks (issue 11, items 9, 10, 11): a subscription's secret belongs to its
 * tenant and is valid, a bad one fails only its own delivery, nothing is sent unsigned,
 * and private / loopback targets are refused (write time and delivery) unless
 * outbox.allowPrivateTargets says so (on in the local and test stacks' seed).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql, withFlag } from "../../helpers/db.ts";
import { poll } from "../../../scripts/stack/processes.ts";
import { pinGlobalFlags } from "../../helpers/flags.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../../../packages/shared/outbox/relay.ts";

const log = createLogger("webhook-targets-test", { write: () => {} });
pinGlobalFlags(sql, { "autonomy.emergencyStop": "false", "autonomy.mode": "FULL", "agents.autonomousEnabled": "true" }, "webhook-targets.test");
const servers: Server[] = [];
const tenants: string[] = [];
const newSecret = () => `whsec_${randomBytes(24).toString("base64")}`;

/** A receiver that records each request; `status` answers (302 redirects to `location`). */
async function receiver(status = 204, location?: string) {
  const got: { path: string; signature: string | undefined }[] = [];
  const server = createServer((req, res) => {
    req.resume().on("end", () => {
      got.push({ path: req.url ?? "", signature: req.headers["webhook-signature"] as string | undefined });
      res.writeHead(status, location ? { location } : {}).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

async function tenant() {
  const t = randomUUID();
  tenants.push(t);
  await sql`insert into tenants (id, slug, name) values (${t}, ${"wt-" + t.slice(0, 8)}, 'Webhook targets')`;
  await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
            values ('outbox.maxAttempts', ${"tenant:" + t}, '1', 'one attempt', 'test')`;
  return t;
}

async function subscribe(t: string, url: string, secret: string | null, name = "hook") {
  const ref = `${t}/${name}`;
  if (secret !== null) await sql`select vault.create_secret(${secret}, ${ref})`;
  const [s] = await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                        values (${t}, ${name}, ${url}, ${ref}) returning id`;
  return { id: s.id as string, ref };
}

async function publish(t: string) {
  const [e] = await sql`insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
                        values (${t}, 'load', ${randomUUID()}, 'load.updated', '{}') returning id`;
  return e.id as string;
}

const until = async (pred: () => boolean | Promise<boolean>, ms = 20_000) => (await poll(ms, pred)) ?? false;

const deliveries = (event: string) => sql`select ok, status_code, error from outbox_deliveries where event_id = ${event}`;
const relay = new Relay(sql, { principalId: RELAY_PRINCIPAL, batchSize: 200, timeoutMs: 2000 }, log);

beforeAll(() => {});
afterAll(async () => {
  await sql`update outbox_subscriptions set enabled = false where tenant_id = any(${tenants}::uuid[])`;
  for (const s of servers) s.close();
  await sql.end();
});

describe("subscription secrets are per tenant and valid (item 9)", () => {
  it("refuses a secret_ref that names another tenant's secret, a missing-prefix name, or a non-base64 secret", async () => {
    const a = await tenant(), b = await tenant();
    await sql`select vault.create_secret(${newSecret()}, ${b + "/hook"})`;
    await expect(sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                     values (${a}, 'steal', 'https://n8n.example.test/h', ${b + "/hook"})`).rejects.toMatchObject({ code: "23514" });
    await expect(sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                     values (${a}, 'bare', 'https://n8n.example.test/h', 'whsec_shared')`).rejects.toMatchObject({ code: "23514" });
    await sql`select vault.create_secret('not base64 !!', ${a + "/bad"})`;
    await expect(sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                     values (${a}, 'bad', 'https://n8n.example.test/h', ${a + "/bad"})`).rejects.toMatchObject({ code: "SY051" });
  });

  it("a subscription whose secret went bad fails its own delivery; other tenants' events are delivered once", async () => {
    const a = await tenant(), b = await tenant();
    const rxA = await receiver(), rxB = await receiver();
    const subA = await subscribe(a, rxA.url, newSecret());
    await subscribe(b, rxB.url, newSecret());
    // The secret changes after the write-time check (e.g. edited in Vault): not base64.
    await sql`select vault.update_secret((select id from vault.secrets where name = ${subA.ref}), 'not base64 !!')`;
    const [ea, eb] = [await publish(a), await publish(b)];
    await relay.drain(10_000);
    expect(await until(() => rxB.got.length === 1)).toBe(true);
    expect(await until(async () => (await deliveries(ea)).length > 0)).toBe(true);
    const [d] = await deliveries(ea);
    expect(d.ok).toBe(false);
    expect(d.error).toMatch(/secret/);
    expect(rxA.got.length).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    expect(rxB.got.length).toBe(1); // not re-delivered
    expect((await sql`select state from outbox_events where id = ${eb}`)[0].state).toBe("delivered");
  });
});

describe("nothing is sent unsigned (item 10)", () => {
  it("a subscription whose secret is missing gets a failed attempt with a clear error, no request", async () => {
    const t = await tenant();
    const rx = await receiver();
    const sub = await subscribe(t, rx.url, newSecret());
    await sql`delete from vault.secrets where name = ${sub.ref}`;
    const e = await publish(t);
    await relay.drain(10_000);
    expect(await until(async () => (await deliveries(e)).length > 0)).toBe(true);
    const [d] = await deliveries(e);
    expect(d).toMatchObject({ ok: false, status_code: null });
    expect(d.error).toMatch(/signing secret .*missing/);
    expect(rx.got).toEqual([]);
  });
});

describe("private and loopback targets (item 11)", () => {
  it("the write is refused for loopback, private, link-local and fc00::/7 targets while the flag is off", async () => {
    const t = await tenant();
    await sql`select vault.create_secret(${newSecret()}, ${t + "/hook"})`;
    const targets = ["http://127.0.0.1:9/h", "http://localhost/h", "http://10.1.2.3/h", "http://192.168.0.10/h", "http://172.16.5.5/h",
      "http://169.254.169.254/latest/meta-data", "http://[::1]/h", "http://[fc00::1]/h", "http://[fd12::1]/h", "http://0.0.0.0/h"];
    await withFlag("outbox.allowPrivateTargets", "global", "false", async () => {
      for (const [n, url] of targets.entries()) {
        await expect(sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                         values (${t}, ${"p" + n}, ${url}, ${t + "/hook"})`, url).rejects.toMatchObject({ code: "SY052" });
      }
      await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                values (${t}, 'public', 'https://n8n.example.test/h', ${t + "/hook"})`;
    });
  });

  it("at delivery, a target resolving to a private address is refused while the flag is off", async () => {
    const t = await tenant();
    const rx = await receiver();
    // Written while allowed (local stacks), then the flag goes off: delivery re-checks.
    await subscribe(t, rx.url.replace("127.0.0.1", "localhost"), newSecret());
    const e = await publish(t);
    await withFlag("outbox.allowPrivateTargets", "global", "false", async () => {
      await relay.drain(10_000);
      expect(await until(async () => (await deliveries(e)).length > 0)).toBe(true);
    });
    const [d] = await deliveries(e);
    expect(d).toMatchObject({ ok: false, status_code: null });
    expect(d.error).toMatch(/private address/);
    expect(rx.got).toEqual([]);
  });

  it("a 3xx is a failed attempt: redirects are not followed", async () => {
    const t = await tenant();
    const target = await receiver();
    const rx = await receiver(302, target.url);
    await subscribe(t, rx.url, newSecret());
    const e = await publish(t);
    await relay.drain(10_000);
    expect(await until(async () => (await deliveries(e)).length > 0)).toBe(true);
    const [d] = await deliveries(e);
    expect(d).toMatchObject({ ok: false, status_code: 302 });
    expect(rx.got.length).toBe(1);
    expect(target.got).toEqual([]);
  });
});
