import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  canonicalPath,
  canonicalString,
  HMAC_HEADERS,
  type HmacKey,
  type HmacVerifyOptions,
  signRequest,
  verifyHmacRequest,
} from "./hmac.ts";

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const URL_ = "http://127.0.0.1:54321/functions/v1/rates/price_one";
const BODY = '{"origin":"60601","destination":"90210","equipment":"van","pickup_date":"2026-01-05"}';
const enc = (s: string) => new TextEncoder().encode(s);

type Principal = { name: string };
const KEYS: Record<string, HmacKey<Principal>> = {
  "n8n-2026-01": { secrets: ["n8n-secret-current"], principal: { name: "n8n" } },
  // Mid-rotation: the old and the new secret of the same key id are both active.
  "agents-2026-01": { secrets: ["agents-secret-new", "agents-secret-old"], principal: { name: "agents" } },
};

/** An in-memory nonce store with the DB's contract: first use true, reuse false. */
function options(now = NOW): HmacVerifyOptions<Principal> & { seen: Set<string> } {
  const seen = new Set<string>();
  return {
    seen,
    lookupKey: (id) => Promise.resolve(KEYS[id] ?? null),
    consumeNonce: (keyId, nonce) => {
      const k = `${keyId}:${nonce}`;
      if (seen.has(k)) return Promise.resolve(false);
      seen.add(k);
      return Promise.resolve(true);
    },
    now: () => now * 1000,
  };
}

async function signed(overrides: Partial<Parameters<typeof signRequest>[0]> = {}, body = BODY, url = URL_, method = "POST") {
  const headers = await signRequest({ keyId: "n8n-2026-01", secret: "n8n-secret-current", method, url, body: BODY, timestamp: NOW, ...overrides });
  return { method, url, headers: new Headers(headers), body: enc(body) };
}

describe("canonical string", () => {
  it("strips the /functions/v1 prefix and keeps the query", () => {
    expect(canonicalPath(URL_)).toBe("/rates/price_one");
    expect(canonicalPath("http://edge.local/rates/price_one?dry_run=1")).toBe("/rates/price_one?dry_run=1");
    expect(canonicalPath("http://x/functions/v1")).toBe("/");
    expect(canonicalPath("http://x/functions/v10/a")).toBe("/functions/v10/a");
  });

  it("matches an independent HMAC-SHA256 computation (node:crypto)", async () => {
    const nonce = "n0nce-8f14e45fceea167a";
    const canonical = await canonicalString({ timestamp: NOW, nonce, method: "post", url: URL_, body: BODY });
    const bodyHash = createHash("sha256").update(BODY).digest("hex");
    expect(canonical).toBe(`v2:${NOW}:${nonce}:POST:/rates/price_one:${bodyHash}`);
    const headers = await signRequest({ keyId: "k", secret: "s3cret", method: "POST", url: URL_, body: BODY, timestamp: NOW, nonce });
    expect(headers[HMAC_HEADERS.signature]).toBe(`v2=${createHmac("sha256", "s3cret").update(canonical).digest("base64")}`);
    expect(headers).toMatchObject({ [HMAC_HEADERS.keyId]: "k", [HMAC_HEADERS.timestamp]: String(NOW), [HMAC_HEADERS.nonce]: nonce });
  });
});

