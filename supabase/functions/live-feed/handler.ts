import { loadConfig } from "../../../packages/shared/config/env.ts";
import { db, withClaims } from "../../../packages/shared/db/client.ts";
import { applyCors, corsPolicy, withCors, withOwnOrigin } from "../../../packages/shared/http/cors.ts";
import { refuse } from "../../../packages/shared/http/outcome.ts";
import { refusalResponse } from "../../../packages/shared/http/problems.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { createJwtVerifier, type JwtClaims } from "../../../packages/shared/security/jwt.ts";

/**
 * The Live Feed (charter §5, §10): Server-Sent Events of each action's start, prove and
 * finish for the caller's tenant, as they happen. Postgres NOTIFY ('live_feed', one per
 * tenant and statement) wakes the stream, which reads the new rows under the caller's RLS;
 * nothing polls. Reconnecting with Last-Event-ID resumes after that event.
 * EventSource cannot send headers, and a token in a URL lands in access logs: a browser
 * first POSTs live-feed/ticket with its JWT and opens the stream with ?ticket= (one use,
 * 60 s, bound to the principal and tenant). `?access_token=` is refused. A stream ends when
 * the token it was opened with expires; the client reconnects with a fresh ticket.
 */
const config = loadConfig((k) => Deno.env.get(k), ["jwt"]);
const sql = db(config.SUPABASE_DB_URL);
const log = createLogger("live-feed");
const cors = corsPolicy(config.SWITCHYARD_CORS_ORIGINS);

const verifyJwt = createJwtVerifier({ secret: config.SWITCHYARD_JWT_SECRET, jwksUrl: config.SWITCHYARD_JWKS_URL });
const KEEPALIVE_MS = 15_000;
// Hosted Edge Functions have a wall-clock limit (150 s on the free plan): a stream ends by
// itself before it (`event: reconnect`), and the client resumes with Last-Event-ID (no gap:
// the resume re-reads from that id). A client may ask for less with ?max_seconds=.
const MAX_STREAM_MS = config.LIVE_FEED_MAX_STREAM_MS ?? 120_000;
// LISTEN needs a session connection: Supavisor's transaction mode (port 6543) cannot hold
// one, so the listener uses session mode (5432) of the same pooler, or LIVE_FEED_LISTEN_DB_URL.
const listenSql = db(config.LIVE_FEED_LISTEN_DB_URL ?? sessionModeUrl(config.SUPABASE_DB_URL));

function sessionModeUrl(url: string): string {
  const u = new URL(url);
  if (u.port === "6543" && u.hostname.endsWith(".pooler.supabase.com")) u.port = "5432";
  return u.toString();
}
// Ids are taken at insert but committed in any order: re-read this far back and skip ids
// already sent, so a row that commits late is still delivered.
const LATE_WINDOW = 500;

/** The largest bigserial (live_feed.id): a Last-Event-ID beyond it names no event. */
const MAX_ID = 9223372036854775807n;

/**
 * Last-Event-ID (or ?last_event_id=) as the bigint it is: null when absent, "bad" when it is
 * not a decimal id of the bigserial range. Never a Number: above 2^53 `id + 1 === id`.
 */
export function parseEventId(raw: string | null): bigint | null | "bad" {
  if (raw === null || raw.trim() === "") return null;
  if (!/^\d{1,19}$/.test(raw.trim())) return "bad";
  const id = BigInt(raw.trim());
  return id <= MAX_ID ? id : "bad";
}

interface Subscriber {
  tenantId: string;
  claims: Record<string, unknown>;
  lastId: bigint;
  /** Every id up to here counts as sent (the resume point, or the newest id at open). */
  floor: bigint;
  /** Ids above the floor sent already (at most the late window's rows). */
  sent: Set<bigint>;
  send: (chunk: string) => void;
  busy: boolean;
  again: boolean;
}

const subscribers = new Map<string, Set<Subscriber>>();
let listening: Promise<unknown> | null = null;

function ensureListening() {
  listening ??= listenSql.listen("live_feed", (tenantId) => {
    for (const s of subscribers.get(tenantId) ?? []) void pump(s).catch(pumpFailed);
  }).catch((err) => {
    listening = null;
    log.error({ err: String(err) }, "live feed LISTEN failed");
  });
  return listening;
}

