import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * workers/rebalance (the agents, ops managers): items off workers who left their shift or
 * carry more than one item above the least loaded eligible worker (or above max_open), then
 * the unassigned assigned (app_private.workers_rebalance; event workers.queues.rebalanced).
 */
export const rebalance = defineAction(contract.actions.rebalance, {
  permission: "workers.balance",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, _d, ctx) => {
    const [row] = await tx`select app_private.workers_rebalance(${ctx.tenantId}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `released ${r.released}, moved ${r.moved}, assigned ${r.assigned}` }),
});
