import { accept, type Outcome, refuse } from "../http/outcome.ts";
import { fromBase64, sha256Hex, toBase64, utf8 } from "../util/encoding.ts";

/**
 * HMAC v2 request signing for machine callers (charter §9: "v2 HMAC (timestamp + nonce)").
 *
 * Headers:
 *   x-switchyard-key-id     which key signed (several may be active during a rotation)
 *   x-switchyard-timestamp  unix seconds
 *   x-switchyard-nonce      16-128 chars of [A-Za-z0-9_-], single use
 *   x-switchyard-signature  "v2=<base64 HMAC-SHA256>"; several space-separated entries are
 *                           allowed, so a caller can sign with its old and new secret at once
 *
 * Canonical string (UTF-8), fields joined by ":":
 *   v2:<timestamp>:<nonce>:<METHOD>:<path>:<hex sha256 of the raw body bytes>
 * where METHOD is upper case and path is the URL pathname plus "?query" when there is one,
 * with a leading "/functions/v1" removed: the hosted platform hands a function its URL
 * without that prefix, so caller and function would otherwise sign different paths.
 * Example: v2:1767225600:n0nce-8f14e45fceea167a:POST:/rates/price_one:e3b0c442...b855
 *
 * Verification order: headers -> timestamp window -> key -> signature -> nonce. The nonce is
 * consumed only after the signature holds, so forged requests cannot burn a caller's nonces.
 */
export const HMAC_HEADERS = {
  keyId: "x-switchyard-key-id",
  timestamp: "x-switchyard-timestamp",
  nonce: "x-switchyard-nonce",
  signature: "x-switchyard-signature",
} as const;

/** ±5 minutes, as Standard Webhooks. */
export const HMAC_TOLERANCE_SECONDS = 300;

const NONCE = /^[A-Za-z0-9_-]{16,128}$/;
const FUNCTIONS_PREFIX = /^\/functions\/v1(?=\/|$)/;

export type HmacSecret = string | Uint8Array<ArrayBuffer>;

export function canonicalPath(url: string | URL): string {
  const u = new URL(url);
  return (u.pathname.replace(FUNCTIONS_PREFIX, "") || "/") + u.search;
}

export interface CanonicalParts {
  timestamp: number;
  nonce: string;
  method: string;
  url: string | URL;
  body: Uint8Array<ArrayBuffer> | string;
}

export async function canonicalString(p: CanonicalParts): Promise<string> {
  return `v2:${p.timestamp}:${p.nonce}:${p.method.toUpperCase()}:${canonicalPath(p.url)}:${await sha256Hex(p.body)}`;
}

const importKey = (secret: HmacSecret, usage: "sign" | "verify") =>
  crypto.subtle.importKey("raw", typeof secret === "string" ? utf8(secret) : secret, { name: "HMAC", hash: "SHA-256" }, false, [usage]);

export function newNonce(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(18))).replace(/\+/g, "-").replace(/\//g, "_");
}

export interface SignInput {
  keyId: string;
  /** One secret, or several (old and new) during a rotation. */
  secret: HmacSecret | HmacSecret[];
  method: string;
  url: string | URL;
  body?: Uint8Array<ArrayBuffer> | string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  nonce?: string;
}

/** The four headers for a signed request. */
export async function signRequest(input: SignInput): Promise<Record<string, string>> {
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const nonce = input.nonce ?? newNonce();
  const data = utf8(await canonicalString({ ...input, timestamp, nonce, body: input.body ?? "" }));
  const signatures = await Promise.all(
    [input.secret].flat().map(async (s) => `v2=${toBase64(await crypto.subtle.sign("HMAC", await importKey(s, "sign"), data))}`),
  );
  return {
    [HMAC_HEADERS.keyId]: input.keyId,
    [HMAC_HEADERS.timestamp]: String(timestamp),
    [HMAC_HEADERS.nonce]: nonce,
    [HMAC_HEADERS.signature]: signatures.join(" "),
  };
}