function readNew(s: Subscriber): Promise<Record<string, unknown>[]> {
  const window = s.lastId - BigInt(LATE_WINDOW);
  const from = window > s.floor ? window : s.floor;
  return withClaims(sql, s.claims, (tx) => tx`
    select id, tenant_id, trace_id, portal, action, phase, ok, principal, detail, created_at
    from public.live_feed where tenant_id = ${s.tenantId} and id > ${String(from)}::bigint
    order by id limit 1000`) as Promise<Record<string, unknown>[]>;
}

const pumpFailed = (err: unknown) => log.error({ err: String(err) }, "live feed pump failed");

/** Sends every row not sent yet; coalesces wake-ups that arrive while reading. */
async function pump(s: Subscriber): Promise<void> {
  if (s.busy) {
    s.again = true;
    return;
  }
  s.busy = true;
  try {
    do {
      s.again = false;
      // Bounded by rows (at most 1000 read, the sent set at most the late window's), never
      // by counting ids.
      for (const row of await readNew(s)) {
        const id = BigInt(row.id as string);
        if (id <= s.floor || s.sent.has(id)) continue;
        s.sent.add(id);
        if (id > s.lastId) s.lastId = id;
        s.send(`id: ${id}\nevent: ${row.phase}\ndata: ${JSON.stringify(row)}\n\n`);
      }
      const window = s.lastId - BigInt(LATE_WINDOW);
      for (const id of s.sent) if (id <= window) s.sent.delete(id);
    } while (s.again);
  } catch (err) {
    log.error({ err: String(err) }, "live feed read failed");
  } finally {
    s.busy = false;
  }
}

async function open(req: Request, claims: Pick<JwtClaims, "sub"> & { tenant_id: string }, expiresAt: number): Promise<Response> {
  const asked = Number(new URL(req.url).searchParams.get("max_seconds"));
  const cutAt = Date.now() + (asked > 0 ? Math.min(asked * 1000, MAX_STREAM_MS) : MAX_STREAM_MS);
  const endsAt = Math.min(expiresAt, cutAt);
  const url = new URL(req.url);
  const dbClaims = { sub: claims.sub, role: "authenticated", tenant_id: claims.tenant_id };
  const [perm] = await withClaims(sql, dbClaims, (tx) => tx`
    select app_private.has_permission(${claims.tenant_id}, 'domain.read') as ok,
           (select coalesce(max(id), 0)::text from public.live_feed where tenant_id = ${claims.tenant_id}) as max_id`);
  if (!perm.ok) return refusalResponse(refuse("forbidden", { detail: "Reading the Live Feed needs domain.read in the tenant" }).problem);

  const resumeId = parseEventId(req.headers.get("last-event-id") ?? url.searchParams.get("last_event_id"));
  if (resumeId === "bad") {
    return refusalResponse(refuse("validation_failed", {
      errors: [{ path: "last_event_id", message: `A Live Feed event id: a whole number from 0 to ${MAX_ID}` }],
    }).problem);
  }
  await ensureListening();

  let sub: Subscriber;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  let expiry: ReturnType<typeof setTimeout> | undefined;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      sub = {
        tenantId: claims.tenant_id,
        claims: dbClaims,
        // Without Last-Event-ID: from now on. With it: everything after that event.
        lastId: resumeId ?? BigInt(perm.max_id),
        floor: resumeId ?? BigInt(perm.max_id),
        sent: new Set(),
        send: (chunk) => controller.enqueue(encoder.encode(chunk)),
        busy: false,
        again: false,
      };
      let set = subscribers.get(sub.tenantId);
      if (!set) subscribers.set(sub.tenantId, set = new Set());
      set.add(sub);
      sub.send(`retry: 2000\n: connected\n\n`);
      keepalive = setInterval(() => sub.send(": keepalive\n\n"), KEEPALIVE_MS);
      // The token's expiry ends the stream: nothing is delivered on an expired credential.
      expiry = setTimeout(() => {
        clearInterval(keepalive);
        subscribers.get(sub.tenantId)?.delete(sub);
        try {
          sub.send(endsAt === expiresAt
            ? `event: expired\ndata: {"reason":"token_expired"}\n\n`
            : `retry: 500\nevent: reconnect\ndata: {"reason":"max_duration","last_event_id":${sub.lastId}}\n\n`);
          controller.close();
        } catch { /* already closed */ }
      }, Math.max(0, endsAt - Date.now()));
      void pump(sub).catch(pumpFailed);
    },
    cancel() {
      clearInterval(keepalive);
      clearTimeout(expiry);
      subscribers.get(sub.tenantId)?.delete(sub);
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}

