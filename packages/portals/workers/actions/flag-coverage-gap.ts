import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { gapSummary } from "../domain/coverage.ts";

/** workers/flag_coverage_gap (the agents): an alert for a stretch where a queue's coverage rule fails, one open alert per gap. */
export const flagCoverageGap = defineAction(contract.actions.flag_coverage_gap, {
  permission: "workers.balance",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: (tx, d, ctx) => ({
    writes: [tx`select app_private.raise_alert(${ctx.tenantId}, 'workers.coverage_gap', 'warning', ${`${d.queue_key}:${d.gap_start}`}, ${gapSummary(d)})`],
    result: { alerted: true },
    events: [{ type: "workers.coverage.gap", aggregateType: "queue", aggregateId: d.queue_key, payload: d }],
  }),
  prove: async (sql, _r, ctx) => {
    const [a] = await sql`select 1 from public.alerts where tenant_id = ${ctx.tenantId} and source = 'workers.coverage_gap' and resolved_at is null`;
    return { ok: !!a, detail: a ? "coverage gap alert open" : "no alert" };
  },
});
