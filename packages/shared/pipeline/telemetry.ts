import { jsonb, type Sql } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import { createTracer, type SpanRow } from "../observability/tracing.ts";

/** One request, for the SLO tables (request_metrics: per function, portal, tenant, minute). */
export interface RequestSample {
  fn: string;
  portal: string | null;
  tenantId: string | null;
  ms: number;
  error: boolean;
}

const BUCKETS = [100, 250, 500, 1000, 1500, 2500, 5000, 10000] as const;

interface MetricsRow {
  fn: string;
  portal: string | null;
  tenantId: string | null;
  minute: string;
  count: number;
  errors: number;
  sum: number;
  max: number;
  le: number[];
}

/** Minutes x functions x portals x tenants kept while flushes fail; beyond it the oldest go (logged). */
export const METRICS_MAX_ROWS = 10_000;

/**
 * Request metrics are summed in memory and flushed every second as one upsert, so a
 * request costs no extra round trip on its path. A flush that fails puts its rows back
 * (issue 12 item 10: they were cleared first, so a failed flush lost them), to go with the
 * next one. Flushes run one at a time.
 */
export class MetricsBuffer {
  private rows = new Map<string, MetricsRow>();
  private chain: Promise<void> = Promise.resolve();
  private outstanding = 0;
  constructor(private readonly sql: Sql, private readonly log: Logger) {}

  add(s: RequestSample): void {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    // Keyed as Postgres keys the row (uuid): two spellings of one tenant in one batch made the
    // upsert fail whole ("ON CONFLICT DO UPDATE command cannot affect row a second time").
    const tenantId = s.tenantId?.toLowerCase() ?? null;
    const r = this.row({ fn: s.fn, portal: s.portal, tenantId, minute });
    r.count++;
    r.errors += s.error ? 1 : 0;
    r.sum += s.ms;
    r.max = Math.max(r.max, s.ms);
    BUCKETS.forEach((b, i) => (r.le[i] += s.ms <= b ? 1 : 0));
  }

  private row(k: Pick<MetricsRow, "fn" | "portal" | "tenantId" | "minute">): MetricsRow {
    const key = `${k.fn}|${k.portal}|${k.tenantId}|${k.minute}`;
    let r = this.rows.get(key);
    if (!r) this.rows.set(key, r = { ...k, count: 0, errors: 0, sum: 0, max: 0, le: BUCKETS.map(() => 0) });
    return r;
  }

  /** Puts a failed flush's rows back, merged with what arrived meanwhile. */
  private restore(rows: MetricsRow[]): void {
    for (const f of rows) {
      const r = this.row(f);
      r.count += f.count;
      r.errors += f.errors;
      r.sum += f.sum;
      r.max = Math.max(r.max, f.max);
      f.le.forEach((n, i) => (r.le[i] += n));
    }
    let over = this.rows.size - METRICS_MAX_ROWS;
    if (over <= 0) return;
    let dropped = 0;
    for (const [key, r] of [...this.rows].sort(([, a], [, b]) => a.minute.localeCompare(b.minute))) {
      if (over-- <= 0) break;
      dropped += r.count;
      this.rows.delete(key);
    }
    this.log.error({ dropped_requests: dropped }, "request metrics dropped: flushes kept failing");
  }

  /** A flush is running or waiting (the timer skips its turn: no pile-up while the database is away). */
  get busy(): boolean {
    return this.outstanding > 0;
  }

  /** Writes what is buffered when its turn comes (after any flush in progress). */
  flush(): Promise<void> {
    this.outstanding++;
    const run = this.chain.then(() => this.write()).finally(() => this.outstanding--);
    this.chain = run.catch(() => {}); // the caller has `run`; the next flush goes on regardless
    return run;
  }

  private async write(): Promise<void> {
    if (this.rows.size === 0) return;
    const rows = [...this.rows.values()];
    this.rows = new Map();
    const data = rows.map((r) => ({
      function_name: r.fn, portal: r.portal, tenant_id: r.tenantId, minute: r.minute, count: r.count,
      errors: r.errors, sum_ms: r.sum, max_ms: r.max,
      ...Object.fromEntries(BUCKETS.map((b, i) => [`le_${b}`, r.le[i]])),
    }));
    try {
      await this.sql`
        insert into public.request_metrics as m (function_name, portal, tenant_id, minute, count, errors, sum_ms, max_ms,
          le_100, le_250, le_500, le_1000, le_1500, le_2500, le_5000, le_10000)
        select * from jsonb_to_recordset(${jsonb(this.sql, data)}::jsonb) as x(function_name text, portal text, tenant_id uuid,
          minute timestamptz, count bigint, errors bigint, sum_ms numeric, max_ms numeric, le_100 bigint, le_250 bigint,
          le_500 bigint, le_1000 bigint, le_1500 bigint, le_2500 bigint, le_5000 bigint, le_10000 bigint)
        on conflict on constraint request_metrics_key do update set
          count = m.count + excluded.count, errors = m.errors + excluded.errors, sum_ms = m.sum_ms + excluded.sum_ms,
          max_ms = greatest(m.max_ms, excluded.max_ms), le_100 = m.le_100 + excluded.le_100,
          le_250 = m.le_250 + excluded.le_250, le_500 = m.le_500 + excluded.le_500,
          le_1000 = m.le_1000 + excluded.le_1000, le_1500 = m.le_1500 + excluded.le_1500,
          le_2500 = m.le_2500 + excluded.le_2500, le_5000 = m.le_5000 + excluded.le_5000,
          le_10000 = m.le_10000 + excluded.le_10000`;
    } catch (err) {
      // Kept for the next flush. Should the commit have happened and only its answer been lost
      // (the connection dropped in between), these requests count twice: rarer and smaller than
      // losing every failed flush.
      this.restore(rows);
      this.log.error({ err: String(err), requests: rows.reduce((n, r) => n + r.count, 0) }, "request metrics flush failed; kept for the next");
    }
  }
}

