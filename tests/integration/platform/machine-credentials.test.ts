/**
 * Machine credentials and signed requests (issue 11, items 5, 6, 7): a nonce is spent when
 * it is verified, whatever the outcome; no table of `public` / `app_private` holds a key
 * that signs; a machine key acts only in the tenants it names, and a suspended tenant
 * refuses every write.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fnUrl } from "../../helpers/env.ts";
import { DEMO_TENANT, machineKey, signedPost } from "../../helpers/auth.ts";
import { sql, withEmergencyStop } from "../../helpers/db.ts";
import { signRequest } from "../../../packages/shared/security/hmac.ts";
import { sha256Hex } from "../../../packages/shared/util/encoding.ts";

const PRICE = fnUrl("rates/price_one");
const WEBHOOKS = fnUrl("webhooks");
const pickup = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
const quote = { origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup };
const lead = () => ({
  type: "lead.created",
  data: { page: "/pricing", email: `lead-${randomBytes(4).toString("hex")}@shipper.example`, name: "A Lead", company: "Acme" },
});
const OTHER = randomUUID();
const SUSPENDED = randomUUID();

async function problem(res: Response) {
  const body = await res.json().catch(() => ({}));
  return { status: res.status, code: (body as { code?: string }).code };
}

const webhook = (tenant: string, key: { keyId: string; signingKey: string }) =>
  signedPost(`${WEBHOOKS}?tenant=${tenant}`, lead(), key, { "webhook-id": `wh_${randomBytes(8).toString("hex")}` });

beforeAll(async () => {
  await sql`insert into tenants (id, slug, name) values (${OTHER}, ${"mc-other-" + OTHER.slice(0, 8)}, 'Other'),
                                                      (${SUSPENDED}, ${"mc-susp-" + SUSPENDED.slice(0, 8)}, 'Suspended')`;
  await sql`update tenants set status = 'suspended' where id = ${SUSPENDED}`;
});
afterAll(() => sql.end());

describe("signed requests: a nonce is spent when verified (item 5)", () => {
  it("a request refused by the kill switch cannot be replayed after resume", async () => {
    const key = await machineKey(sql, "agents");
    const url = `${PRICE}?tenant=${DEMO_TENANT}`;
    const raw = JSON.stringify(quote);
    const headers = { "content-type": "application/json", ...(await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url, body: raw })) };
    const halted = await withEmergencyStop(() => fetch(url, { method: "POST", headers, body: raw }));
    expect(await problem(halted)).toEqual({ status: 503, code: "autonomy_halted" });
    // After resume, the very same bytes: the nonce was spent by the refused request.
    expect(await problem(await fetch(url, { method: "POST", headers, body: raw }))).toEqual({ status: 401, code: "nonce_reused" });
  });

  it("a request refused by a rate limit cannot be replayed after the limit clears", async () => {
    const key = await machineKey(sql, "agents");
    const url = `${PRICE}?tenant=${DEMO_TENANT}`;
    const raw = JSON.stringify(quote);
    const headers = { "content-type": "application/json", ...(await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url, body: raw })) };
    const scope = `tenant:${DEMO_TENANT}:portal:rates`;
    await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
              values ('rate.actions.perMinute', ${scope}, '0', 'item 5 test', 'test')
              on conflict (key, scope) do update set value = excluded.value`;
    let limited: Response;
    try {
      limited = await fetch(url, { method: "POST", headers, body: raw });
    } finally {
      await sql`delete from feature_flags_v2 where key = 'rate.actions.perMinute' and scope = ${scope}`;
    }
    expect(await problem(limited)).toEqual({ status: 429, code: "rate_limited" });
    expect(await problem(await fetch(url, { method: "POST", headers, body: raw }))).toEqual({ status: 401, code: "nonce_reused" });
  });
});

describe("signing keys live in Vault only (item 6)", () => {
  it("no column of public or app_private holds the signing key or the secret; the signed request still verifies", async () => {
    const [k] = await sql`select key_id, secret from ops.issue_service_key('agents')`;
    const signingKey = await sha256Hex(k.secret as string);
    const res = await signedPost(`${PRICE}?tenant=${DEMO_TENANT}`, quote, { keyId: k.key_id, signingKey });
    expect(res.status).toBe(200);
    const tables = await sql`
      select format('%I.%I', n.nspname, c.relname) as t
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('public', 'app_private') and c.relkind in ('r', 'p') and not c.relispartition`;
    const holding: string[] = [];
    for (const { t } of tables) {
      const [r] = await sql.unsafe(`select count(*)::int as n from ${t} x where strpos(x::text, $1) > 0 or strpos(x::text, $2) > 0`,
        [signingKey, k.secret]);
      if (r.n > 0) holding.push(t);
    }
    expect(holding).toEqual([]);
    // ...and the key is in Vault, where the edge's lookup reads it.
    const [v] = await sql`select signing_key from app_private.hmac_signing_key(${k.key_id})`;
    expect(v.signing_key).toBe(signingKey);
  });
});

describe("machine keys are bound to tenants; suspended tenants refuse writes (item 7)", () => {
  it("an n8n key issued for the demo tenant is refused in another tenant", async () => {
    const key = await machineKey(sql, "n8n");
    expect((await webhook(DEMO_TENANT, key)).status).toBe(200);
    const before = (await sql`select count(*)::int as n from website_events where tenant_id = ${OTHER}`)[0].n;
    expect(await problem(await webhook(OTHER, key))).toEqual({ status: 403, code: "forbidden" });
    expect((await sql`select count(*)::int as n from website_events where tenant_id = ${OTHER}`)[0].n).toBe(before);
  });

  it("a suspended tenant refuses writes by its own n8n key, by a global machine key and in SQL", async () => {
    const n8n = await machineKey(sql, "n8n", [SUSPENDED]);
    expect(await problem(await webhook(SUSPENDED, n8n))).toEqual({ status: 403, code: "tenant_suspended" });
    const agents = await machineKey(sql, "agents");
    expect(await problem(await signedPost(`${PRICE}?tenant=${SUSPENDED}`, quote, agents))).toEqual({ status: 403, code: "tenant_suspended" });
    expect((await sql`select count(*)::int as n from website_events where tenant_id = ${SUSPENDED}`)[0].n).toBe(0);
    // Every door: a write straight in SQL under a principal's claims is refused by the rails.
    const write = sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true),
                      set_config('request.jwt.claims', ${JSON.stringify({ sub: "a0000000-0000-4000-8000-000000000002", role: "authenticated", tenant_id: SUSPENDED })}, true)`;
      await tx`insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
               values (${SUSPENDED}, 'x', 'y', 'x.y', '{}')`;
    });
    await expect(write).rejects.toMatchObject({ code: "SY050" });
  });

  it("a tenant-bound account cannot get a key without tenants; platform accounts are global", async () => {
    await expect(sql`select * from ops.issue_service_key('n8n', 90, 'service', null)`).rejects.toMatchObject({ code: "SY017" });
    const [i] = await sql`select key_id from ops.issue_service_key('autopilot')`;
    const [g] = await sql`select tenant_ids from service_account_keys where key_id = ${i.key_id}`;
    expect(g.tenant_ids).toBeNull();
  });
});
