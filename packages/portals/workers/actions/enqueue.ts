import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * workers/enqueue: an item onto a work queue over HTTP (other portals' SQL calls
 * app_private.workers_enqueue directly), assigned at once to the least loaded on-shift
 * worker holding the queue's skill; an open dedupe_key returns its item (replayed).
 */
export const enqueue = defineAction(contract.actions.enqueue, {
  permission: "workers.enqueue",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [row] = await tx`select app_private.workers_enqueue(${ctx.tenantId}, ${d.queue_key}, ${d.source_type}, ${d.source_id ?? null},
                                                             ${d.summary}, ${d.priority}, ${d.dedupe_key ?? null}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [i] = await sql`select assigned_to from public.workers_items where id = ${r.item_id}`;
    return { ok: !!i, detail: `item ${r.item_id} ${i?.assigned_to ? `assigned to ${i.assigned_to}` : "unassigned (nobody on shift)"}` };
  },
});
