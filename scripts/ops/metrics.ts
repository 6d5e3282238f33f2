/**
 * The figures operators and the post-deploy gate look at, read straight from Postgres:
 * flags, queue depth, outbox lag, DLQ size and SLOs. One query each.
 */
import type { Queryable } from "./db.ts";

/** Charter §10 "confirm 4 activation flags": the values the switchboard SQL sets (§3). */
export const EXPECTED_ACTIVATION: Record<string, boolean | string> = {
  "autonomy.emergencyStop": false,
  "autonomy.mode": "FULL",
  "agents.autonomousEnabled": true,
  "obs.otelEnabled": true,
};
export const ACTIVATION_FLAGS = Object.keys(EXPECTED_ACTIVATION);

/**
 * What the figures cover: the last `interval`, or everything since `since` (a deploy).
 * Without `since`, the oldest undelivered event is looked for in the whole outbox; with
 * it, only events committed since then count (the gate judges what the deploy produced).
 */
export interface Window {
  interval: string;
  since?: Date;
}

export type FlagValue = boolean | number | string;
export interface EffectiveFlag {
  value: FlagValue;
  scope: string; // the row that won, or "default"
  type: string;
}

/** Every flag's effective global value (typed), one round trip. */
export async function readFlags(sql: Queryable): Promise<Record<string, EffectiveFlag>> {
  const rows = await sql`select key, value, value_type, scope from public.flags_effective()`;
  return Object.fromEntries(rows.map((r) => [r.key as string, { value: r.value as FlagValue, scope: r.scope as string, type: r.value_type as string }]));
}

export interface QueueDepth {
  pending: number;
  delivering: number;
  failed: number;
}

export async function queueDepth(sql: Queryable): Promise<QueueDepth> {
  const [r] = await sql`
    select count(*) filter (where state = 'pending')::int as pending,
           count(*) filter (where state = 'delivering')::int as delivering,
           count(*) filter (where state = 'failed')::int as failed
    from public.outbox_events where state in ('pending', 'delivering', 'failed')`;
  return { pending: r.pending, delivering: r.delivering, failed: r.failed };
}

/** The window's start as a SQL fragment. */
export const windowStart = (sql: Queryable, w: Window) =>
  w.since ? sql`${w.since.toISOString()}::timestamptz` : sql`now() - ${w.interval}::interval`;

export interface OutboxLag {
  oldestUndeliveredSeconds: number | null;
  oldestUndeliveredTraceId: string | null;
  p95Ms: number | null; // commit -> delivered, events delivered in the window
  delivered: number;
}

export async function outboxLag(sql: Queryable, w: Window): Promise<OutboxLag> {
  const since = w.since ? sql`and created_at >= ${w.since.toISOString()}::timestamptz` : sql``;
  const [oldest] = await sql`
    select extract(epoch from now() - created_at)::float8 as age, trace_id
    from public.outbox_events
    where state in ('pending', 'delivering', 'failed') ${since}
    order by created_at limit 1`;
  const [p] = await sql`
    select percentile_cont(0.95) within group (order by extract(epoch from delivered_at - created_at) * 1000)::float8 as p95,
           count(*)::int as n
    from public.outbox_events
    where state = 'delivered' and delivered_at >= ${windowStart(sql, w)} ${since}`;
  return {
    oldestUndeliveredSeconds: oldest ? oldest.age : null,
    oldestUndeliveredTraceId: oldest?.trace_id ?? null,
    p95Ms: p.p95 === null ? null : Math.round(p.p95),
    delivered: p.n,
  };
}

export interface DlqSize {
  dead: number; // waiting for a replay decision
  parked: number; // kept for a subscription whose receiver answered 410 Gone (replayable once re-enabled)
  newInWindow: number;
}

export async function dlqSize(sql: Queryable, w: Window): Promise<DlqSize> {
  const [r] = await sql`
    select count(*) filter (where state = 'dead')::int as dead,
           count(*) filter (where state = 'parked')::int as parked,
           count(*) filter (where dead_at >= ${windowStart(sql, w)})::int as fresh
    from public.dlq_entries`;
  return { dead: r.dead, parked: r.parked, newInWindow: r.fresh };
}

export interface DlqEntry {
  id: string;
  tenant: string;
  eventType: string | null;
  attempts: number;
  lastError: string | null;
  traceId: string | null;
  deadAt: Date;
}

/**
 * The newest DLQ entries that died in the window (attempts exhausted), and how many were parked
 * in it instead (a receiver answered 410 Gone: the tenant switched its endpoint off, which is
 * not a delivery failure; the events wait for it, visible and replayable).
 */
export async function newDlqEntries(sql: Queryable, w: Window, limit = 20): Promise<{ dead: DlqEntry[]; parked: number }> {
  const since = windowStart(sql, w);
  const [rows, [{ parked }]] = await Promise.all([
    sql`select d.id, t.slug, d.event_type, d.attempts, d.last_error, d.trace_id, d.dead_at
        from public.dlq_entries d join public.tenants t on t.id = d.tenant_id
        where d.dead_at >= ${since} and d.parked_for is null
        order by d.dead_at desc limit ${limit}`,
    sql`select count(*)::int as parked from public.dlq_entries where dead_at >= ${since} and parked_for is not null`,
  ]);
  return {
    dead: rows.map((r) => ({
      id: r.id, tenant: r.slug, eventType: r.event_type, attempts: r.attempts, lastError: r.last_error, traceId: r.trace_id, deadAt: r.dead_at,
    })),
    parked,
  };
}

export interface SloRow {
  function: string;
  portal: string | null;
  requests: number;
  errors: number;
  successRatio: number | null;
  shareLe2500: number | null;
  p95UpperMs: number | null; // null: above 10 s
}

/**
 * public.slo_summary over the window. With `since`, whole minutes starting at or after it
 * (request_metrics has minute buckets, and the minute of the deploy mixes old and new).
 */
export async function slo(sql: Queryable, w: Window): Promise<SloRow[]> {
  const span = w.since
    ? sql`now() - date_trunc('minute', ${w.since.toISOString()}::timestamptz + interval '59.999999 seconds')`
    : sql`${w.interval}::interval`;
  const rows = await sql`
    select function_name, portal, requests::int, errors::int, success_ratio::float8, share_le_2500::float8, p95_upper_ms
    from public.slo_summary(${span})`;
  return rows.map((r) => ({
    function: r.function_name,
    portal: r.portal,
    requests: r.requests,
    errors: r.errors,
    successRatio: r.success_ratio,
    shareLe2500: r.share_le_2500,
    p95UpperMs: r.p95_upper_ms,
  }));
}
