import { startSpan, traceparentOf } from "../../../packages/shared/observability/tracing.ts";
import { parseTraceparent } from "../../../packages/shared/observability/traceparent.ts";
import { agentsLoop } from "./agents.ts";
import { dispatchAlerts } from "./alerts.ts";
import { asAutopilot, type AutopilotContext, recorded } from "./context.ts";
import { sloGate } from "./slo.ts";

/** Health probe: a database round trip, counted as the 'health-probe' function for uptime. */
async function probe(ctx: AutopilotContext) {
  const t0 = performance.now();
  let ok = true;
  try {
    await ctx.sql`select 1`;
  } catch {
    ok = false;
  }
  const ms = performance.now() - t0;
  ctx.telemetry.metrics.add({ fn: "health-probe", portal: null, tenantId: null, ms, error: !ok });
  return { ok, ms: Math.round(ms * 100) / 100 };
}

/** Queue depth and the age of the oldest undelivered event; a lag over 60 s raises an alert. */
async function queueDepth(ctx: AutopilotContext) {
  const [q] = await ctx.sql`
    select count(*) filter (where state = 'pending')::int as pending, count(*) filter (where state = 'failed')::int as failed,
           count(*) filter (where state = 'delivering')::int as delivering,
           coalesce(extract(epoch from now() - min(created_at) filter (where state in ('pending', 'failed', 'delivering'))), 0)::int as oldest_s,
           (select count(*)::int from public.dlq_entries where state = 'dead') as dlq
    from public.outbox_events where state in ('pending', 'failed', 'delivering')`;
  if (q.oldest_s > 60) {
    await asAutopilot(ctx, (tx) => tx`select app_private.raise_alert(null, 'outbox.lag', 'warning', 'oldest', ${`Oldest undelivered outbox event is ${q.oldest_s} s old`})`);
  }
  return q;
}

/** Replication lag (issue 19): a standby not streaming, or past dr.standby.maxLag*, raises dr.lag. */
async function replication(ctx: AutopilotContext) {
  const rows = await ctx.sql`select slot, state, lag_bytes::float8, lag_seconds::float8, max_bytes::float8, max_seconds::float8 from app_private.dr_lagging()`;
  for (const r of rows) {
    await asAutopilot(ctx, (tx) => tx`select app_private.raise_alert(null, 'dr.lag', 'warning', ${r.slot},
      ${`Standby ${r.slot} is ${r.state}: ${r.lag_bytes} bytes / ${r.lag_seconds} s behind (limits ${r.max_bytes} bytes, ${r.max_seconds} s)`},
      ${ctx.sql.json(r as never)})`);
  }
  return { lagging: rows.length };
}

/**
 * Scheduled calls that failed since the last tick (pg_net responses that are not 2xx, or
 * timed out): each raises an alert, so a broken schedule is seen, not silently skipped.
 */
async function failedScheduledCalls(ctx: AutopilotContext) {
  const rows = await ctx.sql`
    select id, status_code, coalesce(error_msg, 'HTTP ' || status_code) as error from net._http_response
    where created > now() - interval '35 seconds' and (status_code is null or status_code >= 400)`;
  for (const r of rows) {
    await asAutopilot(ctx, (tx) => tx`select app_private.raise_alert(null, 'schedule.call', 'warning', ${String(r.id)}, ${`A scheduled function call failed: ${r.error}`})`);
  }
  return { failed: rows.length };
}

/**
 * Canary routing: while healthy, widen every canary by 10 points a tick (rollback sets 0).
 * A flag write by autopilot@ (history + audit with reason and trace; the stop refuses it).
 */
async function canary(ctx: AutopilotContext, healthy: boolean, traceparent: string) {
  if (!healthy) return { widened: 0 };
  const rows = await asAutopilot(ctx, (tx) => tx`
    update public.feature_flags_v2 set value = least(100, value::int + 10)::text, reason = 'canary: SLOs healthy', owner_name = 'autopilot'
    where key = 'canary.percent' and value::int between 1 and 99 returning scope`, { reason: "canary: SLOs healthy", traceparent });
  return { widened: rows.length };
}

/** One step of the tick; a refused or failed step is reported and the others still run. */
async function step<T>(ctx: AutopilotContext, name: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await fn();
  } catch (err) {
    const error = err instanceof Error ? err.message.split("\n")[0] : String(err);
    ctx.log.warn({ step: name, err: error }, "autopilot step failed");
    return { error };
  }
}

/** The 30 s tick: probes, queue depth, SLO gates, canary routing, the agents' loop, alerts. */
export async function tick(ctx: AutopilotContext, req: Request) {
  const span = startSpan(ctx.telemetry.tracer, "autopilot.tick", parseTraceparent(req.headers.get("traceparent")));
  const traceparent = traceparentOf(span);
  const result = await recorded(ctx, "autopilot-tick", async () => {
    const health = await step(ctx, "health", () => probe(ctx));
    const queue = await step(ctx, "queue", () => queueDepth(ctx));
    const schedules = await step(ctx, "schedules", () => failedScheduledCalls(ctx));
    const standby = await step(ctx, "replication", () => replication(ctx));
    const slo = await step(ctx, "slo", () => sloGate(ctx, traceparent));
    const healthy = !("error" in slo) && slo.breaches.length === 0;
    const canaries = await step(ctx, "canary", () => canary(ctx, healthy, traceparent));
    const agents = await step(ctx, "agents", () => agentsLoop(ctx, req.headers.get("authorization"), traceparent));
    const alerts = await step(ctx, "alerts", () => dispatchAlerts(ctx));
    return { health, queue, schedules, standby, slo, canaries, agents, alerts, trace_id: span.spanContext().traceId };
  });
  span.end();
  return result;
}
