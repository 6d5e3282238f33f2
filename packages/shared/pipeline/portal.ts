import { z } from "zod";
import { type Config, loadConfig, type Need } from "../config/env.ts";
import { db, type Sql } from "../db/client.ts";
import { DEFAULT_BODY_LIMIT, readJsonBody } from "../http/body.ts";
import { applyCors, corsPolicy, withCors } from "../http/cors.ts";
import { json } from "../http/json.ts";
import { type Outcome, refuse, type Refusal } from "../http/outcome.ts";
import { refusalResponse, validationProblem } from "../http/problems.ts";
import { createLogger, type Logger } from "../observability/logger.ts";
import { parseTraceparent } from "../observability/traceparent.ts";
import { hasHmacHeaders, type HmacKey, verifyHmacRequest } from "../security/hmac.ts";
import { createJwtVerifier, sessionClaims } from "../security/jwt.ts";
import { sha256Hex } from "../util/encoding.ts";
import { isServiceRole } from "../security/service-role.ts";
import { runAgents } from "./agents.ts";
import type { PortalManifest } from "./manifest.ts";
import { type Claims, type RunDeps, runAction } from "./run.ts";
import { refusalFromDb } from "./db-errors.ts";
import { createTelemetry, type Telemetry } from "./telemetry.ts";

/** Environment of a portal function (what the hosted platform and `supabase secrets` give). */
export type PortalEnv = Pick<Config, "SUPABASE_DB_URL" | "SWITCHYARD_JWT_SECRET" | "SWITCHYARD_JWKS_URL" | "SWITCHYARD_CORS_ORIGINS" | "OTEL_EXPORTER_OTLP_ENDPOINT">;

/** The portal's configuration (config/env.ts); throws ConfigError naming what is missing. */
export function portalEnv(get: (k: string) => string | undefined, need: readonly Need[] = []): PortalEnv {
  return loadConfig(get, need);
}

interface MachineKey {
  principalId: string;
  name: string;
}

/** ?tenant=<uuid>, lower-cased: one spelling per tenant (an upper-case one split metric batches). */
const tenantParam = z.guid().transform((s) => s.toLowerCase());
const idempotencyKeySchema = z.string().min(1).max(255).regex(/^[\x21-\x7e]+$/);

/** Live HMAC keys by key id, cached briefly: revocation takes effect within KEY_TTL_MS. */
const KEY_TTL_MS = 30_000;
function hmacKeyLookup(sql: Sql) {
  const cache = new Map<string, { at: number; key: HmacKey<MachineKey> | null }>();
  return async (keyId: string): Promise<HmacKey<MachineKey> | null> => {
    const hit = cache.get(keyId);
    if (hit && Date.now() - hit.at < KEY_TTL_MS) return hit.key;
    const rows = await sql`select principal_id, principal_name, signing_key from app_private.hmac_signing_key(${keyId})`;
    const key = rows.length
      ? { secrets: [rows[0].signing_key as string], principal: { principalId: rows[0].principal_id as string, name: rows[0].principal_name as string } }
      : null;
    cache.set(keyId, { at: Date.now(), key });
    return key;
  };
}

/**
 * Spends a verified request's nonce in a statement of its own (autocommit, on the edge's
 * connection): it stays spent whatever the action's transaction does afterwards (a 429, a
 * 503 of the kill switch, a rollback), so the same bytes never succeed later. Started as
 * soon as the signature holds and awaited beside the action's first statement (run.ts), so
 * it costs no round trip of its own. Resolves to the refusal (nonce_reused) or null.
 */
function nonceSpender(sql: Sql) {
  return (source: string, nonce: string, timestamp: Date): Promise<Refusal | null> =>
    sql`select app_private.webhook_nonce_use(${source}, ${nonce}, ${timestamp}, 300, null) as ok`.then(
      (rows) => rows[0]?.ok ? null : refuse("nonce_reused", { detail: "this request nonce was already used" }),
      (err) => refusalFromDb(err) ?? refuse("internal_error"),
    );
}

