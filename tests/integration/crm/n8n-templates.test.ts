/**
 * The n8n templates' Code nodes (extracted from n8n/*.json, run in node:vm as n8n's Code node
 * would) against the real gateway and the real outbox relay. `npm run n8n:e2e` runs the same
 * JSON inside a real n8n.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay, signatureHeader } from "../../../packages/shared/outbox/relay.ts";
import { codeOf, type Item, loadTemplate, runCodeNode, webhookItem } from "../../../scripts/n8n/templates.ts";
import { sql } from "../../helpers/db.ts";
import { fnUrl } from "../../helpers/env.ts";
import { newSecret, outboxTenant, until } from "../../helpers/outbox.ts";

const inbound = loadTemplate("inbound.json");
const outbound = loadTemplate("outbound.json");
const checkout = loadTemplate("checkout.json");
const VERIFY = "Verify Standard Webhooks signature";
const secret = newSecret();
// npm test's runtime runs no relay worker: this file drains the outbox when it waits for a delivery.
// Earlier files may leave a backlog ahead of this file's events: wide batches, short timeouts.
const relay = new Relay(sql, { principalId: RELAY_PRINCIPAL, batchSize: 500, timeoutMs: 2000 }, createLogger("n8n-templates-test", { write: () => {} }));

let tenant: string;
let env: Record<string, string | undefined>;
let server: Server;
/** What the outbound workflow's Code nodes decided for each delivery the relay made. */
const deliveries: { webhookId: string; route: string; status: number; item: Item }[] = [];
const staticData: Record<string, unknown> = {};

/** The outbound workflow up to its Respond nodes: verifier, then (handled) "Remember webhook-id". */
async function outboundRun(headers: Record<string, string>, raw: string | Buffer, secrets = secret) {
  const [v] = await runCodeNode(codeOf(outbound, VERIFY), { items: [webhookItem(headers, raw)], env: { SWITCHYARD_WEBHOOK_SECRETS: secrets }, staticData });
  const route = String(v.json.route);
  if (["crm", "checkout", "slack"].includes(route)) {
    await runCodeNode(codeOf(outbound, "Remember webhook-id"), { items: [{ json: {} }], env: {}, staticData, nodes: { [VERIFY]: [v] } });
  }
  return { item: v, route, status: route === "refused" ? Number(v.json.status) : 200 };
}

/** The inbound workflow's Sign node for one form post, and the HTTP Request node's call. */
async function signAndPost(form: Record<string, unknown>, overrides: Record<string, string> = {}) {
  const [out] = await runCodeNode(codeOf(inbound, "Sign for Switchyard (HMAC v2)"), { items: [{ json: { headers: {}, body: form } }], env: { ...env, ...overrides } });
  const req = out.json as { url: string; body: string; headers: Record<string, string> };
  const res = await fetch(req.url, { method: "POST", headers: req.headers, body: req.body });
  return { req, res, body: await res.json() };
}

const deliveryOf = async (websiteEventId: string) => {
  const [o] = await sql`select id from outbox_events where tenant_id = ${tenant} and payload->>'website_event_id' = ${websiteEventId}`;
  const delivered = () => deliveries.some((d) => d.webhookId === o.id);
  expect(await until(async () => delivered() || ((await relay.drain(10_000)), delivered()), 50_000)).toBe(true);
  return deliveries.find((d) => d.webhookId === o.id)!;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const r = await outboundRun(req.headers as Record<string, string>, Buffer.concat(chunks));
      deliveries.push({ webhookId: String(req.headers["webhook-id"]), ...r });
      res.writeHead(r.status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  ({ tenant } = await outboxTenant(sql, `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/switchyard-events`, secret, { slug: "n8n" }));
  // The key id and secret as `npm run ops -- keys rotate n8n --tenants <uuid>` prints them.
  const [k] = await sql`select key_id, secret from ops.issue_service_key('n8n', 90, 'service', ${[tenant]}::uuid[])`;
  env = { SWITCHYARD_FUNCTIONS_URL: fnUrl(""), SWITCHYARD_TENANT_ID: tenant, SWITCHYARD_N8N_KEY_ID: k.key_id, SWITCHYARD_N8N_KEY_SECRET: k.secret };
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await sql.end();
});

