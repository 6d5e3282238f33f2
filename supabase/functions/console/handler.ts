import { loadConfig } from "../../../packages/shared/config/env.ts";
import { db } from "../../../packages/shared/db/client.ts";
import { applyCors, withCors } from "../../../packages/shared/http/cors.ts";
import { refuse } from "../../../packages/shared/http/outcome.ts";
import { refusalResponse } from "../../../packages/shared/http/problems.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { createJwtVerifier } from "../../../packages/shared/security/jwt.ts";
import { createTelemetry } from "../../../packages/shared/pipeline/telemetry.ts";
import { handleApi } from "./api.ts";
import { ASSETS } from "./assets.ts";
import { PAGE } from "./page.ts";
import { consolePolicy, secure } from "./security.ts";

/**
 * The operator console (issue 6, charter §5 "Realtime", §9, §11): one public page, its
 * script and styles, and a JSON API under api/ that verifies the caller's JWT and reads and
 * writes under the caller's claims. Routes, relative to the function (/functions/v1/console):
 *
 *   GET  /                 the page            GET  /app.js, /app.css, /vendor/uplot.{js,css}
 *   GET  /api/me           who am I            GET  /api/switchboard    flags, history
 *   POST /api/kill-switch  {engage, reason}    POST /api/flags          {key, scope, value, reason}
 *   GET  /api/slo          SLO tiles + series  GET  /api/outbox         lag, queue depth, series
 *   GET  /api/dlq          entries, replays    POST /api/dlq/dry-run | /api/dlq/replay {ids}
 *   POST /api/dlq/decide   {request_id, approve, note}
 *   GET  /api/trace/<id>   spans, audit rows, outbox events, DLQ entries of one trace
 *   POST /api/revert       {trace_id, clear?}: the portal's revert action (forwarded, as the caller)
 *   GET  /api/feed         recent Live Feed rows (the live stream is the live-feed function)
 *   GET  /api/alerts       open and recent alerts (the #/alerts view; alert links without a trace)
 *
 * config.toml: verify_jwt = false (the page is public; the API verifies tokens itself).
 */
const config = loadConfig((k) => Deno.env.get(k), ["jwt", "SUPABASE_URL"]);
const log = createLogger("console");
const sql = db(config.SUPABASE_DB_URL);
const telemetry = createTelemetry(sql, "console", log, config.OTEL_EXPORTER_OTLP_ENDPOINT);
const verifyJwt = createJwtVerifier({ secret: config.SWITCHYARD_JWT_SECRET, jwksUrl: config.SWITCHYARD_JWKS_URL });
const corsOrigins = config.SWITCHYARD_CORS_ORIGINS;
const functionsUrl = `${config.SUPABASE_URL!.replace(/\/$/, "")}/functions/v1`;

/** The path below the function: "/console/api/me" -> "/api/me"; "/console" -> "". */
function localPath(pathname: string): string | null {
  const m = /^.*?\/console(\/.*)?$/.exec(pathname);
  return m ? m[1] ?? "" : null;
}

function notFound(): Response {
  return refusalResponse(refuse("not_found", { detail: "No such console route" }).problem, { "cache-control": "no-store" });
}

async function route(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = localPath(url.pathname);
  if (path === null) return notFound();

  if (path === "/api" || path.startsWith("/api/")) {
    const decision = applyCors(req, consolePolicy(req, corsOrigins));
    if (decision.kind !== "continue") return decision.response;
    return withCors(await handleApi({ functionsUrl, sql, telemetry, verifyJwt, log }, req, path.slice("/api".length)), decision.headers);
  }

  if (req.method !== "GET" && req.method !== "HEAD") {
    return refusalResponse(refuse("method_not_allowed", { allow: ["GET", "HEAD"] }).problem);
  }
  // Relative asset URLs need the trailing slash: /functions/v1/console -> console/.
  if (path === "") return new Response(null, { status: 308, headers: { location: "console/" } });
  if (path === "/" || path === "/index.html") {
    return new Response(req.method === "HEAD" ? null : PAGE, {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    });
  }
  const asset = ASSETS.get(path);
  if (!asset) return notFound();
  const headers = { "content-type": asset.type, "cache-control": "no-cache", etag: asset.etag };
  if (req.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
  return new Response(req.method === "HEAD" ? null : asset.body, { headers });
}

export async function handler(req: Request): Promise<Response> {
  try {
    return secure(await route(req));
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err) }, "console failed");
    return secure(refusalResponse(refuse("internal_error").problem));
  }
}