/** True when the request carries any HMAC header (the machine path). */
export function hasHmacHeaders(headers: Headers): boolean {
  return Object.values(HMAC_HEADERS).some((h) => headers.has(h));
}

export interface HmacKey<P> {
  /** Every active secret of this key id (usually one; two while a secret rotates). */
  secrets: HmacSecret[];
  /** Whatever the caller's store attaches to the key, e.g. the service principal. */
  principal: P;
}

export interface HmacVerifyOptions<P> {
  /** The active key for an id, or null when unknown, revoked or expired. */
  lookupKey(keyId: string): Promise<HmacKey<P> | null>;
  /**
   * Records the nonce and answers true on its first use, false when already seen. It must be
   * atomic (the DB's nonce store) and keep the nonce at least until `expiresAt`, after which
   * the timestamp check rejects the request anyway.
   */
  consumeNonce(keyId: string, nonce: string, expiresAt: Date): Promise<boolean>;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  toleranceSeconds?: number;
}

export interface HmacRequest {
  method: string;
  url: string | URL;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
}

export interface HmacVerified<P> {
  keyId: string;
  principal: P;
  timestamp: number;
  nonce: string;
}

export async function verifyHmacRequest<P>(
  req: HmacRequest,
  opts: HmacVerifyOptions<P>,
): Promise<Outcome<HmacVerified<P>>> {
  const h = req.headers;
  if (!hasHmacHeaders(h)) return refuse("missing_authorization", { detail: "Request is not signed" });
  const missing = Object.values(HMAC_HEADERS).filter((name) => !h.get(name));
  if (missing.length) return refuse("invalid_signature", { detail: `Missing ${missing.join(", ")}` });
  const keyId = h.get(HMAC_HEADERS.keyId)!;
  const nonce = h.get(HMAC_HEADERS.nonce)!;
  const rawTs = h.get(HMAC_HEADERS.timestamp)!;

  if (!/^\d{1,12}$/.test(rawTs)) return refuse("invalid_signature", { detail: "Timestamp must be unix seconds" });
  const timestamp = Number(rawTs);
  const tolerance = opts.toleranceSeconds ?? HMAC_TOLERANCE_SECONDS;
  const now = Math.floor((opts.now?.() ?? Date.now()) / 1000);
  if (timestamp < now - tolerance) return refuse("stale_timestamp", { tolerance_seconds: tolerance });
  if (timestamp > now + tolerance) return refuse("future_timestamp", { tolerance_seconds: tolerance });
  if (!NONCE.test(nonce)) return refuse("invalid_signature", { detail: "Nonce must be 16-128 chars of [A-Za-z0-9_-]" });

  const key = await opts.lookupKey(keyId);
  if (!key || key.secrets.length === 0) return refuse("unknown_key");

  const signatures = (h.get(HMAC_HEADERS.signature) ?? "").split(/[\s,]+/)
    .filter((s) => s.startsWith("v2="))
    .map((s) => fromBase64(s.slice(3)))
    .filter((s): s is Uint8Array<ArrayBuffer> => s !== null && s.byteLength === 32);
  if (signatures.length === 0) return refuse("invalid_signature", { detail: "No v2 signature" });

  const data = utf8(await canonicalString({ timestamp, nonce, method: req.method, url: req.url, body: req.body }));
  // crypto.subtle.verify compares in constant time; try every (secret, signature) pair.
  let valid = false;
  for (const secret of key.secrets) {
    const cryptoKey = await importKey(secret, "verify");
    for (const sig of signatures) valid = (await crypto.subtle.verify("HMAC", cryptoKey, sig, data)) || valid;
  }
  if (!valid) return refuse("invalid_signature");

  const expiresAt = new Date((timestamp + tolerance) * 1000);
  if (!(await opts.consumeNonce(keyId, nonce, expiresAt))) return refuse("nonce_reused");
  return accept({ keyId, principal: key.principal, timestamp, nonce });
}
