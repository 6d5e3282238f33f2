import { problemFor, refusalResponse } from "./problems.ts";

/**
 * CORS for portal functions (charter §9: "CSP/CORS locked"). The allowlist comes from
 * configuration, `SWITCHYARD_CORS_ORIGINS` = comma-separated origins
 * ("https://app.example.com,http://localhost:5173"); unset or empty allows no browser
 * origin (fail closed), "*" allows any (local development only).
 * Requests without an Origin header (servers, schedules, agents) are not CORS and pass.
 * A disallowed origin is refused with origin_not_allowed, and its value is never echoed.
 */
export const CORS_ORIGINS_ENV = "SWITCHYARD_CORS_ORIGINS";

/** Request headers browsers may send; supabase-js adds apikey and x-client-info. */
export const CORS_ALLOWED_HEADERS = [
  "authorization",
  "content-type",
  "apikey",
  "x-client-info",
  "idempotency-key",
  "traceparent",
  "tracestate",
  "last-event-id",
  "x-switchyard-key-id",
  "x-switchyard-timestamp",
  "x-switchyard-nonce",
  "x-switchyard-signature",
  "x-content-sha256",
] as const;

/** Response headers browser code may read. */
export const CORS_EXPOSED_HEADERS = ["traceparent", "retry-after", "idempotency-replayed", "location", "x-content-sha256"] as const;

export interface CorsPolicy {
  origins: ReadonlySet<string> | "*";
  methods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  maxAgeSeconds: number;
}

/** "https://App.example.com:443/" -> "https://app.example.com"; throws on anything but an origin. */
function normalizeOrigin(raw: string): string {
  const url = new URL(raw);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
    throw new Error(`${CORS_ORIGINS_ENV}: "${raw}" is not a bare origin (scheme://host[:port])`);
  }
  return url.origin;
}

/** Parses the allowlist; a malformed entry throws so misconfiguration fails at boot. */
export function parseAllowedOrigins(value: string | undefined): ReadonlySet<string> | "*" {
  const entries = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (entries.includes("*")) return "*";
  return new Set(entries.map(normalizeOrigin));
}

/**
 * `policy` plus the origin this request was served from (a page of the same functions host
 * calling it, e.g. the console's API or its Live Feed ticket POST: browsers send Origin on a
 * same-origin POST). Behind a proxy that terminates TLS the function may see http:// or an
 * internal host, so Host / X-Forwarded-Host with X-Forwarded-Proto count too. (A browser
 * cannot set X-Forwarded-* on a cross-origin request: a custom header needs a preflight,
 * which carries no header values and is judged without them.)
 */
export function withOwnOrigin(req: Request, policy: CorsPolicy): CorsPolicy {
  if (policy.origins === "*") return policy;
  const url = new URL(req.url);
  const own = new Set<string>([...policy.origins, url.origin]);
  const proto = (req.headers.get("x-forwarded-proto") ?? url.protocol.replace(":", "")).split(",")[0].trim();
  for (const host of [req.headers.get("host"), req.headers.get("x-forwarded-host")?.split(",")[0].trim()]) {
    if (!host) continue;
    try {
      own.add(new URL(`${proto}://${host}`).origin);
    } catch { /* a malformed host adds nothing */ }
  }
  return { ...policy, origins: own };
}

export function corsPolicy(originsConfig: string | undefined, overrides: Partial<CorsPolicy> = {}): CorsPolicy {
  return {
    origins: parseAllowedOrigins(originsConfig),
    methods: ["GET", "POST", "OPTIONS"],
    allowHeaders: CORS_ALLOWED_HEADERS,
    exposeHeaders: CORS_EXPOSED_HEADERS,
    maxAgeSeconds: 600,
    ...overrides,
  };
}

export function isOriginAllowed(origin: string, policy: CorsPolicy): boolean {
  if (policy.origins === "*") return true;
  try {
    return policy.origins.has(normalizeOrigin(origin));
  } catch {
    return false; // "null" (sandboxed/file origins) and garbage
  }
}

/**
 * What to do with a request:
 *  - preflight: answer with `response` (204), nothing else runs;
 *  - refused: answer with `response` (403 origin_not_allowed);
 *  - continue: run the handler, then add `headers` to its response (see withCors).
 */
export type CorsDecision =
  | { kind: "preflight"; response: Response }
  | { kind: "refused"; response: Response }
  | { kind: "continue"; headers: Headers };

export function applyCors(req: Request, policy: CorsPolicy): CorsDecision {
  const origin = req.headers.get("origin");
  const isPreflight = req.method === "OPTIONS" && req.headers.has("access-control-request-method");
  const vary = isPreflight
    ? "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
    : "Origin";

  if (origin !== null && !isOriginAllowed(origin, policy)) {
    return { kind: "refused", response: refusalResponse(problemFor("origin_not_allowed"), { vary }) };
  }

  const headers = new Headers({ vary });
  if (origin !== null) headers.set("access-control-allow-origin", origin);

  if (!isPreflight) {
    if (origin !== null) headers.set("access-control-expose-headers", policy.exposeHeaders.join(", "));
    return { kind: "continue", headers };
  }

  // Our own x-switchyard-* headers are allowed by prefix, so a new one needs no config change.
  const requested = (req.headers.get("access-control-request-headers") ?? "")
    .split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  const allow = new Set([...policy.allowHeaders, ...requested.filter((h) => h.startsWith("x-switchyard-"))]);
  headers.set("access-control-allow-methods", policy.methods.join(", "));
  headers.set("access-control-allow-headers", [...allow].join(", "));
  headers.set("access-control-max-age", String(policy.maxAgeSeconds));
  return { kind: "preflight", response: new Response(null, { status: 204, headers }) };
}

/** Adds the CORS headers to a response (a copy, since fetched responses are immutable). */
export function withCors(res: Response, cors: Headers): Response {
  const headers = new Headers(res.headers);
  for (const [name, value] of cors) {
    if (name === "vary") headers.append("vary", value);
    else headers.set(name, value);
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}
