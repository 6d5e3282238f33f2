import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** workers/close_item: done or cancelled, by its assignee (workers.work) or a balancer (queue_item_closed when closed already). */
export const closeItem = defineAction(contract.actions.close_item, {
  permission: "workers.work",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.workers_item_close(${d.item_id}, ${d.status}, ${d.resolution ?? null}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [i] = await sql`select status from public.workers_items where id = ${r.item_id}`;
    return { ok: i?.status === r.status, detail: `item ${r.item_id} ${i?.status}` };
  },
});
