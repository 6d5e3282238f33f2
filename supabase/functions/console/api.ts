import { z } from "zod";
import type { Sql, Tx } from "../../../packages/shared/db/client.ts";
import { readJsonBody } from "../../../packages/shared/http/body.ts";
import { json } from "../../../packages/shared/http/json.ts";
import { type Refusal, refuse } from "../../../packages/shared/http/outcome.ts";
import { refusalResponse, validationProblem } from "../../../packages/shared/http/problems.ts";
import type { Logger } from "../../../packages/shared/observability/logger.ts";
import { formatTraceparent, newTrace, parseTraceparent } from "../../../packages/shared/observability/traceparent.ts";
import { refusalFromDb } from "../../../packages/shared/pipeline/db-errors.ts";
import type { AnyAction } from "../../../packages/shared/pipeline/action.ts";
import { runAction } from "../../../packages/shared/pipeline/run.ts";
import type { Telemetry } from "../../../packages/shared/pipeline/telemetry.ts";
import { type JwtVerifier, sessionClaims } from "../../../packages/shared/security/jwt.ts";
import autonomous from "../../../packages/portals/autonomous/index.ts";
import { portalFn } from "../../../packages/portals/registry.ts";
import type { ReplayResult } from "../../../packages/portals/autonomous/contract.ts";

/**
 * The console's JSON API (/console/api/...). Every request: the caller's JWT verified at the
 * edge, then ONE transaction under the caller's claims (role authenticated +
 * request.jwt.claims), so row-level security and the permission matrix decide what it sees
 * and may change; the edge only checks the same permissions early for clear 403s. Writes are
 * the Autonomous portal's actions, run through runAction like every other door's.
 */

export interface ApiDeps {
  /** Where the project's functions answer (SUPABASE_URL/functions/v1). */
  functionsUrl: string;
  sql: Sql;
  telemetry: Telemetry;
  verifyJwt: JwtVerifier;
  log: Logger;
}

interface Caller {
  claims: string; // request.jwt.claims
  headers: string; // request.headers (traceparent, x-forwarded-for)
  tenantId: string | null;
  traceId: string;
  traceparent: string;
}

interface Principal {
  principal_id: string;
  kind: "human" | "machine";
  name: string;
  tenant_id: string | null;
  roles: string[];
  permissions: string[];
}

/** Thrown inside a transaction to refuse (rolls it back). */
class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.code);
  }
}

const uuid = z.guid();
const TRACE_ID = /^[0-9a-f]{32}$/;
// The writes' inputs are the Autonomous portal's contract; the DLQ routes take {ids}.
const killSwitch = autonomous.contract.actions.kill_switch.input;
const flagWrite = autonomous.contract.actions.flag_set.input;
const dlqIds = z.strictObject({ ids: z.array(uuid).min(1).max(1000) });
const decide = autonomous.contract.actions.approve.input;
const release = autonomous.contract.actions.quarantine_release.input;

function refusalOf(err: unknown): Refusal | null {
  return err instanceof Refused ? err.refusal : refusalFromDb(err);
}

function callerOf(req: Request, claims: { sub: string; tenant_id?: string | null; aal?: string; amr?: unknown[] }): Caller {
  const trace = newTrace();
  const ip = (req.headers.get("x-forwarded-for") ?? "").split(",")[0].trim();
  return {
    claims: JSON.stringify({ sub: claims.sub, role: "authenticated", ...(claims.tenant_id ? { tenant_id: claims.tenant_id } : {}), ...sessionClaims(claims) }),
    headers: JSON.stringify({ traceparent: formatTraceparent(trace), ...(ip ? { "x-forwarded-for": ip } : {}) }),
    tenantId: claims.tenant_id ?? null,
    traceId: trace.traceId,
    traceparent: formatTraceparent(trace),
  };
}

