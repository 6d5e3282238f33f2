import { machineClaims, withClaims } from "../../../packages/shared/db/client.ts";
import { type CountRow, evaluateSlo, type Thresholds } from "../../../packages/shared/autopilot/gates.ts";
import { downshift, type GradientParams, gradientStep, p95FromBuckets } from "../../../packages/shared/autopilot/throttle.ts";
import type { AutopilotContext } from "./context.ts";

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

async function readSlo(ctx: AutopilotContext) {
  const [[t], short, long, [probes], [sample], [state]] = await Promise.all([
    ctx.sql`select (public.flag_value('slo.successMin'))::text::numeric as success_min,
                   (public.flag_value('slo.p95MaxMs'))::text::int as p95,
                   (public.flag_value('slo.portalP95MaxMs'))::text::int as portal_p95,
                   (public.flag_value('slo.uptimeMin'))::text::numeric as uptime_min,
                   (public.flag_value('slo.minRequests'))::text::int as min_requests,
                   (public.flag_value('quarantine.tenants.platformAt'))::text::int as platform_at,
                   (public.flag_value('budget.agents.maxConcurrent'))::text::int as current,
                   (public.flag_value('budget.agents.floor'))::text::int as floor,
                   (public.flag_value('budget.agents.target'))::text::int as target,
                   (public.flag_value('autopilot.gradient.tolerance'))::text::numeric as tolerance,
                   (public.flag_value('autopilot.gradient.smoothing'))::text::numeric as smoothing,
                   (public.flag_value('autopilot.gradient.longWindow'))::text::int as long_window,
                   (public.flag_value('autopilot.gradient.minRttMs'))::text::int as min_rtt_ms,
                   (public.flag_value('autopilot.gradient.minRequests'))::text::int as sample_min,
                   app_private.flag_text('autonomy.mode') as mode`,
    ctx.sql`select * from app_private.slo_counts(interval '5 minutes') where function_name <> 'health-probe'`,
    ctx.sql`select * from app_private.slo_counts(interval '1 hour') where function_name <> 'health-probe'`,
    ctx.sql`select 1 - sum(errors) filter (where minute >= now() - interval '5 minutes')::numeric
                       / nullif(sum(count) filter (where minute >= now() - interval '5 minutes'), 0) as short,
                   1 - sum(errors)::numeric / nullif(sum(count), 0) as long
            from public.request_metrics where function_name = 'health-probe' and minute >= now() - interval '1 hour'`,
    // The gradient's sample: portal requests of the last 2 minutes (quarantined tenants left out).
    ctx.sql`select coalesce(sum(requests), 0)::bigint as requests,
                   array[sum(buckets[1]), sum(buckets[2]), sum(buckets[3]), sum(buckets[4]),
                         sum(buckets[5]), sum(buckets[6]), sum(buckets[7]), sum(buckets[8])]::bigint[] as buckets
            from app_private.slo_counts(interval '1 minute') where portal is not null`,
    ctx.sql`select estimated, long_rtt_ms, samples from ops.concurrency_state where pool = 'agents'`,
  ]);
  const thresholds: Thresholds & { platformAt: number } = {
    successMin: Number(t.success_min), p95MaxMs: t.p95, portalP95MaxMs: t.portal_p95, uptimeMin: Number(t.uptime_min),
    minRequests: t.min_requests, platformAt: t.platform_at,
  };
  const rows = (rs: typeof short): CountRow[] => rs.map((r) => ({
    tenant_id: r.tenant_id, function_name: r.function_name, portal: r.portal, requests: Number(r.requests),
    errors: Number(r.errors), buckets: (r.buckets as unknown[]).map(Number),
  }));
  const requests = Number(sample.requests);
  // DEGRADE: the operator lowered the limit; the gradient may lower it further, never raise it.
  const target = t.mode === "DEGRADE" ? Math.min(t.target, t.current) : t.target;
  const gradient: GradientParams = {
    tolerance: Number(t.tolerance), smoothing: Number(t.smoothing), longWindow: t.long_window, minRttMs: t.min_rtt_ms,
    floor: Math.min(t.floor, target), target,
  };
  return {
    thresholds, gradient,
    short: rows(short), long: rows(long), uptime: { short: num(probes.short), long: num(probes.long) },
    current: t.current as number,
    sampleMs: requests >= t.sample_min ? p95FromBuckets(requests, (sample.buckets as unknown[]).map(Number)) : null,
    // An operator's own value of the flag (DEGRADE) is where the gradient goes on from.
    state: state && Math.floor(Number(state.estimated)) === t.current
      ? { estimated: Number(state.estimated), longRttMs: num(state.long_rtt_ms), samples: Number(state.samples) }
      : { estimated: t.current as number, longRttMs: num(state?.long_rtt_ms), samples: Number(state?.samples ?? 0) },
  };
}

