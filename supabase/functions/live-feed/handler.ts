import { loadConfig } from "../../../packages/shared/config/env.ts";
import { db, withClaims } from "../../../packages/shared/db/client.ts";
import { applyCors, corsPolicy, withCors } from "../../../packages/shared/http/cors.ts";
import { refuse } from "../../../packages/shared/http/outcome.ts";
import { refusalResponse } from "../../../packages/shared/http/problems.ts";
import { createLogger } from "../../../packages/shared/observability/logger.ts";
import { createJwtVerifier, type JwtClaims } from "../../../packages/shared/security/jwt.ts";

/**
 * The Live Feed (charter §5, §10): Server-Sent Events of each action's start, prove and
 * finish for the caller's tenant, as they happen. Postgres NOTIFY ('live_feed', one per
 * tenant and statement) wakes the stream, which reads the new rows under the caller's RLS;
 * nothing polls. Reconnecting with Last-Event-ID resumes after that event.
 * EventSource cannot send headers, so the token may also come as ?access_token=.
 */
const config = loadConfig((k) => Deno.env.get(k), ["jwt"]);
const sql = db(config.SUPABASE_DB_URL);
const log = createLogger("live-feed");
const cors = corsPolicy(config.SWITCHYARD_CORS_ORIGINS);
const verifyJwt = createJwtVerifier({ secret: config.SWITCHYARD_JWT_SECRET, jwksUrl: config.SWITCHYARD_JWKS_URL });
const KEEPALIVE_MS = 15_000;
// Ids are taken at insert but committed in any order: re-read this far back and skip ids
// already sent, so a row that commits late is still delivered.
const LATE_WINDOW = 500;

interface Subscriber {
  tenantId: string;
  claims: Record<string, unknown>;
  lastId: number;
  sent: Set<number>;
  send: (chunk: string) => void;
  busy: boolean;
  again: boolean;
}

const subscribers = new Map<string, Set<Subscriber>>();
let listening: Promise<unknown> | null = null;

function ensureListening() {
  listening ??= sql.listen("live_feed", (tenantId) => {
    for (const s of subscribers.get(tenantId) ?? []) void pump(s);
  }).catch((err) => {
    listening = null;
    log.error({ err: String(err) }, "live feed LISTEN failed");
  });
  return listening;
}

function readNew(s: Subscriber): Promise<Record<string, unknown>[]> {
  return withClaims(sql, s.claims, (tx) => tx`
    select id, tenant_id, trace_id, portal, action, phase, ok, principal, detail, created_at
    from public.live_feed where tenant_id = ${s.tenantId} and id > ${Math.max(0, s.lastId - LATE_WINDOW)}
    order by id limit 1000`) as Promise<Record<string, unknown>[]>;
}

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
      for (const row of await readNew(s)) {
        const id = Number(row.id);
        if (s.sent.has(id)) continue;
        s.sent.add(id);
        s.lastId = Math.max(s.lastId, id);
        s.send(`id: ${id}\nevent: ${row.phase}\ndata: ${JSON.stringify(row)}\n\n`);
      }
      for (const id of s.sent) if (id <= s.lastId - LATE_WINDOW) s.sent.delete(id);
    } while (s.again);
  } catch (err) {
    log.error({ err: String(err) }, "live feed read failed");
  } finally {
    s.busy = false;
  }
}

async function open(req: Request, claims: JwtClaims & { tenant_id: string }): Promise<Response> {
  const url = new URL(req.url);
  const dbClaims = { sub: claims.sub, role: "authenticated", tenant_id: claims.tenant_id };
  const [perm] = await withClaims(sql, dbClaims, (tx) => tx`
    select app_private.has_permission(${claims.tenant_id}, 'domain.read') as ok,
           (select coalesce(max(id), 0) from public.live_feed where tenant_id = ${claims.tenant_id}) as max_id`);
  if (!perm.ok) return refusalResponse(refuse("forbidden", { detail: "Reading the Live Feed needs domain.read in the tenant" }).problem);

  const resume = req.headers.get("last-event-id") ?? url.searchParams.get("last_event_id");
  const resumeId = resume !== null && /^\d+$/.test(resume) ? Number(resume) : null;
  await ensureListening();

  let sub: Subscriber;
  let keepalive: ReturnType<typeof setInterval> | undefined;
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      sub = {
        tenantId: claims.tenant_id,
        claims: dbClaims,
        // Without Last-Event-ID: from now on. With it: everything after that event.
        lastId: resumeId ?? Number(perm.max_id),
        sent: new Set(),
        send: (chunk) => controller.enqueue(encoder.encode(chunk)),
        busy: false,
        again: false,
      };
      if (resumeId !== null) for (let id = Math.max(0, resumeId - LATE_WINDOW) + 1; id <= resumeId; id++) sub.sent.add(id);
      else for (let id = Math.max(0, sub.lastId - LATE_WINDOW) + 1; id <= sub.lastId; id++) sub.sent.add(id);
      let set = subscribers.get(sub.tenantId);
      if (!set) subscribers.set(sub.tenantId, set = new Set());
      set.add(sub);
      sub.send(`retry: 2000\n: connected\n\n`);
      keepalive = setInterval(() => sub.send(": keepalive\n\n"), KEEPALIVE_MS);
      void pump(sub);
    },
    cancel() {
      clearInterval(keepalive);
      subscribers.get(sub.tenantId)?.delete(sub);
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
  });
}

export async function handler(req: Request): Promise<Response> {
  const decision = applyCors(req, cors);
  if (decision.kind !== "continue") return decision.response;
  if (req.method !== "GET") return withCors(refusalResponse(refuse("method_not_allowed").problem, { allow: "GET" }), decision.headers);
  const url = new URL(req.url);
  const token = url.searchParams.get("access_token");
  const auth = await verifyJwt(token ? `Bearer ${token}` : req.headers.get("authorization"));
  if (!auth.ok) return withCors(refusalResponse(auth.problem), decision.headers);
  const tenantId = auth.value.tenant_id;
  if (!tenantId) return withCors(refusalResponse(refuse("forbidden", { detail: "The token names no tenant" }).problem), decision.headers);
  try {
    return withCors(await open(req, { ...auth.value, tenant_id: tenantId }), decision.headers);
  } catch (err) {
    log.error({ err: String(err) }, "live feed failed to open");
    return withCors(refusalResponse(refuse("internal_error").problem), decision.headers);
  }
}