/**
 * Runs `fn` in one transaction as the caller. The claims and the principal lookup are
 * pipelined with whatever `fn` sends before its first await.
 */
function asCaller<T>(sql: Sql, caller: Caller, fn: (tx: Tx, principal: Promise<Principal>) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    // postgres.js sends a query when it is first awaited (.then): the settings go first.
    const setup = tx`select set_config('role', 'authenticated', true),
                            set_config('request.jwt.claims', ${caller.claims}, true),
                            set_config('request.headers', ${caller.headers}, true)`.then(() => {});
    const principal = tx`select principal_id, kind, name, tenant_id, roles, permissions
                         from app_private.current_principal()`.then((rows) => {
      if (rows.length === 0) throw new Refused(refuse("forbidden", { detail: "The token's subject is not an enabled principal" }));
      return rows[0] as unknown as Principal;
    });
    principal.catch(() => {}); // observed by fn; never an unhandled rejection
    await setup;
    return fn(tx, principal);
  }) as Promise<T>;
}

function need(p: Principal, permission: string): void {
  if (!p.permissions.includes(permission)) {
    throw new Refused(refuse("forbidden", { detail: `This needs ${permission}`, permission }));
  }
}

function needTenant(caller: Caller): string {
  if (!caller.tenantId) throw new Refused(refuse("forbidden", { detail: "The token names no tenant (tenant_id claim)" }));
  return caller.tenantId;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

async function me(principal: Promise<Principal>) {
  const p = await principal;
  return { principal: p };
}

async function switchboard(tx: Tx, principal: Promise<Principal>, caller: Caller) {
  const [p, effective, rows, defs, history] = await Promise.all([
    principal,
    // Global effective values (the tenant's own overrides come with its rows below).
    tx`select key, value, value_type, scope from public.flags_effective(null, null)`,
    tx`select key, scope, value, reason, updated_at, updated_by from public.feature_flags_typed order by key, scope`,
    tx`select key, value_type, allowed_values, allowed_scopes, min_value, max_value, default_value, write_permission, description
       from public.flag_definitions order by key`,
    tx`select key, scope, op, old_value, new_value, reason, changed_by, changed_at, trace_id
       from public.feature_flag_history order by changed_at desc limit 25`,
  ]);
  need(p, "flags.read");
  const writable = new Set(p.permissions);
  const global = Object.fromEntries(effective.map((r) => [r.key, r.value]));
  return {
    tenant_id: caller.tenantId,
    emergency_stop: global["autonomy.emergencyStop"] === true,
    mode: global["autonomy.mode"],
    agents_enabled: global["agents.autonomousEnabled"] === true,
    effective,
    rows,
    definitions: defs.map((d) => ({ ...d, writable: writable.has(d.write_permission as string) })),
    history,
    can_stop: p.kind === "human" && writable.has("flags.emergency_stop.write"),
  };
}

async function slo(tx: Tx, principal: Promise<Principal>, url: URL) {
  const minutes = Math.min(1440, Math.max(5, Number(url.searchParams.get("minutes") ?? 60) || 60));
  const [p, tiles, series] = await Promise.all([
    principal,
    // Per portal (function name when no portal): request-based success, minute-based
    // uptime (a minute is down when most of its requests failed with 5xx), p95 upper bound
    // from the histogram, and the error-budget burn rate against the 98% success SLO over
    // the window and over the last 5 minutes (1.0 = spending the budget exactly on pace).
    tx`with per_min as (
         select coalesce(m.portal, m.function_name) as portal, m.minute,
                sum(m.count) as n, sum(m.errors) as e, sum(m.sum_ms) as ms,
                sum(m.le_100) as b100, sum(m.le_250) as b250, sum(m.le_500) as b500, sum(m.le_1000) as b1000,
                sum(m.le_1500) as b1500, sum(m.le_2500) as b2500, sum(m.le_5000) as b5000, sum(m.le_10000) as b10000
         from public.request_metrics m
         where m.minute >= date_trunc('minute', now() - make_interval(mins => ${minutes}))
         group by 1, 2)
       select portal, sum(n)::bigint as requests, sum(e)::bigint as errors,
              round(1 - sum(e) / nullif(sum(n), 0), 5) as success,
              round(count(*) filter (where e * 2 < n)::numeric / nullif(count(*) filter (where n > 0), 0), 5) as uptime,
              round(sum(ms) / nullif(sum(n), 0), 1) as avg_ms,
              case when sum(b100) >= 0.95 * sum(n) then 100 when sum(b250) >= 0.95 * sum(n) then 250
                   when sum(b500) >= 0.95 * sum(n) then 500 when sum(b1000) >= 0.95 * sum(n) then 1000
                   when sum(b1500) >= 0.95 * sum(n) then 1500 when sum(b2500) >= 0.95 * sum(n) then 2500
                   when sum(b5000) >= 0.95 * sum(n) then 5000 when sum(b10000) >= 0.95 * sum(n) then 10000 end as p95_ms,
              round((sum(e) / nullif(sum(n), 0)) / 0.02, 3) as burn,
              round((sum(e) filter (where minute >= date_trunc('minute', now() - interval '5 minutes'))
                     / nullif(sum(n) filter (where minute >= date_trunc('minute', now() - interval '5 minutes')), 0)) / 0.02, 3)
                as burn_5m
       from per_min group by portal order by portal`,
    tx`with per_min as (
         select coalesce(m.portal, m.function_name) as portal, m.minute, sum(m.count) as n, sum(m.errors) as e,
                sum(m.le_100) as b100, sum(m.le_250) as b250, sum(m.le_500) as b500, sum(m.le_1000) as b1000,
                sum(m.le_1500) as b1500, sum(m.le_2500) as b2500, sum(m.le_5000) as b5000, sum(m.le_10000) as b10000
         from public.request_metrics m
         where m.minute >= date_trunc('minute', now() - make_interval(mins => ${minutes}))
         group by 1, 2)
       select portal, minute, n::bigint as requests, e::bigint as errors,
              case when b100 >= 0.95 * n then 100 when b250 >= 0.95 * n then 250 when b500 >= 0.95 * n then 500
                   when b1000 >= 0.95 * n then 1000 when b1500 >= 0.95 * n then 1500 when b2500 >= 0.95 * n then 2500
                   when b5000 >= 0.95 * n then 5000 when b10000 >= 0.95 * n then 10000 end as p95_ms
       from per_min order by portal, minute`,
  ]);
  need(p, "metrics.read");
  // One point per minute of the window (0 requests, no p95 where a minute had none).
  const last = Math.floor(Date.now() / 60_000) * 60;
  const t = Array.from({ length: minutes + 1 }, (_, i) => last - (minutes - i) * 60);
  const byPortal = new Map<string, { t: number[]; requests: number[]; errors: number[]; p95: (number | null)[] }>();
  for (const r of series) {
    let s = byPortal.get(r.portal);
    if (!s) byPortal.set(r.portal, s = { t, requests: t.map(() => 0), errors: t.map(() => 0), p95: t.map(() => null) });
    const i = t.indexOf(Math.floor(new Date(r.minute).getTime() / 1000));
    if (i < 0) continue;
    s.requests[i] = Number(r.requests);
    s.errors[i] = Number(r.errors);
    s.p95[i] = num(r.p95_ms);
  }
  return {
    window_minutes: minutes,
    slo: { uptime: 0.9995, success: 0.98, p95_ms: 2500, portal_p95_ms: 1500 },
    tiles: tiles.map((t) => ({
      portal: t.portal,
      requests: Number(t.requests),
      errors: Number(t.errors),
      success: num(t.success),
      uptime: num(t.uptime),
      avg_ms: num(t.avg_ms),
      p95_ms: num(t.p95_ms),
      burn: num(t.burn),
      burn_5m: num(t.burn_5m),
      series: byPortal.get(t.portal) ?? { t: [], requests: [], errors: [], p95: [] },
    })),
  };
}

async function outbox(tx: Tx, principal: Promise<Principal>) {
  const [p, [now], series] = await Promise.all([
    principal,
    tx`select
         (select count(*) from public.outbox_events where state in ('pending', 'delivering', 'failed'))::int as depth,
         (select count(*) from public.outbox_events where state = 'pending')::int as pending,
         (select count(*) from public.outbox_events where state = 'delivering')::int as delivering,
         (select count(*) from public.outbox_events where state = 'failed')::int as failed,
         (select count(*) from public.dlq_entries where state = 'dead')::int as dead,
         (select count(*) from public.dlq_entries where state = 'parked')::int as parked,
         (select round(extract(epoch from now() - min(created_at)) * 1000)
            from public.outbox_events where state in ('pending', 'delivering', 'failed')) as oldest_undelivered_ms,
         (select round(percentile_cont(0.95) within group (order by extract(epoch from delivered_at - created_at) * 1000)::numeric)
            from public.outbox_events
           where delivered_at >= now() - interval '15 minutes' and created_at >= now() - interval '1 day') as lag_p95_ms`,
    tx`with mins as (
         select generate_series(date_trunc('minute', now() - interval '59 minutes'), date_trunc('minute', now()),
                                interval '1 minute') as minute),
       pub as (
         select date_trunc('minute', created_at) as minute, count(*) as n
         from public.outbox_events where created_at >= now() - interval '60 minutes' group by 1),
       del as (
         select date_trunc('minute', delivered_at) as minute, count(*) as n,
                percentile_cont(0.95) within group (order by extract(epoch from delivered_at - created_at) * 1000) as p95
         from public.outbox_events
         where delivered_at >= now() - interval '60 minutes' and created_at >= now() - interval '1 day' group by 1)
       select mins.minute, coalesce(pub.n, 0)::int as published, coalesce(del.n, 0)::int as delivered,
              round(del.p95::numeric) as lag_p95_ms
       from mins left join pub using (minute) left join del using (minute) order by mins.minute`,
  ]);
  need(p, "outbox.read");
  return {
    depth: now.depth,
    by_state: { pending: now.pending, delivering: now.delivering, failed: now.failed },
    dlq_dead: now.dead,
    dlq_parked: now.parked,
    oldest_undelivered_ms: num(now.oldest_undelivered_ms),
    lag_p95_ms: num(now.lag_p95_ms),
    slo: { lag_p95_ms: 5000 },
    series: {
      t: series.map((r) => Math.floor(new Date(r.minute).getTime() / 1000)),
      published: series.map((r) => r.published),
      delivered: series.map((r) => r.delivered),
      lag_p95_ms: series.map((r) => num(r.lag_p95_ms)),
    },
  };
}

/**
 * Commit-to-ack lag of the caller's own outbox events committed since `since`: what a load
 * run created (k6/portal.js and load/portal.ts judge outbox_lag by it). Delivered events
 * with their lag, the others with their age so far. RLS (outbox.read) keeps it to the
 * caller's tenant and published_by to the caller; at most an hour back, so the scan stays
 * on the newest partitions.
 */
const LAG_EVENTS = 10_000;
const lagSince = z.iso.datetime({ offset: true });

async function outboxLag(tx: Tx, principal: Promise<Principal>, url: URL) {
  const since = lagSince.safeParse(url.searchParams.get("since") ?? "");
  const errors = !since.success ? [{ path: "since", message: "an ISO 8601 timestamp" }]
    : Date.parse(since.data) < Date.now() - 3_600_000 ? [{ path: "since", message: "at most an hour back" }] : [];
  if (errors.length) throw new Refused(refuse("validation_failed", { detail: "?since= names when the run started", errors }));
  const p = await principal;
  need(p, "outbox.read");
  const rows = await tx`
    select round(extract(epoch from coalesce(o.delivered_at, now()) - o.created_at) * 1000)::float8 as ms,
           o.delivered_at is not null as delivered
    from public.outbox_events o
    where o.published_by = ${p.principal_id} and o.created_at >= ${since.data!}::timestamptz
    order by o.created_at limit ${LAG_EVENTS + 1}`;
  const events = rows.slice(0, LAG_EVENTS);
  return {
    since: since.data,
    events: events.length,
    truncated: rows.length > LAG_EVENTS,
    lag_ms: events.filter((r) => r.delivered).map((r) => r.ms as number),
    undelivered_ms: events.filter((r) => !r.delivered).map((r) => r.ms as number),
  };
}

async function dlq(tx: Tx, principal: Promise<Principal>) {
  const [p, entries, requests] = await Promise.all([
    principal,
    tx`select id, tenant_id, event_id, event_type, aggregate_type, aggregate_id, attempts, last_error, payload_bytes,
              trace_id, state, dead_at, replayed_at, replay_request_id
       from public.dlq_entries order by (state in ('dead', 'parked')) desc, dead_at desc limit 100`,
    tx`select id, tenant_id, requested_by_name, dry_run, batch_size, payload_bytes, status, approved_by_name,
              decided_at, outcome, created_at, executed_at, dlq_ids, requested_by
       from public.replay_requests order by created_at desc limit 20`,
  ]);
  need(p, "dlq.read");
  return {
    entries,
    requests: requests.map((r) => ({ ...r, mine: r.requested_by === p.principal_id, requested_by: undefined })),
    can_request: p.permissions.includes("dlq.replay.request"),
    can_approve: p.kind === "human" && p.permissions.includes("dlq.replay.approve"),
  };
}

async function trace(tx: Tx, principal: Promise<Principal>, traceId: string) {
  const [p, spans, audit, events, dead, runs] = await Promise.all([
    principal,
    tx`select span_id, parent_span_id, name, kind, function_name, portal, attributes, start_time, duration_ms, status, status_message
       from public.spans where trace_id = ${traceId} order by start_time, span_id`,
    tx`select occurred_at, action, target_type, target_id, principal_kind, principal_name, reason, span_id, before, after
       from public.audit_log where trace_id = ${traceId} order by occurred_at, chain_seq`,
    tx`select id, event_type, aggregate_type, aggregate_id, state, attempts, created_at, delivered_at, last_error
       from public.outbox_events where trace_id = ${traceId} order by seq`,
    tx`select id, event_id, event_type, state, attempts, last_error, dead_at, replayed_at
       from public.dlq_entries where trace_id = ${traceId} order by dead_at`,
    tx`select portal, action, task_key, created_at, reverted_at, revert_trace_id, cleared_at
       from public.action_runs where trace_id = ${traceId}`,
  ]);
  need(p, "traces.read");
  const has = (perm: string) => p.permissions.includes(perm);
  return {
    trace_id: traceId,
    spans,
    audit,
    outbox: events,
    dlq: dead,
    // A reversible action ran under this trace: the page offers Revert (or Clear revert).
    reversible: runs[0] ?? null,
    // Sections the caller's role cannot read (empty for it by RLS, not because none exist).
    hidden: [!has("audit.read") && "audit", !has("outbox.read") && "outbox", !has("dlq.read") && "dlq"].filter(Boolean),
  };
}

async function feed(tx: Tx, principal: Promise<Principal>, caller: Caller, url: URL) {
  const tenant = needTenant(caller);
  const limit = Math.min(200, Math.max(1, Number(url.searchParams.get("limit") ?? 30) || 30));
  const [p, rows] = await Promise.all([
    principal,
    tx`select id, trace_id, portal, action, phase, ok, principal, detail, created_at
       from public.live_feed where tenant_id = ${tenant} order by id desc limit ${limit}`,
  ]);
  need(p, "domain.read");
  return { rows: rows.reverse() };
}

/**
 * The standby's replication lag (bytes, seconds) against the dr.standby.* thresholds that
 * raise the tick's dr.lag alert. Platform-wide: public.dr_replication_status() refuses any
 * caller without a global metrics.read (a tenant's staff see the panel's 403 note).
 */
async function replication(tx: Tx) {
  const slots = await tx`select * from public.dr_replication_status()`;
  return {
    slots: slots.map((r) => ({
      slot: r.slot, active: r.active, state: r.state, sync_state: r.sync_state,
      lag_bytes: Number(r.lag_bytes), lag_seconds: Number(r.lag_seconds),
      within: r.within,
    })),
    max_lag_bytes: slots.length ? Number(slots[0].max_lag_bytes) : null,
    max_lag_seconds: slots.length ? Number(slots[0].max_lag_seconds) : null,
  };
}

/** Alerts the caller may read (RLS: metrics.read): open ones first, then the last resolved. */
async function alerts(tx: Tx, principal: Promise<Principal>) {
  const [p, rows] = await Promise.all([
    principal,
    tx`select id, tenant_id, source, severity, dedupe_key, summary, trace_id, created_at, resolved_at, notified_at
       from public.alerts order by (resolved_at is null) desc, created_at desc limit 100`,
  ]);
  need(p, "metrics.read");
  return { alerts: rows };
}

/**
 * Quarantines the caller may read (RLS: metrics.read): open ones first, with what each holds
 * parked (a subscription's missed events; outbox.read), then the last released. Events are
 * quarantined in the DLQ: its count is here for the whole picture.
 */
async function quarantine(tx: Tx, principal: Promise<Principal>) {
  const [p, rows, [dlq]] = await Promise.all([
    principal,
    tx`select q.id, q.tenant_id, q.kind, q.subject, s.name as subscription, q.reason, q.quarantined_at, q.quarantined_by,
              q.trace_id, q.released_at, q.released_by_name, q.release_reason, q.release_detail,
              app_private.quarantine_parked(q.id) as parked
       from public.quarantines q
       left join public.outbox_subscriptions s on q.kind = 'subscription' and s.id::text = q.subject
       order by (q.released_at is null) desc, coalesce(q.released_at, q.quarantined_at) desc limit 100`,
    tx`select count(*)::int as dead from public.dlq_entries where state = 'dead'`,
  ]);
  need(p, "metrics.read");
  return {
    quarantines: rows.map((r) => ({ ...r, parked: num(r.parked) })),
    events_in_dlq: dlq.dead,
    can_release: p.kind === "human" && p.permissions.includes("quarantine.release"),
  };
}

// ---------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------

type Route = (ctx: { req: Request; url: URL; caller: Caller; tx: Tx; principal: Promise<Principal> }) => Promise<unknown>;

/** A read: one transaction under the caller's claims. */
interface ReadRoute {
  method: "GET";
  run: Route;
}

/**
 * A write: an action of the Autonomous portal through runAction (the one write path: rails,
 * audit, outbox, Live Feed, prove), its input from the body and its answer shaped for the page.
 */
interface WriteRoute {
  method: "POST";
  schema: z.ZodType;
  action: AnyAction;
  input: (body: any) => unknown;
  answer: (data: any) => Record<string, unknown>;
}
/**
 * A write of another portal (reverting an action by its trace): forwarded to that portal's
 * function with the caller's own token, so it runs through that portal's runAction; the
 * console carries no other portal's code.
 */
interface ForwardRoute {
  method: "POST";
  forward: true;
  schema: z.ZodType;
}
type RouteDef = ReadRoute | WriteRoute | ForwardRoute;

const replayAnswer = (r: ReplayResult) => ({ request: { id: r.request_id, ...r } });
const actions = Object.fromEntries(autonomous.actions.map((a) => [a.name, a]));

const ROUTES: Record<string, RouteDef> = {
  "/me": { method: "GET", run: ({ principal }) => me(principal) },
  "/switchboard": { method: "GET", run: ({ tx, principal, caller }) => switchboard(tx, principal, caller) },
  "/slo": { method: "GET", run: ({ tx, principal, url }) => slo(tx, principal, url) },
  "/outbox": { method: "GET", run: ({ tx, principal }) => outbox(tx, principal) },
  "/outbox/lag": { method: "GET", run: ({ tx, principal, url }) => outboxLag(tx, principal, url) },
  "/dlq": { method: "GET", run: ({ tx, principal }) => dlq(tx, principal) },
  "/feed": { method: "GET", run: ({ tx, principal, caller, url }) => feed(tx, principal, caller, url) },
  "/alerts": { method: "GET", run: ({ tx, principal }) => alerts(tx, principal) },
  "/replication": { method: "GET", run: ({ tx }) => replication(tx) },
  "/quarantine": { method: "GET", run: ({ tx, principal }) => quarantine(tx, principal) },
  "/quarantine/release": { method: "POST", schema: release, action: actions.quarantine_release, input: (b) => b, answer: (d) => ({ quarantine: d }) },
  "/kill-switch": { method: "POST", schema: killSwitch, action: actions.kill_switch, input: (b) => b, answer: (d) => d },
  "/flags": { method: "POST", schema: flagWrite, action: actions.flag_set, input: (b) => b, answer: (d) => d },
  "/dlq/dry-run": { method: "POST", schema: dlqIds, action: actions.replay, input: (b) => ({ dlq_ids: b.ids, dry_run: true }), answer: replayAnswer },
  "/dlq/replay": { method: "POST", schema: dlqIds, action: actions.replay, input: (b) => ({ dlq_ids: b.ids, dry_run: false }), answer: replayAnswer },
  "/revert": { method: "POST", forward: true, schema: z.strictObject({ trace_id: z.string().regex(TRACE_ID, "32 lowercase hex digits"), clear: z.boolean().default(false) }) },
  "/dlq/decide": { method: "POST", schema: decide, action: actions.approve, input: (b) => b, answer: (d) => ({ request: { id: d.request_id, ...d } }) },
};

const NO_STORE = { "cache-control": "no-store" };

/** Handles /api/<path> (path without the /api prefix). */
export async function handleApi(deps: ApiDeps, req: Request, path: string): Promise<Response> {
  const url = new URL(req.url);
  let def = ROUTES[path];
  let traceId: string | null = null;
  if (!def && path.startsWith("/trace/")) {
    traceId = path.slice("/trace/".length);
    def = { method: "GET", run: ({ tx, principal }) => trace(tx, principal, traceId!) };
  }
  if (!def) return refusalResponse(refuse("not_found", { detail: `No console API route ${path}` }).problem, NO_STORE);
  if (req.method !== def.method) {
    return refusalResponse(refuse("method_not_allowed", { allow: [def.method] }).problem, NO_STORE);
  }

  // Authentication first: nothing about the data is said to an unauthenticated caller.
  const auth = await deps.verifyJwt(req.headers.get("authorization"));
  if (!auth.ok) return refusalResponse(auth.problem, NO_STORE);
  const sub: string | undefined = auth.value.sub;
  if (!sub) return refusalResponse(refuse("invalid_jwt", { detail: "The token names no subject (sub)" }).problem, NO_STORE);
  if (traceId !== null && !TRACE_ID.test(traceId)) {
    return refusalResponse(refuse("validation_failed", { detail: "A trace id is 32 lowercase hex digits", errors: [{ path: "trace_id", message: "32 lowercase hex digits" }] }).problem, NO_STORE);
  }

  const caller = callerOf(req, { ...auth.value, sub, tenant_id: auth.value.tenant_id });
  const headers = { ...NO_STORE, traceparent: caller.traceparent };
  if (def.method === "POST" && "forward" in def) return forward(deps, req, def, headers);
  if (def.method === "POST") return write(deps, req, def, caller, auth.value, headers);
  try {
    const out = await asCaller(deps.sql, caller, (tx, principal) => def.run({ req, url, caller, tx, principal }));
    return json(out, 200, headers);
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) return refusalResponse(refusal.problem, headers);
    deps.log.error({ err: err instanceof Error ? err.message : String(err), path, trace_id: caller.traceId }, "console api failed");
    return refusalResponse(refuse("internal_error", { trace_id: caller.traceId }).problem, headers);
  }
}

