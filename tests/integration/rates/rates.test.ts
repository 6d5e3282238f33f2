import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { DEMO_TENANT, machineKey, signedPost, USERS, userJwt } from "../../helpers/auth.ts";
import { openSse } from "../../helpers/sse.ts";
import { loadInstance } from "../../../scripts/stack/instance.ts";
import { sql } from "../../helpers/db.ts";

const PRICE = fnUrl("rates/price_one");
const pickup = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
const quoteBody = (over: Record<string, unknown> = {}) => ({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup, ...over });
const OTHER_TENANT = "d0000000-0000-4000-8000-0000000000ff";

let ops: string;
const post = (url: string, body: unknown, token: string | null, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

/** Rows the rates actions write; a refusal must leave every count unchanged. */
const counts = async () => {
  const [r] = await sql`select (select count(*) from rates_quotes)::int as quotes, (select count(*) from outbox_events)::int as outbox,
                               (select count(*) from rates_index)::int as idx`;
  return r;
};

beforeAll(async () => {
  ops = await userJwt(USERS.ops);
  await sql`insert into tenants (id, slug, name) values (${OTHER_TENANT}, 'other-freight', 'Other Freight') on conflict do nothing`;
});
afterAll(() => sql.end());

describe("rates/price_one end to end", () => {
  it("prices with a real JWT: blend and guards explained, one trace across quote, outbox, audit, spans and the Live Feed", async () => {
    const feed = await openSse(fnUrl("live-feed"), { authorization: `Bearer ${ops}` });
    expect(feed.status).toBe(200);
    const sent = Date.now();
    const callerTrace = randomBytes(16).toString("hex");
    const res = await post(PRICE, quoteBody(), ops, { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` });
    expect(res.status).toBe(200);
    const body = await res.json();
    const traceId = body.trace_id;
    expect(traceId).toBe(callerTrace); // the caller's trace continues
    expect(res.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const q = body.data.quote;
    expect(body.data.status).toBe("priced");
    expect(q.miles).toBeGreaterThan(800);
    expect(q.blend.history.loads).toBe(12);
    expect(q.explanation.join("\n")).toMatch(/Credibility Z = n\/\(n\+k\)/);
    expect(q.explanation.join("\n")).toMatch(/Guards passed: min_margin_pct, max_index_deviation_pct/);
    expect(q.total).toBeCloseTo(q.linehaul.total + q.fuel.total, 2);

    const start = await feed.waitFor((e) => e.event === "start" && JSON.parse(e.data).trace_id === traceId, 2000);
    const finish = await feed.waitFor((e) => e.event === "finish" && JSON.parse(e.data).trace_id === traceId, 2000);
    await feed.close();
    expect(start).not.toBeNull();
    expect(finish!.at - sent).toBeLessThan(2000);
    expect(JSON.parse(finish!.data).ok).toBe(true);

    const [rows] = await sql`
      select (select count(*) from rates_quotes where trace_id = ${traceId})::int as quotes,
             (select count(*) from outbox_events where trace_id = ${traceId} and event_type = 'rates.quote.created')::int as outbox,
             (select count(*) from audit_log where trace_id = ${traceId} and target_type = 'public.rates_quotes')::int as audit`;
    expect(rows).toEqual({ quotes: 1, outbox: 1, audit: 1 });
    let spans: { name: string }[] = [];
    for (let i = 0; i < 40 && spans.length < 5; i++) {
      spans = await sql`select name from spans where trace_id = ${traceId}`;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(spans.map((s) => s.name).sort()).toEqual(["act", "decide", "detect", "prove", "rates.price_one"]);
    let metered = 0; // request metrics are flushed in batches, once a second
    for (let i = 0; i < 40 && !metered; i++) {
      [{ n: metered }] = await sql`select coalesce(sum(count), 0)::int as n from request_metrics where function_name = 'rates'`;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(metered).toBeGreaterThan(0);
  });

  it("flags a quote that breaks a guard as needs_approval, naming the guard, never clamping", async () => {
    const res = await post(PRICE, quoteBody({ destination: "90210" }), ops);
    const { data } = await res.json();
    expect(data.status).toBe("needs_approval");
    expect(data.quote.guards.breaches.map((b: { guard: string }) => b.guard)).toContain("ceiling_per_mile");
    expect(data.quote.linehaul.per_mile).toBeGreaterThan(2.0); // the ceiling, not applied
  });

  it("prices a lane under contract from the contract", async () => {
    const c = await post(fnUrl("rates/contract_upsert"), {
      origin: "606", destination: "752", equipment: "reefer", rate: { kind: "per_mile", per_mile: 3.1 },
      valid_from: "2026-01-01", valid_to: "2027-12-31",
    }, ops);
    expect(c.status).toBe(200);
    const res = await post(PRICE, quoteBody({ equipment: "reefer" }), ops);
    const { data } = await res.json();
    expect(data.quote.basis).toBe("contract");
    expect(data.quote.linehaul.per_mile).toBe(3.1);
  });
});

describe("refusals: each its own problem code, none leaves a row", () => {
  const expectProblem = async (res: Response, status: number, code: string) => {
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const p = await res.json();
    expect({ status: res.status, code: p.code }).toEqual({ status, code });
    return p;
  };

  it("malformed JSON, schema violations naming every field, oversize body", async () => {
    const before = await counts();
    await expectProblem(await post(PRICE, "{not json", ops), 400, "malformed_json");
    const p = await expectProblem(await post(PRICE, { origin: "00000", equipment: "boat", pickup_date: "soon", extra: 1 }, ops), 400, "validation_failed");
    const paths = p.errors.map((e: { path: string }) => e.path);
    for (const f of ["origin", "destination", "equipment", "pickup_date"]) expect(paths).toContain(f);
    await expectProblem(await post(PRICE, JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024 + 10) }), ops), 413, "payload_too_large");
    expect(await counts()).toEqual(before);
  });

  it("missing, expired and forged JWTs", async () => {
    await expectProblem(await post(PRICE, quoteBody(), null), 401, "missing_authorization");
    await expectProblem(await post(PRICE, quoteBody(), await userJwt(USERS.ops, { expiresIn: Math.floor(Date.now() / 1000) - 600 })), 401, "jwt_expired");
    await expectProblem(await post(PRICE, quoteBody(), await userJwt(USERS.ops, { secret: "forged-forged-forged-forged-forged-forged" })), 401, "invalid_jwt");
  });

  it("another tenant's data, and a missing permission", async () => {
    const before = await counts();
    await expectProblem(await post(PRICE, quoteBody(), await userJwt(USERS.ops, { tenant: OTHER_TENANT })), 403, "forbidden");
    await expectProblem(await post(PRICE, quoteBody(), await userJwt(USERS.viewer)), 403, "forbidden");
    expect(await counts()).toEqual(before);
  });

  it("kill switch set by the charter's exact UPDATE halts machine callers; resume restores them", async () => {
    const key = await machineKey(sql, "agents");
    const url = `${PRICE}?tenant=${DEMO_TENANT}`;
    expect((await signedPost(url, quoteBody(), key)).status).toBe(200);
    await sql.unsafe(`update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global';`);
    try {
      const before = await counts();
      const halted = await signedPost(url, quoteBody(), key);
      expect(halted.headers.get("retry-after")).toBe("60"); // catalogue: autonomy_halted retryAfter
      await expectProblem(halted, 503, "autonomy_halted");
      expect(await counts()).toEqual(before);
      expect((await post(PRICE, quoteBody(), ops)).status).toBe(200); // humans keep working
    } finally {
      await sql.unsafe(`update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';`);
    }
    expect((await signedPost(url, quoteBody(), key)).status).toBe(200);
  });

  it("bad HMAC signatures, stale timestamps and reused nonces", async () => {
    const key = await machineKey(sql, "agents");
    const url = `${PRICE}?tenant=${DEMO_TENANT}`;
    const before = await counts();
    await expectProblem(await signedPost(url, quoteBody(), { ...key, signingKey: "0".repeat(64) }), 401, "invalid_signature");
    await expectProblem(await signedPost(url, quoteBody(), { keyId: "sk_agents_unknown", signingKey: key.signingKey }), 401, "unknown_key");
    expect(await counts()).toEqual(before);
    const raw = JSON.stringify(quoteBody());
    const { signRequest } = await import("../../../packages/shared/security/hmac.ts");
    const stale = await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url, body: raw, timestamp: Math.floor(Date.now() / 1000) - 600 });
    await expectProblem(await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...stale }, body: raw }), 401, "stale_timestamp");
    const once = await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url, body: raw });
    expect((await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...once }, body: raw })).status).toBe(200);
    const mid = await counts();
    await expectProblem(await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...once }, body: raw }), 401, "nonce_reused");
    expect(await counts()).toEqual(mid);
  });

  it("portal disabled by its flag", async () => {
    await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name) values ('portal.enabled', 'portal:rates', 'false', 'test', 'test')`;
    try {
      const before = await counts();
      await expectProblem(await post(PRICE, quoteBody(), ops), 403, "portal_disabled");
      expect(await counts()).toEqual(before);
    } finally {
      await sql`delete from feature_flags_v2 where key = 'portal.enabled' and scope = 'portal:rates'`;
    }
  });

  it("rate limited with Retry-After", async () => {
    const scope = `tenant:${DEMO_TENANT}:portal:rates`;
    await sql`delete from rate_limits where subject like ${`%principal:${USERS.dispatcher}%`}`; // a fresh budget
    await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name) values ('rate.actions.perMinute', ${scope}, '2', 'test', 'test')`;
    try {
      const dispatcher = await userJwt(USERS.dispatcher);
      expect((await post(PRICE, quoteBody(), dispatcher)).status).toBe(200);
      expect((await post(PRICE, quoteBody(), dispatcher)).status).toBe(200);
      const before = await counts();
      const res = await post(PRICE, quoteBody(), dispatcher);
      await expectProblem(res, 429, "rate_limited");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(await counts()).toEqual(before);
    } finally {
      await sql`delete from feature_flags_v2 where key = 'rate.actions.perMinute' and scope = ${scope}`;
    }
  });

  it("idempotency: replay, mismatch and in flight", async () => {
    const key = `quote-${Date.now()}`;
    const first = await post(PRICE, quoteBody(), ops, { "idempotency-key": key });
    expect(first.status).toBe(200);
    const firstBody = await first.json();
    const before = await counts();
    const again = await post(PRICE, quoteBody(), ops, { "idempotency-key": key });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect((await again.json()).data.quote_id).toBe(firstBody.data.quote_id);
    await expectProblem(await post(PRICE, quoteBody({ equipment: "flatbed" }), ops, { "idempotency-key": key }), 422, "idempotency_conflict");
    expect(await counts()).toEqual(before);

    // Hold the first request inside its transaction (a lock on the quotes table) and send
    // the same key again: it is in flight.
    const held = `held-${Date.now()}`;
    const locker = await sql.reserve();
    await locker`begin`;
    await locker`lock table rates_quotes in exclusive mode`;
    const slow = post(PRICE, quoteBody(), ops, { "idempotency-key": held });
    await new Promise((r) => setTimeout(r, 300));
    await expectProblem(await post(PRICE, quoteBody(), ops, { "idempotency-key": held }), 409, "idempotency_in_flight");
    await locker`rollback`;
    locker.release();
    expect((await slow).status).toBe(200);
  });
});