describe("n8n inbound template: Sign for Switchyard (HMAC v2)", () => {
  it("signs a plain form so the gateway stores the lead; the relay's delivery passes the verifier and routes to the CRM", async () => {
    const email = `n8n-${randomBytes(4).toString("hex")}@shipper.example`;
    const { res, body, req } = await signAndPost({ email, name: "Maria Lopez", company: "Acme", page: "/pricing", utm_source: "google", utm_campaign: "q4" });
    expect(res.status).toBe(200);
    expect(req.url).toBe(`${fnUrl("webhooks")}?tenant=${tenant}`);
    const [lead] = await sql`select company, utm from crm_leads where tenant_id = ${tenant} and email = ${email}`;
    expect(lead).toMatchObject({ company: "Acme", utm: { source: "google", campaign: "q4" } });
    const d = await deliveryOf(body.data.event_id);
    expect(d).toMatchObject({ route: "crm", status: 200 });
    expect((d.item.json.event as { type: string }).type).toBe("website.lead.created");
  });

  it("a resubmission with the site's submission_id stores nothing new; a key Switchyard never issued is refused 401", async () => {
    const form = { type: "roi.calculated", submission_id: `sub-${randomBytes(6).toString("hex")}`, data: { page: "/roi", inputs: { loads_per_month: 40, avg_rate_usd: 1800 }, result: { monthly_savings_usd: 900 } } };
    const first = await signAndPost(form);
    const again = await signAndPost(form);
    expect(first.res.status).toBe(200);
    expect(again.res.headers.get("idempotency-replayed")).toBe("true");
    expect(again.body.data.event_id).toBe(first.body.data.event_id);
    const wrong = await signAndPost({ email: "x@shipper.example", page: "/pricing" }, { SWITCHYARD_N8N_KEY_SECRET: randomBytes(32).toString("base64url") });
    expect(wrong.res.status).toBe(401);
    expect(wrong.body.code).toBe("invalid_signature");
  });

  it("names what is missing when n8n's environment lacks the key", async () => {
    await expect(runCodeNode(codeOf(inbound, "Sign for Switchyard (HMAC v2)"), { items: [{ json: { body: {} } }], env: { ...env, SWITCHYARD_N8N_KEY_SECRET: undefined } }))
      .rejects.toThrow(/SWITCHYARD_N8N_KEY_SECRET is not set/);
    await expect(runCodeNode(codeOf(inbound, "Sign for Switchyard (HMAC v2)"), { items: [{ json: { body: {} } }], env, allowBuiltin: [] }))
      .rejects.toThrow(/NODE_FUNCTION_ALLOW_BUILTIN/);
  });
});

