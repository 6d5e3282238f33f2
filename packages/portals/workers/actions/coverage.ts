import { contract, type Gap } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** workers/coverage: stretches of the next hours where a queue's coverage rule (min_coverage skilled workers on shift) fails. */
export const coverage = defineAction(contract.actions.coverage, {
  permission: "workers.read",
  detect: async (tx, input, ctx) => {
    const from = input.from ?? ctx.now.toISOString();
    const to = new Date(Date.parse(from) + input.hours * 3_600_000).toISOString();
    return await tx`select * from app_private.workers_coverage_gaps(${ctx.tenantId}, ${from}::timestamptz, ${to}::timestamptz)`;
  },
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: { gaps: rows.map((g): Gap => ({ queue_key: g.queue_key, gap_start: new Date(g.gap_start).toISOString(), gap_end: new Date(g.gap_end).toISOString(), min_coverage: g.min_coverage })) },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.gaps.length} gaps` }),
});