describe("verifyHmacRequest", () => {
  it("accepts a signed request and returns the key's principal", async () => {
    const r = await verifyHmacRequest(await signed(), options());
    expect(r).toMatchObject({ ok: true, value: { keyId: "n8n-2026-01", principal: { name: "n8n" }, timestamp: NOW } });
  });

  it("verifies a request signed at the gateway path against the function's own path", async () => {
    const req = await signed();
    const r = await verifyHmacRequest({ ...req, url: "http://edge-runtime.internal/rates/price_one" }, options());
    expect(r.ok).toBe(true);
  });

  it("refuses any tampering: body, method, path, query, timestamp, nonce", async () => {
    const base = await signed();
    const retimed = new Headers(base.headers);
    retimed.set(HMAC_HEADERS.timestamp, String(NOW + 1));
    const renonced = new Headers(base.headers);
    renonced.set(HMAC_HEADERS.nonce, "another-nonce-000000");
    const variants = [
      { ...base, body: enc(BODY.replace("van", "reefer")) },
      { ...base, method: "PUT" },
      { ...base, url: URL_.replace("price_one", "contract_upsert") },
      { ...base, url: `${URL_}?x=1` },
      { ...base, headers: retimed },
      { ...base, headers: renonced },
    ];
    for (const v of variants) expect(await verifyHmacRequest(v, options())).toMatchObject({ ok: false, code: "invalid_signature" });
  });

  it("refuses a signature made with another secret, or not base64", async () => {
    expect(await verifyHmacRequest(await signed({ secret: "guessed" }), options())).toMatchObject({ code: "invalid_signature" });
    const req = await signed();
    req.headers.set(HMAC_HEADERS.signature, "v2=%%%not-base64%%%");
    expect(await verifyHmacRequest(req, options())).toMatchObject({ code: "invalid_signature" });
    req.headers.set(HMAC_HEADERS.signature, "v1=abc");
    expect(await verifyHmacRequest(req, options())).toMatchObject({ code: "invalid_signature" });
  });

  it("distinguishes stale from future timestamps, with 5 minutes of tolerance each way", async () => {
    expect((await verifyHmacRequest(await signed({ timestamp: NOW - 300 }), options())).ok).toBe(true);
    expect((await verifyHmacRequest(await signed({ timestamp: NOW + 300 }), options())).ok).toBe(true);
    expect(await verifyHmacRequest(await signed({ timestamp: NOW - 301 }), options()))
      .toMatchObject({ ok: false, code: "stale_timestamp", problem: { status: 401 } });
    expect(await verifyHmacRequest(await signed({ timestamp: NOW + 301 }), options()))
      .toMatchObject({ ok: false, code: "future_timestamp", problem: { status: 401 } });
  });

  it("refuses a replayed nonce, and does not burn nonces on forged requests", async () => {
    const opts = options();
    const req = await signed({ nonce: "single-use-nonce-0001" });
    expect((await verifyHmacRequest(req, opts)).ok).toBe(true);
    expect(await verifyHmacRequest(req, opts)).toMatchObject({ ok: false, code: "nonce_reused", problem: { status: 401 } });

    const forged = await signed({ nonce: "single-use-nonce-0002", secret: "guessed" });
    expect((await verifyHmacRequest(forged, opts)).ok).toBe(false);
    expect(opts.seen.has("n8n-2026-01:single-use-nonce-0002")).toBe(false);
  });

  it("hands the nonce store an expiry at the end of the timestamp window", async () => {
    let expiry: Date | undefined;
    const opts = { ...options(), consumeNonce: (_k: string, _n: string, at: Date) => ((expiry = at), Promise.resolve(true)) };
    await verifyHmacRequest(await signed(), opts);
    expect(expiry?.getTime()).toBe((NOW + 300) * 1000);
  });

  it("supports rotation: either active secret of a key id, or a caller sending two signatures", async () => {
    const opts = options();
    expect((await verifyHmacRequest(await signed({ keyId: "agents-2026-01", secret: "agents-secret-old" }), opts)).ok).toBe(true);
    expect((await verifyHmacRequest(await signed({ keyId: "agents-2026-01", secret: "agents-secret-new" }), opts)).ok).toBe(true);
    const both = await signed({ keyId: "n8n-2026-01", secret: ["n8n-secret-next", "n8n-secret-current"] });
    expect(both.headers.get(HMAC_HEADERS.signature)!.split(" ")).toHaveLength(2);
    expect((await verifyHmacRequest(both, opts)).ok).toBe(true);
  });

  it("refuses unknown keys, missing and malformed headers", async () => {
    expect(await verifyHmacRequest(await signed({ keyId: "revoked-key" }), options())).toMatchObject({ code: "unknown_key" });
    const none = { method: "POST", url: URL_, headers: new Headers(), body: enc(BODY) };
    expect(await verifyHmacRequest(none, options())).toMatchObject({ code: "missing_authorization" });
    const partial = await signed();
    partial.headers.delete(HMAC_HEADERS.nonce);
    const r = await verifyHmacRequest(partial, options());
    expect(r).toMatchObject({ code: "invalid_signature" });
    expect(!r.ok && r.problem.detail).toBe("Missing x-switchyard-nonce");
    const badTs = await signed();
    badTs.headers.set(HMAC_HEADERS.timestamp, "2026-01-01T00:00:00Z");
    expect(await verifyHmacRequest(badTs, options())).toMatchObject({ code: "invalid_signature" });
    expect(await verifyHmacRequest(await signed({ nonce: "short" }), options())).toMatchObject({ code: "invalid_signature" });
  });
});
