import { machineClaims, withClaims } from "../../../packages/shared/db/client.ts";
import { type Breach, evaluateGates, type SloRow, type Thresholds } from "../../../packages/shared/autopilot/gates.ts";
import { nextLimit } from "../../../packages/shared/autopilot/throttle.ts";
import type { AutopilotContext } from "./context.ts";

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

async function readSlo(ctx: AutopilotContext) {
  const [[t], short, long, [probes]] = await Promise.all([
    ctx.sql`select (public.flag_value('slo.successMin'))::text::numeric as success_min,
                   (public.flag_value('slo.p95MaxMs'))::text::int as p95,
                   (public.flag_value('slo.portalP95MaxMs'))::text::int as portal_p95,
                   (public.flag_value('slo.uptimeMin'))::text::numeric as uptime_min,
                   (public.flag_value('slo.minRequests'))::text::int as min_requests,
                   (public.flag_value('budget.agents.maxConcurrent'))::text::int as current,
                   (public.flag_value('budget.agents.floor'))::text::int as floor,
                   (public.flag_value('budget.agents.target'))::text::int as target`,
    ctx.sql`select * from public.slo_summary(interval '5 minutes') where function_name <> 'health-probe'`,
    ctx.sql`select * from public.slo_summary(interval '1 hour') where function_name <> 'health-probe'`,
    ctx.sql`select 1 - sum(errors) filter (where minute >= now() - interval '5 minutes')::numeric
                       / nullif(sum(count) filter (where minute >= now() - interval '5 minutes'), 0) as short,
                   1 - sum(errors)::numeric / nullif(sum(count), 0) as long
            from public.request_metrics where function_name = 'health-probe' and minute >= now() - interval '1 hour'`,
  ]);
  const thresholds: Thresholds = {
    successMin: Number(t.success_min), p95MaxMs: t.p95, portalP95MaxMs: t.portal_p95, uptimeMin: Number(t.uptime_min), minRequests: t.min_requests,
  };
  const rows = (rs: typeof short): SloRow[] => rs.map((r) => ({
    function_name: r.function_name, portal: r.portal, requests: Number(r.requests), errors: Number(r.errors),
    share_le_1500: num(r.share_le_1500), share_le_2500: num(r.share_le_2500), p95_upper_ms: num(r.p95_upper_ms),
  }));
  return { thresholds, short: rows(short), long: rows(long), uptime: { short: num(probes.short), long: num(probes.long) }, band: { current: t.current, floor: t.floor, target: t.target } };
}

/**
 * The SLO gate of the 30 s tick. A breach rolls back (canary flags to 0, agents off) and
 * downshifts budget.agents.maxConcurrent; health raises it back towards the target. Every
 * change is a flag write by the autopilot principal (flag history + audit, with reason and
 * trace), and raises (or resolves) an alert.
 */
export async function sloGate(ctx: AutopilotContext, traceparent: string) {
  const s = await readSlo(ctx);
  const breaches: Breach[] = evaluateGates(s.short, s.long, s.uptime, s.thresholds);
  const next = nextLimit(s.band.current, breaches, { floor: s.band.floor, target: s.band.target });
  const claims = machineClaims("autopilot");
  if (breaches.length > 0) {
    const reason = `SLO breach: ${breaches.map((b) => `${b.scope} ${b.metric}`).join(", ")}`;
    await withClaims(ctx.sql, claims, (tx) => Promise.all([
      tx`update public.feature_flags_v2 set value = ${String(next)}, reason = ${reason}, owner_name = 'autopilot'
         where key = 'budget.agents.maxConcurrent' and scope = 'global' and value <> ${String(next)}`,
      tx`update public.feature_flags_v2 set value = '0', reason = ${reason}, owner_name = 'autopilot'
         where key = 'canary.percent' and value <> '0'`,
      tx`update public.feature_flags_v2 set value = 'false', reason = ${reason}, owner_name = 'autopilot'
         where key = 'agents.autonomousEnabled' and scope = 'global' and value <> 'false'`,
      tx`select app_private.raise_alert(null, 'slo.breach', 'critical', 'platform', ${`${reason}: agents off, concurrency ${s.band.current} -> ${next}`},
           ${tx.json({ breaches, concurrency: { from: s.band.current, to: next } } as never)})`,
    ]), { reason, traceparent });
    return { breaches, concurrency: { from: s.band.current, to: next }, rolled_back: true };
  }
  if (next !== s.band.current) {
    const reason = `SLOs healthy: concurrency ${s.band.current} -> ${next}`;
    await withClaims(ctx.sql, claims, (tx) => Promise.all([
      tx`update public.feature_flags_v2 set value = ${String(next)}, reason = ${reason}, owner_name = 'autopilot'
         where key = 'budget.agents.maxConcurrent' and scope = 'global'`,
      tx`update public.alerts set resolved_at = now() where source = 'slo.breach' and resolved_at is null`,
      tx`select app_private.raise_alert(null, 'slo.recovery', 'info', ${`to-${next}`}, ${reason})`,
    ]), { reason, traceparent });
  }
  return { breaches, concurrency: { from: s.band.current, to: next }, rolled_back: false };
}