describe("PII stays out of logs and spans", () => {
  it("a request carrying an email, a name and a URL with a token leaves none of them in clear", async () => {
    const secrets = ["maria.lopez@acme-freight.com", "Maria Lopez", "tok_5up3r5ecret"];
    const trace = randomBytes(16).toString("hex");
    const res = await post(PRICE, quoteBody({
      hints: { customer_ref: "maria.lopez@acme-freight.com" },
      contact: { name: "Maria Lopez", email: "maria.lopez@acme-freight.com" },
      callback: "https://hooks.example.com/cb?token=tok_5up3r5ecret",
    }), ops, { traceparent: `00-${trace}-b7ad6b7169203331-01` });
    expect(res.status).toBe(400);
    const text = await res.text();
    for (const s of secrets) expect(text).not.toContain(s);
    const ok = await post(PRICE, quoteBody({ hints: { customer_ref: "maria.lopez@acme-freight.com" } }), ops, { traceparent: `00-${trace}-b7ad6b7169203332-01` });
    expect(ok.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1200)); // span batch export
    const spans = await sql`select attributes::text || coalesce(status_message, '') as t from spans where trace_id = ${trace}`;
    expect(spans.length).toBeGreaterThan(0);
    const log = readFileSync(join(loadInstance(stackEnv.name)!.stateDir, "runtime.log"), "utf8");
    expect(log).toContain(trace);
    for (const s of secrets) {
      expect(log).not.toContain(s);
      for (const r of spans) expect(r.t).not.toContain(s);
    }
  });
});

