import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fnUrl } from "../../helpers/env.ts";
import { DEMO_TENANT, machineKey, USERS, userJwt } from "../../helpers/auth.ts";
import { signRequest } from "../../../packages/shared/security/hmac.ts";
import { sql } from "../../helpers/db.ts";

const URL_ = `${fnUrl("webhooks")}?tenant=${DEMO_TENANT}`;
let key: { keyId: string; signingKey: string };

const lead = (email = `lead-${randomBytes(4).toString("hex")}@shipper.example`) => ({
  type: "lead.created",
  data: { page: "/pricing", email, name: "Maria Lopez", company: "Acme Shippers", utm: { source: "google", medium: "cpc", campaign: "q4-reefer" } },
});

async function send(body: unknown, opts: { webhookId?: string; timestamp?: number; signingKey?: string; keyId?: string; headers?: Record<string, string> } = {}) {
  const raw = JSON.stringify(body);
  const sig = await signRequest({ keyId: opts.keyId ?? key.keyId, secret: opts.signingKey ?? key.signingKey, method: "POST", url: URL_, body: raw, timestamp: opts.timestamp });
  const headers = { "content-type": "application/json", "webhook-id": opts.webhookId ?? `wh_${randomBytes(8).toString("hex")}`, ...sig, ...opts.headers };
  return { headers, raw, res: await fetch(URL_, { method: "POST", headers, body: raw }) };
}

const written = async () => (await sql`select count(*)::int as n from website_events`)[0].n as number;

beforeAll(async () => {
  key = await machineKey(sql, "n8n");
});
afterAll(() => sql.end());

describe("inbound webhooks (n8n)", () => {
  it("accepts a valid lead.created once: UTM captured, outbox event without PII, the caller's trace continued", async () => {
    const trace = randomBytes(16).toString("hex");
    const body = lead();
    const webhookId = `wh_${randomBytes(8).toString("hex")}`;
    const first = await send(body, { webhookId, headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
    expect(first.res.status).toBe(200);
    const { data, trace_id } = await first.res.json();
    expect(trace_id).toBe(trace);
    const [ev] = await sql`select utm, page, email_sha256, lead_id, data from website_events where id = ${data.event_id}`;
    expect(ev.utm).toEqual({ source: "google", medium: "cpc", campaign: "q4-reefer" });
    expect(ev.lead_id).not.toBeNull();
    expect(JSON.stringify(ev.data)).not.toContain("@");
    // The website event and the CRM's lifecycle event of the new lead, neither with PII.
    const outs = await sql`select event_type, payload::text as p from outbox_events where trace_id = ${trace} order by event_type`;
    expect(outs.map((o) => o.event_type)).toEqual(["crm.lead.created", "website.lead.created"]);
    for (const out of outs) {
      expect(out.p).not.toContain(body.data.email);
      expect(out.p).not.toContain("Maria Lopez");
    }

    // The same webhook delivered again (new nonce and signature): the stored answer, nothing new.
    const before = await written();
    const again = await send(body, { webhookId });
    expect(again.res.status).toBe(200);
    expect(again.res.headers.get("idempotency-replayed")).toBe("true");
    expect((await again.res.json()).data.event_id).toBe(data.event_id);
    expect(await written()).toBe(before);
  });

  it("refuses a replayed nonce, stale and future timestamps, a bad signature and an unknown key, writing nothing", async () => {
    const before = await written();
    const once = await send(lead());
    expect(once.res.status).toBe(200);
    const replay = await fetch(URL_, { method: "POST", headers: { ...once.headers, "webhook-id": "wh_other" }, body: once.raw });
    expect(await replay.json()).toMatchObject({ status: 401, code: "nonce_reused" });
    // A minute beyond the ±300 s window: seconds pass between here and the server's check
    // (a timestamp 301 s ahead drifts back inside the window on a slow run).
    const now = Math.floor(Date.now() / 1000);
    const cases: [Parameters<typeof send>[1], number, string][] = [
      [{ timestamp: now - 360 }, 401, "stale_timestamp"],
      [{ timestamp: now + 360 }, 401, "future_timestamp"],
      [{ signingKey: "f".repeat(64) }, 401, "invalid_signature"],
      [{ keyId: "sk_n8n_0000000000000000" }, 401, "unknown_key"],
    ];
    for (const [opts, status, code] of cases) {
      const { res } = await send(lead(), opts);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({ status, code });
    }
    expect(await written()).toBe(before + 1);
  });

  it("routes by event type and validates each", async () => {
    const roi = await send({ type: "roi.calculated", data: { page: "/roi", inputs: { loads_per_month: 400, avg_rate_usd: 2100 }, result: { monthly_savings_usd: 18250 } } });
    expect(roi.res.status).toBe(200);
    const checkout = await send({ type: "checkout.started", data: { page: "/checkout", plan: "growth", seats: 12, utm: { source: "newsletter" } } });
    expect(checkout.res.status).toBe(200);
    const unknown = await send({ type: "lead.deleted", data: {} });
    expect(await unknown.res.json()).toMatchObject({ status: 400, code: "validation_failed" });
    const bad = await send({ type: "demo.requested", data: { page: "pricing", email: "not-an-email" } });
    const p = await bad.res.json();
    expect(p.code).toBe("validation_failed");
    expect(p.errors.map((e: { path: string }) => e.path).sort()).toEqual(["data.email", "data.page"]);
  });

  it("takes signed machine requests only, and a webhook id is required", async () => {
    const jwt = await fetch(URL_, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${await userJwt(USERS.ops)}` },
      body: JSON.stringify(lead()),
    });
    expect(jwt.status).toBe(401);
    const raw = JSON.stringify(lead());
    const sig = await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url: URL_, body: raw });
    const noId = await fetch(URL_, { method: "POST", headers: { "content-type": "application/json", ...sig }, body: raw });
    expect(await noId.json()).toMatchObject({ status: 400, code: "idempotency_key_missing" });
  });
});