/** Whom a stream or a ticket request is for: a verified JWT, or a spent stream ticket. */
type Caller = { ok: true; sub: string; tenantId: string; endsAt: number; exp?: number } | { ok: false; response: Response };

async function fromJwt(authorization: string | null): Promise<Caller> {
  const auth = await verifyJwt(authorization);
  if (!auth.ok) return { ok: false, response: refusalResponse(auth.problem) };
  const tenantId = auth.value.tenant_id;
  if (!tenantId) return { ok: false, response: refusalResponse(refuse("forbidden", { detail: "The token names no tenant" }).problem) };
  const exp = typeof auth.value.exp === "number" ? auth.value.exp : undefined;
  return { ok: true, sub: auth.value.sub, tenantId, exp, endsAt: exp ? exp * 1000 : Date.now() + 60_000 };
}

async function fromTicket(ticket: string): Promise<Caller> {
  const rows = await sql.begin(async (tx) => {
    await tx`select set_config('role', 'service_role', true)`;
    return tx`select principal_id, tenant_id, session_expires_at from app_private.stream_ticket_redeem(${ticket})`;
  });
  const t = rows[0];
  if (!t) {
    return { ok: false, response: refusalResponse(refuse("invalid_jwt", { detail: "The stream ticket is unknown, used or expired: POST live-feed/ticket for a new one" }).problem) };
  }
  return { ok: true, sub: String(t.principal_id), tenantId: String(t.tenant_id), endsAt: new Date(t.session_expires_at as string).getTime() };
}

/** POST live-feed/ticket (Authorization: Bearer <JWT>): an opaque single-use ticket, valid 60 s. */
async function issueTicket(req: Request): Promise<Response> {
  const caller = await fromJwt(req.headers.get("authorization"));
  if (!caller.ok) return caller.response;
  const claims = { sub: caller.sub, role: "authenticated", tenant_id: caller.tenantId, exp: caller.exp };
  const [perm] = await withClaims(sql, claims, (tx) => tx`select app_private.has_permission(${caller.tenantId}, 'domain.read') as ok`);
  if (!perm.ok) return refusalResponse(refuse("forbidden", { detail: "Reading the Live Feed needs domain.read in the tenant" }).problem);
  const [t] = await withClaims(sql, claims, (tx) => tx`select ticket, expires_at from app_private.stream_ticket_issue()`);
  return new Response(JSON.stringify({ ticket: t.ticket, expires_at: t.expires_at, expires_in: 60 }), {
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

export async function handler(req: Request): Promise<Response> {
  const decision = applyCors(req, withOwnOrigin(req, cors));
  if (decision.kind !== "continue") return decision.response;
  const url = new URL(req.url);
  try {
    if (url.pathname.replace(/\/+$/, "").endsWith("/ticket")) {
      if (req.method !== "POST") return withCors(refusalResponse(refuse("method_not_allowed").problem, { allow: "POST" }), decision.headers);
      return withCors(await issueTicket(req), decision.headers);
    }
    if (req.method !== "GET") return withCors(refusalResponse(refuse("method_not_allowed").problem, { allow: "GET" }), decision.headers);
    if (url.searchParams.has("access_token")) {
      return withCors(refusalResponse(refuse("invalid_jwt", { detail: "Tokens in URLs are refused: POST live-feed/ticket and open the stream with ?ticket=" }).problem), decision.headers);
    }
    const ticket = url.searchParams.get("ticket");
    const caller = ticket !== null ? await fromTicket(ticket) : await fromJwt(req.headers.get("authorization"));
    if (!caller.ok) return withCors(caller.response, decision.headers);
    return withCors(await open(req, { sub: caller.sub, tenant_id: caller.tenantId }, caller.endsAt), decision.headers);
  } catch (err) {
    log.error({ err: String(err) }, "live feed failed to open");
    return withCors(refusalResponse(refuse("internal_error").problem), decision.headers);
  }
}