describe("n8n outbound template: Verify Standard Webhooks signature", () => {
  const event = (id: string) => JSON.stringify({ id, type: "website.roi.calculated", timestamp: "2026-12-01T00:00:00.000Z", tenant_id: "t", aggregate: { type: "x", id: "y" }, data: { page: "/roi" } });
  const signed = (id: string, secrets: string[], at = new Date()) => ({
    "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signatureHeader(secrets, id, at, event(id)),
  });
  const id = () => `evt-${randomBytes(6).toString("hex")}`;

  it("refuses a delivery signed with another secret, one older than 5 minutes, and a replayed webhook-id", async () => {
    const other = await outboundRun(signed(id(), [newSecret()]), event("x"));
    expect(other).toMatchObject({ route: "refused", status: 401 });
    const oldId = id();
    const old = await outboundRun(signed(oldId, [secret], new Date(Date.now() - 301_000)), event(oldId));
    expect(old).toMatchObject({ route: "refused", status: 401 });
    expect(String((old.item.json.problem as { detail: string }).detail)).toMatch(/300 s/);
    const future = await outboundRun(signed(oldId, [secret], new Date(Date.now() + 301_000)), event(oldId));
    expect(future.route).toBe("refused");
    const once = id();
    expect((await outboundRun(signed(once, [secret]), event(once))).route).toBe("slack");
    // The same webhook-id again, signed anew (a redelivery or a replay within the tolerance).
    expect(await outboundRun(signed(once, [secret]), event(once))).toMatchObject({ route: "duplicate", status: 200 });
    // A body changed under a valid signature.
    const h = signed(id(), [secret]);
    expect((await outboundRun(h, event("tampered"))).route).toBe("refused");
  });

  it("during a rotation accepts either signature the relay sends, with the old or the new secret configured", async () => {
    const [oldS, newS] = [newSecret(), newSecret()];
    for (const configured of [oldS, newS, `${newS} ${oldS}`]) {
      const i = id();
      expect((await outboundRun(signed(i, [newS, oldS]), event(i), configured)).route, configured === oldS ? "old" : "new").toBe("slack");
    }
    const i = id();
    expect((await outboundRun(signed(i, [oldS]), event(i), newS)).route).toBe("refused");
  });

  it("refuses headers it cannot check, and says when the Webhook node's Raw Body is off", async () => {
    const i = id();
    expect(await outboundRun({ "webhook-id": i }, event(i))).toMatchObject({ route: "refused", status: 400 });
    const item = webhookItem(signed(i, [secret]), event(i));
    delete item.binary;
    await expect(runCodeNode(codeOf(outbound, VERIFY), { items: [item], env: { SWITCHYARD_WEBHOOK_SECRETS: secret }, staticData: {} })).rejects.toThrow(/Raw Body/);
  });
});

describe("n8n checkout template: Stripe Checkout Session -> signed callback", () => {
  it("prices checkout.started for Stripe (idempotent by event id) and posts the session back; the gateway stores it once", async () => {
    const { body } = await signAndPost({ type: "checkout.started", data: { page: "/checkout", plan: "growth", seats: 12, utm: { source: "newsletter" } } });
    const d = await deliveryOf(body.data.event_id);
    expect(d.route).toBe("checkout");
    const priced = await runCodeNode(codeOf(checkout, "Price the checkout"), { items: [d.item], env: { STRIPE_API_BASE: "http://127.0.0.1:9/stripe" } });
    const p = priced[0].json as { url: string; form: string; idempotencyKey: string };
    expect(p.url).toBe("http://127.0.0.1:9/stripe/v1/checkout/sessions");
    expect(p.idempotencyKey).toBe(d.webhookId);
    const f = new URLSearchParams(p.form);
    expect([f.get("line_items[0][quantity]"), f.get("line_items[0][price_data][unit_amount]"), f.get("line_items[0][price_data][currency]")]).toEqual(["12", "9900", "usd"]);
    expect(f.get("client_reference_id")).toBe(body.data.event_id);

    // What Stripe answers (its fields the callback reads).
    const session = { id: `cs_test_${randomBytes(8).toString("hex")}`, object: "checkout.session", amount_total: 118800, currency: "usd" };
    const [cb] = await runCodeNode(codeOf(checkout, "Sign the session for Switchyard"), { items: [{ json: session }], env, nodes: { "Price the checkout": priced } });
    const req = cb.json as { url: string; body: string; headers: Record<string, string> };
    expect(req.url).toBe(`${fnUrl("webhooks")}?tenant=${tenant}`);
    const res = await fetch(req.url, { method: "POST", headers: req.headers, body: req.body });
    expect(res.status).toBe(200);
    const [row] = await sql`select data from website_events where tenant_id = ${tenant} and event_type = 'checkout.session_created' and data->>'session_id' = ${session.id}`;
    expect(row.data).toMatchObject({ checkout_event_id: body.data.event_id, amount_total: 118800, currency: "usd", plan: "growth", seats: 12 });
    // n8n retrying the callback (a new nonce, the same session): stored once.
    const [retry] = await runCodeNode(codeOf(checkout, "Sign the session for Switchyard"), { items: [{ json: session }], env, nodes: { "Price the checkout": priced } });
    const r2 = await fetch(req.url, { method: "POST", headers: (retry.json as typeof req).headers, body: (retry.json as typeof req).body });
    expect(r2.headers.get("idempotency-replayed")).toBe("true");
  });
});