describe("rates/index_ingest", () => {
  const header = "origin_zip3,destination_zip3,equipment,rate_per_mile,effective_date,source";
  const run = randomBytes(3).toString("hex"); // new index sources each run
  const ZIP3 = ["606", "604", "752", "770", "902", "303", "100", "191", "331", "850", "981", "462"];
  // 1,000 distinct (lane, equipment, date, source) rows over real ZIP3s.
  const lines = (n: number) => Array.from({ length: n }, (_, i) =>
    `${ZIP3[i % 12]},${ZIP3[(i + 1 + Math.floor(i / 12)) % 12]},van,${(2 + (i % 50) / 100).toFixed(2)},2026-11-01,bulk-${run}-${i}`);

  it("one bad line in 1,000 applies nothing and reports that line", async () => {
    const rows = lines(1000);
    rows[736] = "606,752,boat,2.10,2026-11-10,bulk-bad";
    const before = await counts();
    const res = await post(fnUrl("rates/index_ingest"), { csv: [header, ...rows].join("\n") }, ops);
    expect(res.status).toBe(400);
    const p = await res.json();
    expect(p.code).toBe("validation_failed");
    expect(p.errors).toHaveLength(1);
    expect(p.errors[0].line).toBe(738); // header is line 1
    expect(await counts()).toEqual(before);
  });

  it("a clean file applies every row with one audit row", async () => {
    const before = await counts();
    const res = await post(fnUrl("rates/index_ingest"), { csv: [header, ...lines(1000)].join("\n") }, ops);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.data.rows).toBe(1000);
    expect((await counts()).idx).toBe(before.idx + 1000);
    const [a] = await sql`select count(*)::int as n from audit_log where trace_id = ${body.trace_id} and action = 'rates.index_ingest'`;
    expect(a.n).toBe(1);
  });
});
