import { defineDetector } from "../../shared/pipeline/detector.ts";
import { flagCoverageGap } from "./actions/flag-coverage-gap.ts";
import { rebalance } from "./actions/rebalance.ts";

/**
 * Queue SLA: open items past their due time that are unassigned or held by a worker who is
 * off shift or more than one item above the least loaded -> rebalance. The key names the
 * oldest overdue item, so one tick rebalances once per new breach.
 */
export const queueSla = defineDetector({
  portal: "workers",
  name: "queue_sla",
  detect: async (tx, tenantId) => {
    const [r] = await tx`select i.id from public.workers_items i
                         where i.tenant_id = ${tenantId} and i.status = 'open' and i.due_at < now()
                         order by i.due_at, i.id limit 1`;
    return r ? [{ action: rebalance, key: `rebalance:${r.id}`, input: { reason: "queue over SLA" } }] : [];
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
