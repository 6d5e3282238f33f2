import { defineDetector } from "../../shared/pipeline/detector.ts";
import { flagCoverageGap } from "./actions/flag-coverage-gap.ts";
import { rebalance } from "./actions/rebalance.ts";

/**
 * Queue SLA: an open item past its due time that rebalancing would move (unassigned, held
 * by a worker off shift or inactive, or by one more than one item above the least loaded
 * on-shift worker with the skill) -> rebalance. The key names the item and its holder, so a
 * breach is rebalanced once, not every tick while the item waits.
 */
export const queueSla = defineDetector({
  portal: "workers",
  name: "queue_sla",
  detect: async (tx, tenantId) => {
    const [r] = await tx`
      with load as (
        select s.principal_id, s.skills, s.active, count(x.id) as n,
               exists (select 1 from public.workers_shifts w where w.tenant_id = s.tenant_id and w.principal_id = s.principal_id
                         and w.starts_at <= now() and w.ends_at > now()) as on_shift
        from public.workers_staff s left join public.workers_items x on x.assigned_to = s.principal_id and x.status = 'open'
        where s.tenant_id = ${tenantId} group by s.tenant_id, s.principal_id)
      select i.id, i.assigned_to from public.workers_items i
      join public.workers_queues q on q.id = i.queue_id
      left join load a on a.principal_id = i.assigned_to
      where i.tenant_id = ${tenantId} and i.status = 'open' and i.due_at < now()
        and (a.principal_id is null or not a.active or not a.on_shift
             or a.n > 1 + (select min(b.n) from load b where b.active and b.on_shift and q.skill = any(b.skills)))
      order by i.due_at, i.id limit 1`;
    return r ? [{ action: rebalance, key: `rebalance:${r.id}:${r.assigned_to ?? "none"}`, input: { reason: "queue over SLA" } }] : [];
  },
});

/** Coverage: a gap in the next 24 hours (fewer than min_coverage skilled workers on shift) -> an alert, once per gap. */
export const coverageGap = defineDetector({
  portal: "workers",
  name: "coverage_gap",
  detect: async (tx, tenantId, now) => {
    const gaps = await tx`select g.* from app_private.workers_coverage_gaps(${tenantId}, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz + interval '24 hours') g
                          where not exists (select 1 from public.alerts a where a.tenant_id = ${tenantId} and a.source = 'workers.coverage_gap'
                                              and a.resolved_at is null and a.dedupe_key like g.queue_key || ':%')
                          limit 20`;
    return gaps.map((g) => {
      const input = { queue_key: g.queue_key, gap_start: new Date(g.gap_start).toISOString(), gap_end: new Date(g.gap_end).toISOString(), min_coverage: g.min_coverage };
      return { action: flagCoverageGap, key: `coverage-gap:${g.queue_key}:${input.gap_start.slice(0, 13)}`, input };
    });
  },
});
