/**
 * `ops trace <trace-id>`: the whole story of one trace. Spans as an indented waterfall,
 * then every row that carries the trace id: audit, outbox events and their deliveries,
 * DLQ entries, Live Feed rows and alerts.
 */
import { check, parse, traceId } from "./args.ts";
import type { Command } from "./command.ts";
import type { Sql } from "./db.ts";
import { notFound } from "./errors.ts";
import { table } from "./output.ts";

interface SpanRow {
  span_id: string;
  parent_span_id: string | null;
  name: string;
  function_name: string | null;
  portal: string | null;
  start_time: Date;
  duration_ms: number;
  status: string;
  status_message: string | null;
}

async function readTrace(sql: Sql, id: string) {
  const [spans, audit, outbox, deliveries, dlq, feed, alerts] = await Promise.all([
    sql<SpanRow[]>`select span_id, parent_span_id, name, kind, function_name, portal, start_time, duration_ms::float8,
                          status, status_message, attributes
                   from public.spans where trace_id = ${id} order by start_time, span_id`,
    sql`select occurred_at, principal_name, principal_kind, db_user, action, target_type, target_id, reason, span_id
        from public.audit_log where trace_id = ${id} order by occurred_at, chain_seq`,
    sql`select id, seq, tenant_id, event_type, aggregate_type, aggregate_id, state, attempts, last_error, created_at, delivered_at
        from public.outbox_events where trace_id = ${id} order by seq`,
    sql`select event_id, attempt, ok, status_code, error, duration_ms, created_at
        from public.outbox_deliveries where trace_id = ${id} order by created_at`,
    sql`select id, event_id, event_type, state, attempts, last_error, dead_at, replayed_at, replay_request_id
        from public.dlq_entries where trace_id = ${id} order by dead_at`,
    sql`select id, portal, action, phase, ok, principal, created_at from public.live_feed where trace_id = ${id} order by id`,
    sql`select source, severity, summary, created_at, resolved_at from public.alerts where trace_id = ${id} order by created_at`,
  ]);
  const plain = (rows: readonly object[]) => rows.map((r) => ({ ...r }));
  return {
    traceId: id,
    spans: plain(spans) as SpanRow[],
    audit: plain(audit),
    outbox: plain(outbox),
    deliveries: plain(deliveries),
    dlq: plain(dlq),
    liveFeed: plain(feed),
    alerts: plain(alerts),
  };
}

/** Spans as a waterfall: children under their parent, offset and bar relative to the trace. */
function waterfall(spans: SpanRow[], width = 32): string {
  if (spans.length === 0) return "  (no spans)";
  const t0 = Math.min(...spans.map((s) => s.start_time.getTime()));
  const end = Math.max(...spans.map((s) => s.start_time.getTime() + s.duration_ms));
  const total = Math.max(end - t0, 1);
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string | null, SpanRow[]>();
  for (const s of spans) {
    const parent = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : null;
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | null, depth: number) => {
    for (const s of children.get(parent) ?? []) {
      const from = s.start_time.getTime() - t0;
      const a = Math.floor((from / total) * width);
      const b = Math.max(a + 1, Math.round(((from + s.duration_ms) / total) * width));
      const bar = `${" ".repeat(a)}${"█".repeat(b - a)}`.padEnd(width);
      const where = [s.function_name, s.portal].filter(Boolean).join("/");
      const status = s.status === "error" ? ` ERROR${s.status_message ? ` ${s.status_message}` : ""}` : "";
      lines.push(`  +${from.toFixed(1).padStart(8)} ms |${bar}| ${"  ".repeat(depth)}${s.name}${where ? ` [${where}]` : ""} ${s.duration_ms.toFixed(1)} ms${status}`);
      walk(s.span_id, depth + 1);
    }
  };
  walk(null, 0);
  return lines.join("\n");
}

export const trace: Command = async ({ sql, out, argv }) => {
  const { positionals } = parse(argv, {}, { min: 1, max: 1, usage: "ops trace <trace-id> [--json]" });
  const id = check(traceId, positionals[0].toLowerCase(), "trace id");
  const t = await readTrace(sql, id);
  const found = [t.spans, t.audit, t.outbox, t.deliveries, t.dlq, t.liveFeed, t.alerts].some((rows) => rows.length > 0);
  if (!found) throw notFound(`nothing carries trace ${id} (spans are kept 7 days, outbox events 14)`);
  out.result(t, () => [
    `Trace ${id}`,
    "", `Spans (${t.spans.length})`, waterfall(t.spans),
    "", `Audit (${t.audit.length})`, table(t.audit, ["occurred_at", "principal_name", "db_user", "action", "target_id", "reason"]),
    "", `Outbox events (${t.outbox.length})`, table(t.outbox, ["id", "event_type", "aggregate_id", "state", "attempts", "last_error", "created_at", "delivered_at"]),
    "", `Deliveries (${t.deliveries.length})`, table(t.deliveries, ["event_id", "attempt", "ok", "status_code", "error", "duration_ms"]),
    "", `DLQ entries (${t.dlq.length})`, table(t.dlq, ["id", "event_type", "state", "attempts", "last_error", "dead_at"]),
    "", `Live Feed (${t.liveFeed.length})`, table(t.liveFeed, ["created_at", "portal", "action", "phase", "ok", "principal"]),
    ...(t.alerts.length ? ["", `Alerts (${t.alerts.length})`, table(t.alerts, ["created_at", "severity", "source", "summary"])] : []),
  ].join("\n"));
};