/** Writes span rows in one multi-row insert (the function's own trusted session). */
export function spanSink(sql: Sql, service: string, log: Logger) {
  return async (rows: SpanRow[]): Promise<void> => {
    if (rows.length === 0) return;
    const data = rows.map((r) => ({ ...r, function_name: service, portal: (r.attributes["portal"] as string) ?? null }));
    try {
      await sql`
        insert into public.spans (trace_id, span_id, parent_span_id, tenant_id, name, kind, function_name, portal,
                                  attributes, start_time, duration_ms, status)
        select trace_id, span_id, parent_span_id, tenant_id, name, 'internal', function_name, portal,
               attributes, started_at, duration_ms, status
        from jsonb_to_recordset(${jsonb(sql, data)}::jsonb) as x(trace_id text, span_id text, parent_span_id text,
          tenant_id uuid, name text, function_name text, portal text, attributes jsonb, started_at timestamptz,
          duration_ms numeric, status text)`;
    } catch (err) {
      log.error({ err: String(err) }, "span export failed");
      throw err;
    }
  };
}

export interface FeedRow {
  trace_id: string;
  portal: string;
  action: string;
  phase: "start" | "prove" | "finish";
  ok: boolean | null;
  principal: string | null;
  detail: Record<string, unknown>;
}

/**
 * Live Feed rows are buffered and published together every FEED_FLUSH_MS, in order (one
 * flush at a time), in one statement for all tenants: an action costs no feed statement
 * of its own (it cost two, each its own commit with a NOTIFY; bench/README.md). Should the
 * batch fail, each tenant's rows are tried on their own, so one bad tenant loses only its
 * rows.
 */
export const FEED_FLUSH_MS = 25;

export class FeedBuffer {
  private rows = new Map<string, FeedRow[]>();
  private waiters: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> = Promise.resolve();
  constructor(private readonly sql: Sql, private readonly log: Logger) {}

  /** Resolves once the rows are published (or their failure logged). */
  add(tenantId: string, rows: FeedRow[]): Promise<void> {
    const list = this.rows.get(tenantId);
    if (list) list.push(...rows);
    else this.rows.set(tenantId, [...rows]);
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.timer ??= setTimeout(() => void this.flush().catch((err) => this.log.error({ err: String(err) }, "live feed flush failed")), FEED_FLUSH_MS);
    return done;
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.rows, waiters = this.waiters;
    this.rows = new Map();
    this.waiters = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.size > 0) {
        try {
          await this.sql`select app_private.feed_publish(t.key::uuid, t.value) from jsonb_each(${jsonb(this.sql, Object.fromEntries(batch))}) t`;
        } catch {
          for (const [tenantId, rows] of batch) {
            await this.sql`select app_private.feed_publish(${tenantId}, ${jsonb(this.sql, rows)})`.catch((err) =>
              this.log.error({ err: String(err), tenant_id: tenantId }, "live feed publish failed")
            );
          }
        }
      }
      waiters.forEach((w) => w());
    });
    return this.flushing;
  }
}

export interface Telemetry {
  tracer: ReturnType<typeof createTracer>["tracer"];
  metrics: MetricsBuffer;
  /** Publishes Live Feed rows without blocking the action (batched, see FeedBuffer; flush() waits for them). */
  feed(tenantId: string, rows: FeedRow[]): void;
  flush(): Promise<void>;
}

export function createTelemetry(sql: Sql, service: string, log: Logger, otlpEndpoint?: string): Telemetry {
  const { tracer, provider } = createTracer(service, spanSink(sql, service, log), otlpEndpoint);
  const metrics = new MetricsBuffer(sql, log);
  const feed = new FeedBuffer(sql, log);
  const timer = setInterval(() => {
    if (!metrics.busy) void metrics.flush().catch((err) => log.error({ err: String(err) }, "request metrics flush failed"));
  }, 1000);
  // Deno and Node: don't keep the process alive for the flush timer.
  (timer as unknown as { unref?: () => void }).unref?.();
  return {
    tracer,
    metrics,
    feed: (tenantId, rows) => void feed.add(tenantId, rows).catch((err) => log.error({ err: String(err) }, "live feed publish failed")),
    flush: async () => {
      await Promise.all([provider.forceFlush(), metrics.flush(), feed.flush()]);
    },
  };
}