async function write(deps: ApiDeps, req: Request, def: WriteRoute, caller: Caller, claims: Record<string, any>, headers: Record<string, string>): Promise<Response> {
  const read = await readJsonBody(req, 64 * 1024);
  if (!read.ok) return refusalResponse(read.problem, headers);
  const parsed = def.schema.safeParse(read.value.json);
  if (!parsed.success) return refusalResponse(validationProblem(parsed.error), headers);
  if (!caller.tenantId) return refusalResponse(refuse("forbidden", { detail: "The token names no tenant (tenant_id claim)" }).problem, headers);
  const input = def.action.input.safeParse(def.input(parsed.data));
  if (!input.success) return refusalResponse(validationProblem(input.error), headers);
  const run = await runAction({ fn: "console", sql: deps.sql, telemetry: deps.telemetry, log: deps.log }, def.action, {
    claims: {
      sub: claims.sub, role: "authenticated", tenant_id: caller.tenantId, portal: def.action.portal,
      principal_kind: claims.principal_kind === "machine" ? "machine" : "human", principal_name: claims.principal_name,
      ...sessionClaims(claims),
    },
    input: input.data,
    parent: parseTraceparent(caller.traceparent),
    ip: (req.headers.get("x-forwarded-for") ?? "").split(",")[0].trim() || null,
    idempotencyKey: null, fingerprint: null, nonce: null,
  });
  const out = { ...headers, traceparent: run.traceparent };
  if (!run.outcome.ok) return refusalResponse(run.outcome.problem, out);
  const body = run.outcome.value.body as { data: unknown; trace_id: string };
  return json({ ...def.answer(body.data), trace_id: body.trace_id }, 200, out);
}