export interface Portal {
  handler: (req: Request) => Promise<Response>;
  telemetry: Telemetry;
  sql: Sql;
  log: Logger;
}

/**
 * One edge function per portal: POST /<fn>/<action>. The request path, in order:
 * CORS -> route -> body (type, 2 MB, JSON) -> authentication (JWT, or HMAC v2 for machine
 * callers) -> zod validation -> Idempotency-Key -> runAction (authorization, rails,
 * idempotency, one transaction, prove). Every refusal is problem+json; every response
 * carries the request's traceparent. POST /<fn>/_agents (the service key only: the
 * autopilot's tick) runs the portal's detectors and their tasks.
 */
export function servePortal(manifest: PortalManifest, env: PortalEnv): Portal {
  const { name: portal, fn, actions, http: options } = manifest;
  const sql = db(env.SUPABASE_DB_URL);
  const log = createLogger(`portal:${portal}`);
  const telemetry = createTelemetry(sql, fn, log, env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const deps: RunDeps = { fn, sql, telemetry, log };
  const cors = corsPolicy(env.SWITCHYARD_CORS_ORIGINS);
  const verifyJwt = createJwtVerifier({ secret: env.SWITCHYARD_JWT_SECRET, jwksUrl: env.SWITCHYARD_JWKS_URL });
  const lookupKey = hmacKeyLookup(sql);
  const spendNonce = nonceSpender(sql);
  const byName = new Map(actions.map((a) => [a.name, a]));
  const byEvent = new Map(actions.filter((a) => a.eventType).map((a) => [a.eventType!, a]));
  const idempotencyHeader = options.idempotencyHeader ?? "idempotency-key";

  async function authenticate(req: Request, url: URL, body: Uint8Array<ArrayBuffer>): Promise<Outcome<{ claims: Claims; nonce: Promise<Refusal | null> | null }>> {
    if (hasHmacHeaders(req.headers)) {
      const v = await verifyHmacRequest<MachineKey>({ method: req.method, url: req.url, headers: req.headers, body }, {
        lookupKey,
        // Spent right below, once the signature holds (nonceSpender), in its own statement.
        consumeNonce: () => Promise.resolve(true),
      });
      if (!v.ok) return v;
      const nonce = spendNonce(`hmac:${v.value.keyId}`, v.value.nonce, new Date(v.value.timestamp * 1000));
      const tenant = tenantParam.safeParse(url.searchParams.get("tenant"));
      if (!tenant.success) return refuse("validation_failed", { errors: [{ path: "tenant", message: "Machine callers name the tenant as ?tenant=<uuid>" }] });
      return {
        ok: true,
        value: {
          // key_id: the rails bind a machine key to the tenants it names (check_machine_tenant).
          claims: { sub: v.value.principal.principalId, role: "authenticated", tenant_id: tenant.data, principal_kind: "machine", principal_name: v.value.principal.name, portal: "", key_id: v.value.keyId },
          nonce,
        },
      };
    }
    if (options.machineOnly) return refuse("missing_authorization", { detail: "This endpoint takes HMAC v2 signed requests only" });
    const jwt = await verifyJwt(req.headers.get("authorization"));
    if (!jwt.ok) return jwt;
    const c = jwt.value;
    if (!c.tenant_id) return refuse("forbidden", { detail: "The token names no tenant (tenant_id claim)" });
    return {
      ok: true,
      value: {
        claims: { sub: c.sub, role: "authenticated", tenant_id: c.tenant_id, principal_kind: "human", principal_name: c.principal_name, portal: "", ...sessionClaims(c) },
        nonce: null,
      },
    };
  }

  async function handle(req: Request, url: URL): Promise<Response> {
    const [, fnSeg, actionName, ...rest] = url.pathname.split("/");
    if (fnSeg === fn && actionName === "_agents" && rest.length === 0) return agents(req);
    let def = options.routeBy === "event"
      ? undefined
      : fnSeg === fn && rest.length === 0 ? byName.get(actionName ?? "") : undefined;
    if (!def && options.routeBy !== "event") {
      return refusalResponse(refuse("not_found", { detail: `No action ${fn}/${actionName ?? ""}` }).problem);
    }
    if (req.method !== "POST") return refused(refuse("method_not_allowed", { allow: ["POST"] }));

    const body = await readJsonBody(req, DEFAULT_BODY_LIMIT);
    if (!body.ok) return refusalResponse(body.problem);
    const auth = await authenticate(req, url, body.value.bytes);
    if (!auth.ok) return refused(auth);
    if (options.routeBy === "event") {
      const type = (body.value.json as { type?: unknown } | null)?.type;
      def = typeof type === "string" ? byEvent.get(type) : undefined;
      if (!def) {
        return refused(refuse("validation_failed", { errors: [{ path: "type", message: `Expected one of: ${[...byEvent.keys()].join(", ")}` }] }));
      }
    }
    const input = def!.input.safeParse(body.value.json);
    if (!input.success) return refusalResponse(validationProblem(input.error));

    const rawKey = req.headers.get(idempotencyHeader);
    if (rawKey === null && def!.idempotency === "required") return refused(refuse("idempotency_key_missing", { detail: `${idempotencyHeader} header is required` }));
    if (rawKey !== null && !idempotencyKeySchema.safeParse(rawKey).success) {
      return refused(refuse("validation_failed", { errors: [{ path: idempotencyHeader, message: "1-255 visible ASCII characters" }] }));
    }
    // The same key with another method, path or body is a different request (422).
    const fingerprint = rawKey === null ? null : await sha256Hex(`${req.method} ${url.pathname} ${await sha256Hex(body.value.bytes)}`);

    const run = await runAction(deps, def!, {
      // The portal flags (portal.enabled) and rate limits apply per the action's portal.
      claims: { ...auth.value.claims, portal: def!.portal },
      input: input.data,
      parent: parseTraceparent(req.headers.get("traceparent")),
      ip: (req.headers.get("x-forwarded-for") ?? "").split(",")[0].trim() || null,
      idempotencyKey: rawKey,
      fingerprint,
      nonce: auth.value.nonce,
    });
    const headers: Record<string, string> = { traceparent: run.traceparent };
    if (!run.outcome.ok) return refused(run.outcome, headers);
    if (run.outcome.value.replayed) headers["idempotency-replayed"] = "true";
    return json(run.outcome.value.body, run.outcome.value.status, headers);
  }

  /** The agents' turn (the autopilot's tick forwards the scheduler's service key). */
  async function agents(req: Request): Promise<Response> {
    if (req.method !== "POST") return refused(refuse("method_not_allowed", { allow: ["POST"] }));
    if (!(await isServiceRole(req.headers.get("authorization"), env.SWITCHYARD_JWT_SECRET))) {
      return refused(refuse("forbidden", { detail: "Only the scheduler runs the agents" }));
    }
    const out = await runAgents(deps, portal, manifest.detectors);
    await telemetry.flush();
    return json(out);
  }

  const refused = (r: Refusal, headers: Record<string, string> = {}) => refusalResponse(r.problem, headers);

  const handler = async (req: Request): Promise<Response> => {
    const decision = applyCors(req, cors);
    if (decision.kind !== "continue") return decision.response;
    const url = new URL(req.url);
    let res: Response;
    try {
      res = await handle(req, url);
    } catch (err) {
      // A database that is away (the HMAC key lookup, ...) answers 503 with Retry-After.
      const dbRefusal = refusalFromDb(err);
      if (!dbRefusal) log.error({ err: err instanceof Error ? err.message : String(err) }, "unhandled error");
      res = refusalResponse((dbRefusal ?? refuse("internal_error")).problem);
    }
    return withCors(res, decision.headers);
  };
  return { handler, telemetry, sql, log };
}