/**
 * The SLO gate of the 30 s tick, per tenant first (gates.ts evaluateSlo):
 *  - the platform breaches: roll back (canary flags to 0, agents off) and downshift;
 *  - otherwise each tenant breaching alone is quarantined (its agents stand down, its
 *    requests leave the platform's figures) and everyone else carries on;
 * and on every tick budget.agents.maxConcurrent follows the latency gradient (throttle.ts).
 * Every change is a write by the autopilot principal (flag history + audit with reason and
 * trace; a quarantine row + audit) and raises (or resolves) an alert.
 */
export async function sloGate(ctx: AutopilotContext, traceparent: string) {
  const s = await readSlo(ctx);
  const verdict = evaluateSlo(s.short, s.long, s.uptime, s.thresholds);
  const breaches = verdict.platform;
  const step = gradientStep(s.state, s.sampleMs, s.gradient);
  const next = breaches.length > 0 ? Math.min(step.limit, downshift(s.current, breaches, s.gradient.floor)) : step.limit;
  const concurrency = {
    from: s.current, to: next, gradient: Math.round(step.gradient * 1000) / 1000,
    short_p95_ms: step.shortRttMs === null ? null : Math.round(step.shortRttMs),
    long_p95_ms: step.state.longRttMs === null ? null : Math.round(step.state.longRttMs),
  };
  const claims = machineClaims("autopilot");
  const tenants = verdict.tenants.map((x) => ({ tenant_id: x.tenantId, breaches: x.breaches }));
  const estimated = next === step.limit ? step.state.estimated : next;
  const saveState = () => withClaims(ctx.sql, claims, (tx) =>
    tx`select app_private.concurrency_state_save('agents', ${estimated}, ${step.state.longRttMs}, ${step.shortRttMs},
         ${step.gradient}, ${step.state.samples})`);
  if (breaches.length > 0) {
    const reason = `SLO breach: ${breaches.map((b) => `${b.scope} ${b.metric}`).join(", ")}`;
    await withClaims(ctx.sql, claims, (tx) => Promise.all([
      tx`update public.feature_flags_v2 set value = ${String(next)}, reason = ${reason}, owner_name = 'autopilot'
         where key = 'budget.agents.maxConcurrent' and scope = 'global' and value <> ${String(next)}`,
      tx`update public.feature_flags_v2 set value = '0', reason = ${reason}, owner_name = 'autopilot'
         where key = 'canary.percent' and value <> '0'`,
      tx`update public.feature_flags_v2 set value = 'false', reason = ${reason}, owner_name = 'autopilot'
         where key = 'agents.autonomousEnabled' and scope = 'global' and value <> 'false'`,
      tx`select app_private.raise_alert(null, 'slo.breach', 'critical', 'platform', ${`${reason}: agents off, concurrency ${s.current} -> ${next}`},
           ${tx.json({ breaches, concurrency } as never)})`,
    ]), { reason, traceparent });
    await saveState();
    return { breaches, tenants, quarantined: [], concurrency, rolled_back: true };
  }
  // Alone: each breaching tenant is quarantined in its own transaction (one refused, e.g. a
  // suspended tenant, does not keep the others running).
  const quarantined: { tenant_id: string; quarantine_id: string }[] = [];
  for (const x of verdict.tenants) {
    const reason = `SLO breach of tenant ${x.tenantId} alone: ${x.breaches.map((b) => `${b.scope.split(" ")[1]} ${b.metric}`).join(", ")}`;
    try {
      const [q] = await withClaims(ctx.sql, machineClaims("autopilot", x.tenantId), (tx) =>
        tx`select app_private.quarantine_open('tenant', ${x.tenantId}, ${reason}, ${tx.json({ breaches: x.breaches } as never)}) as id`,
        { reason, traceparent });
      quarantined.push({ tenant_id: x.tenantId, quarantine_id: q.id });
    } catch (err) {
      ctx.log.warn({ tenant_id: x.tenantId, err: err instanceof Error ? err.message : String(err) }, "tenant quarantine refused");
    }
  }
  if (next !== s.current) {
    const gradient = `latency gradient ${concurrency.gradient} (p95 ${concurrency.short_p95_ms ?? "-"} ms, baseline ${concurrency.long_p95_ms ?? "-"} ms)`;
    const reason = `${next > s.current ? "SLOs healthy, " : ""}${gradient}: concurrency ${s.current} -> ${next}`;
    await withClaims(ctx.sql, claims, (tx) => Promise.all([
      tx`update public.feature_flags_v2 set value = ${String(next)}, reason = ${reason}, owner_name = 'autopilot'
         where key = 'budget.agents.maxConcurrent' and scope = 'global'`,
      tx`update public.alerts set resolved_at = now() where source = 'slo.breach' and resolved_at is null`,
      ...(next > s.current ? [tx`select app_private.raise_alert(null, 'slo.recovery', 'info', ${`to-${next}`}, ${reason})`] : []),
    ]), { reason, traceparent });
  }
  await saveState();
  return { breaches, tenants, quarantined, concurrency, rolled_back: false };
}
