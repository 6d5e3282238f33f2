import { loadConfig } from "../../../packages/shared/config/env.ts";
import { db, machineClaims, withClaims } from "../../../packages/shared/db/client.ts";
import { readBodyBytes } from "../../../packages/shared/http/body.ts";
import { refuse } from "../../../packages/shared/http/outcome.ts";
import { problemFor, refusalResponse, validationProblem } from "../../../packages/shared/http/problems.ts";
import type { Problem } from "../../../packages/shared/http/problem.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { parseTraceparent } from "../../../packages/shared/observability/traceparent.ts";
import { refusalFromDb } from "../../../packages/shared/pipeline/db-errors.ts";
import { runAction } from "../../../packages/shared/pipeline/run.ts";
import { createTelemetry } from "../../../packages/shared/pipeline/telemetry.ts";
import { sha256Hex } from "../../../packages/shared/util/encoding.ts";
import crm from "../../../packages/portals/crm/index.ts";
import { ASSETS } from "./assets.ts";
import type { SiteContext } from "./content.ts";
import { livePages, siteContext } from "./pages.ts";
import { clientId, eventInput, FORM_BODY_LIMIT, formEvents, utmCookie, utmFromCookie, utmFromQuery } from "./forms.ts";
import { renderNotice, renderPage, robots, sitemap } from "./render.ts";

/**
 * The website (charter §5, issue 18): the 50 pages of the page registry in Postgres
 * (public.site_pages, the live version of each), server-rendered, and the forms.
 *
 *   GET  /<path>                 a page (the landing URL's utm_* go into a first-party cookie)
 *   GET  /sitemap.xml, /robots.txt, /site.js, /site.css, /img/*.svg
 *   POST /forms/<event>          demo.requested | lead.created | roi.calculated | checkout.started
 *
 * A form runs the CRM portal's action for its event (packages/portals/crm: the action n8n's
 * signed webhooks run), as n8n@ (the website's ingestion account) in the site's tenant
 * (app_private.site_tenant()), idempotent by the form's client id, limited per visitor IP,
 * with a honeypot field that bots fill and people do not see.
 *
 * Hosted Supabase serves text/html from functions as text/plain unless the project has a
 * custom domain: there, publish `npm run site:export`'s static files instead (README).
 * config.toml: verify_jwt = false (a public website).
 */
const config = loadConfig((k) => Deno.env.get(k), ["SUPABASE_URL"]);
const log = createLogger("site");
const sql = db(config.SUPABASE_DB_URL);
const telemetry = createTelemetry(sql, "site", log, config.OTEL_EXPORTER_OTLP_ENDPOINT);
const baseUrl = (Deno.env.get("SWITCHYARD_SITE_URL") ?? `${config.SUPABASE_URL!.replace(/\/$/, "")}/functions/v1/site`).replace(/\/$/, "");
const byEvent = new Map(crm.actions.filter((a) => a.eventType).map((a) => [a.eventType!, a]));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join("; ");
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
  "strict-transport-security": "max-age=31536000",
};

/** The site's tenant (read once per isolate; the owner's session reads, never writes). */
let tenantPromise: Promise<string> | null = null;
const siteTenant = () =>
  tenantPromise ??= sql`select app_private.site_tenant() as t`.then(([r]) => {
    if (!r?.t) throw new Error("ops.site_settings names no tenant");
    return r.t as string;
  }).catch((err) => {
    tenantPromise = null;
    throw err;
  });


function localPath(pathname: string): string | null {
  const m = /^.*?\/site(\/.*)?$/.exec(pathname);
  return m ? m[1] ?? "" : null;
}

const wantsJson = (req: Request) => (req.headers.get("accept") ?? "").includes("application/json");

/** A refusal: problem+json for scripts, a small escaped HTML page for a browser's plain post. */
function refused(req: Request, ctx: SiteContext, p: Problem, headers: Record<string, string> = {}): Response {
  if (wantsJson(req) || req.method !== "POST") return refusalResponse(p, headers);
  const res = refusalResponse(p, headers);
  const h = new Headers(res.headers);
  h.set("content-type", "text/html; charset=utf-8");
  return new Response(renderNotice(ctx, p.title, String(p.detail ?? "Please check the form and try again.")), { status: p.status, headers: h });
}