async function forward(deps: ApiDeps, req: Request, def: ForwardRoute, headers: Record<string, string>): Promise<Response> {
  const read = await readJsonBody(req, 4 * 1024);
  if (!read.ok) return refusalResponse(read.problem, headers);
  const parsed = def.schema.safeParse(read.value.json);
  if (!parsed.success) return refusalResponse(validationProblem(parsed.error), headers);
  const { trace_id, clear } = parsed.data as { trace_id: string; clear: boolean };
  // Which portal ran it (trusted lookup of routing only; the portal's action authorizes).
  const [run] = await deps.sql`select portal from public.action_runs where trace_id = ${trace_id}`;
  const fn = run ? portalFn(run.portal) : undefined;
  if (!fn) return refusalResponse(refuse("not_found", { detail: `No reversible action ran under trace ${trace_id}` }).problem, headers);
  const res = await fetch(`${deps.functionsUrl}/${fn}/${clear ? "revert_clear" : "revert"}`, {
    method: "POST",
    headers: { authorization: req.headers.get("authorization") ?? "", "content-type": "application/json", traceparent: headers.traceparent },
    body: JSON.stringify({ trace_id }),
  });
  const out: Record<string, string> = { ...headers, "content-type": res.headers.get("content-type") ?? "application/json" };
  const tp = res.headers.get("traceparent");
  if (tp) out.traceparent = tp;
  return new Response(res.body, { status: res.status, headers: out });
}
