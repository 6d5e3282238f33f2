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
  listening ??= sql.listen("live_feed", (tenantId) => {
    for (const s of subscribers.get(tenantId) ?? []) void pump(s);
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

async function open(req: Request, claims: JwtClaims & { tenant_id: string }): Promise<Response> {
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