const html = (body: string, extra: Record<string, string> = {}) =>
  new Response(body, { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache", ...extra } });

async function postForm(req: Request, event: string, ctx: SiteContext, tenant: string): Promise<Response> {
  const def = byEvent.get(event);
  if (!def || !formEvents.includes(event)) return refused(req, ctx, problemFor("not_found", { detail: `No form ${event}` }));
  const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    await req.body?.cancel().catch(() => {});
    return refused(req, ctx, problemFor("unsupported_media_type", { detail: "Forms post application/x-www-form-urlencoded" }));
  }
  const bytes = await readBodyBytes(req, FORM_BODY_LIMIT);
  if (!bytes.ok) return refused(req, ctx, bytes.problem);
  const fields = Object.fromEntries(new URLSearchParams(new TextDecoder().decode(bytes.value)));
  // The honeypot: a field people never see. A bot that fills it is told "thanks" and nothing is stored.
  if ((fields.website ?? "") !== "") return formAnswer(req, ctx, 200, "Thanks, we will be in touch.", { event_id: null, replayed: false });
  const id = clientId.safeParse(fields.client_id);
  if (!id.success) return refused(req, ctx, problemFor("validation_failed", { errors: [{ path: "client_id", message: "The form's client id (a UUID set by the page's script) is required" }] }));
  const page = /^\/[a-z0-9/-]{0,200}$/.test(fields.page ?? "") ? fields.page : "/";
  const utm = utmFromCookie(req.headers.get("cookie"));
  const input = def.input.safeParse(eventInput(event, fields, page, utm));
  if (!input.success) return refused(req, ctx, validationProblem(input.error));

  const ip = (req.headers.get("x-forwarded-for") ?? "").split(",")[0].trim() || null;
  const claims = { ...machineClaims("n8n", tenant, "crm"), tenant_id: tenant, portal: "crm" };
  // Per visitor IP (hashed: the rate-limit table holds no address), before the action.
  const ipKey = await sha256Hex(`site:${ip ?? "-"}`);
  try {
    const [take] = await withClaims(sql, claims, (tx) => tx`
      select allowed, retry_after_seconds from app_private.site_form_take(${ipKey})`);
    if (!take.allowed) {
      return refused(req, ctx, problemFor("rate_limited", { detail: "Too many form posts from this address; try again in a minute", retry_after: take.retry_after_seconds }));
    }
  } catch (err) {
    const r = refusalFromDb(err);
    if (r) return refused(req, ctx, r.problem);
    throw err;
  }
  const run = await runAction({ fn: "site", sql, telemetry, log }, def, {
    claims,
    input: input.data,
    parent: parseTraceparent(req.headers.get("traceparent")),
    ip,
    // The client id is the idempotency key: the same form sent twice is one event; the
    // same id with other fields is refused (idempotency_conflict).
    idempotencyKey: `site:${id.data}`,
    fingerprint: await sha256Hex(`site ${event} ${JSON.stringify(input.data)}`),
    nonce: null,
  });
  if (!run.outcome.ok) return refused(req, ctx, run.outcome.problem, { traceparent: run.traceparent });
  const body = run.outcome.value.body as { data?: { event_id?: string } };
  const name = typeof fields.name === "string" && fields.name.trim() ? `, ${fields.name.trim().slice(0, 200)}` : "";
  const roi = event === "roi.calculated" ? (input.data as { data: { result: { monthly_savings_usd: number } } }).data.result : null;
  const message = roi
    ? `Estimated savings: $${roi.monthly_savings_usd.toLocaleString("en-US")} a month.`
    : event === "checkout.started" ? "Thanks: we are preparing your checkout." : `Thanks${name}: we will be in touch within one business day.`;
  return formAnswer(req, ctx, 200, message, { event_id: body.data?.event_id ?? null, replayed: run.outcome.value.replayed, trace_id: run.traceparent.split("-")[1] });
}

function formAnswer(req: Request, ctx: SiteContext, status: number, message: string, extra: Record<string, unknown>): Response {
  if (wantsJson(req)) return Response.json({ message, ...extra }, { status, headers: { "cache-control": "no-store" } });
  return new Response(renderNotice(ctx, "Thank you", message), { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}

async function route(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const path = localPath(url.pathname);
  const asset = path === null ? undefined : ASSETS.get(path);
  if (asset && (req.method === "GET" || req.method === "HEAD")) {
    return new Response(req.method === "HEAD" ? null : asset.body, { headers: { "content-type": asset.type, "cache-control": "public, max-age=300" } });
  }
  const tenant = await siteTenant();
  const pages = await livePages(sql, tenant);
  const ctx = siteContext(pages, baseUrl);
  if (path === null) return refused(req, ctx, problemFor("not_found"));
  if (path.startsWith("/forms/")) {
    if (req.method !== "POST") return refusalResponse(refuse("method_not_allowed", { allow: ["POST"] }).problem);
    return postForm(req, path.slice("/forms/".length), ctx, tenant);
  }
  if (req.method !== "GET" && req.method !== "HEAD") return refusalResponse(refuse("method_not_allowed", { allow: ["GET", "HEAD"] }).problem);
  if (path === "") return new Response(null, { status: 308, headers: { location: "site/" } });
  if (path === "/sitemap.xml") return new Response(sitemap(pages, ctx), { headers: { "content-type": "application/xml; charset=utf-8" } });
  if (path === "/robots.txt") return new Response(robots(ctx), { headers: { "content-type": "text/plain; charset=utf-8" } });
  const page = pages.find((p) => p.path === (path === "/" ? "/" : path.replace(/\/$/, "")));
  if (!page) return refusalResponse(problemFor("site_page_not_found", { detail: "No page at this path" }));
  const utm = utmFromQuery(url.searchParams);
  const secure = url.protocol === "https:" || req.headers.get("x-forwarded-proto") === "https";
  return html(req.method === "HEAD" ? "" : renderPage(page, ctx), utm ? { "set-cookie": utmCookie(utm, secure) } : {});
}

export async function handler(req: Request): Promise<Response> {
  let res: Response;
  try {
    res = await route(req);
  } catch (err) {
    const r = refusalFromDb(err);
    if (!r) log.error({ err: err instanceof Error ? err.message : String(err) }, "site failed");
    res = refusalResponse((r ?? refuse("internal_error")).problem);
  }
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  return new Response(res.body, { status: res.status, headers });
}
