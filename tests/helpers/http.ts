import { expect } from "vitest";
import { type PortalName, PORTALS, loadManifest } from "../../packages/portals/registry.ts";
import type { PortalManifest } from "../../packages/shared/pipeline/manifest.ts";
import { signRequest } from "../../packages/shared/security/hmac.ts";
import { DEMO_TENANT, machineKey, USERS, userJwt } from "./auth.ts";
import { sql } from "./db.ts";
import { fnUrl, stackEnv } from "./env.ts";

/** One autopilot tick now (as pg_cron calls it, with the service key); its JSON report. */
export async function tick(): Promise<any> {
  const res = await postJson(fnUrl("autopilot/tick"), {}, stackEnv.serviceRoleKey);
  expect(res.status).toBe(200);
  return res.json();
}

/** A JSON POST with an optional bearer token (a string body is sent as it is). */
export const postJson = (url: string, body: unknown, token: string | null, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

/** What a call answered: status, headers and the body (parsed JSON, else the text). */
export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
}

export async function readResult(res: Response): Promise<CallResult> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch { /* not JSON: the text */ }
  return { status: res.status, headers: res.headers, body };
}

/**
 * Who calls: a USERS key ("ops") or a user id (a human with a JWT), a service account name
 * ("n8n", "agents", "ci": HMAC v2 signed, `?tenant=`), or null (no credentials at all).
 */
export type Caller = keyof typeof USERS | string | null;

export interface CallOptions {
  /** The tenant of the call (JWT tenant_id claim, or ?tenant= for machines); DEMO_TENANT by default. */
  tenant?: string;
  /** Sent in the portal's idempotency header (Idempotency-Key, or webhook-id for inbound webhooks). */
  idempotencyKey?: string;
  headers?: Record<string, string>;
  /** A raw body string, sent as it is (malformed JSON, size tests). */
  raw?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const keys = new Map<string, Promise<{ keyId: string; signingKey: string }>>();

/** A live HMAC key for a service account, issued once per test file. */
export const keyFor = (account: string) => {
  if (!keys.has(account)) keys.set(account, machineKey(sql, account));
  return keys.get(account)!;
};

/** Whether a caller is a human (a JWT) rather than a service account (HMAC). */
export const isUser = (as: string) => as in USERS || UUID.test(as);

/**
 * A portal as its callers reach it, by its registry name: `portal('rates').call(action,
 * body, as)`. The path comes from the registry's `fn`; event-routed portals (crm, served by
 * `webhooks`) get one endpoint and the action's event `type` in the body when it names
 * none. Humans send a JWT (Authorization: Bearer), service accounts sign with HMAC v2.
 */
export function portal(name: PortalName | string) {
  const entry = PORTALS.find((p) => p.name === name);
  if (!entry) throw new Error(`unknown portal: ${name}`);
  let manifest: Promise<PortalManifest> | undefined;
  const load = () => (manifest ??= loadManifest(name));
  return {
    fn: entry.fn as string,
    manifest: load,
    async url(action: string, as: Caller, tenant = DEMO_TENANT): Promise<string> {
      const m = await load();
      const base = m.http.routeBy === "event" ? fnUrl(entry.fn) : fnUrl(`${entry.fn}/${action}`);
      return as !== null && !isUser(as) ? `${base}?tenant=${tenant}` : base;
    },
    async call(action: string, body: unknown, as: Caller, opts: CallOptions = {}): Promise<CallResult> {
      const m = await load();
      const def = m.contract.actions[action];
      if (!def) throw new Error(`${name} has no action ${action}`);
      if (m.http.routeBy === "event" && body && typeof body === "object" && !Array.isArray(body) && !("type" in body)) {
        body = { type: def.eventType, ...body };
      }
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.idempotencyKey !== undefined) headers[m.http.idempotencyHeader ?? "idempotency-key"] = opts.idempotencyKey;
      const url = await this.url(action, as, opts.tenant);
      const raw = opts.raw ?? JSON.stringify(body);
      let res: Response;
      if (as === null) res = await postJson(url, raw, null, headers);
      else if (isUser(as)) {
        const sub = as in USERS ? USERS[as as keyof typeof USERS] : as;
        res = await postJson(url, raw, await userJwt(sub, { tenant: opts.tenant }), headers);
      } else {
        const key = await keyFor(as);
        const sig = await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url, body: raw });
        res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...sig, ...headers }, body: raw });
      }
      return readResult(res);
    },
  };
}

/** Text a problem must never carry to a client: stack traces, SQL, Postgres internals. */
const INTERNALS = [
  /\n\s+at\s/,
  /\bat\s+\S+\s+\(.*:\d+:\d+\)/,
  /\b(select|insert\s+into|update\s+\S+\s+set|delete\s+from)\b/i,
  /app_private\.|SQLSTATE|syntax error|violates|relation "|duplicate key|PostgresError/i,
];

/**
 * Asserts an RFC 9457 problem: application/problem+json, `status` (in the body too),
 * `code`, a `title`, and nothing internal (no stack, no SQL). Takes a fetch Response or a
 * CallResult; returns the problem body.
 */
export async function expectProblem(res: Response | CallResult, status: number, code: string, label = "") {
  const r = res instanceof Response ? await readResult(res) : res;
  const p = r.body;
  const where = label ? `${label}: ` : "";
  expect(r.headers.get("content-type"), `${where}content-type (body ${JSON.stringify(p)})`).toBe("application/problem+json");
  expect({ status: r.status, code: p?.code }, `${where}status and code (body ${JSON.stringify(p)})`).toEqual({ status, code });
  expect(p.status, `${where}body status`).toBe(r.status);
  expect(typeof p.title === "string" && p.title.length > 0, `${where}title`).toBe(true);
  expect(p.stack, `${where}stack`).toBeUndefined();
  const text = JSON.stringify(p);
  for (const re of INTERNALS) expect(re.test(text), `${where}internals ${re} in ${text}`).toBe(false);
  return p;
}
