import { contract, type QueueItem } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** workers/items: open queue items, the caller's own (mine) or all, by priority and age. */
export const items = defineAction(contract.actions.items, {
  permission: "workers.read",
  detect: async (tx, input) =>
    await tx`select i.id, q.key, i.source_type, i.source_id, i.summary, i.priority, i.assigned_to, i.due_at, i.due_at < now() as over_sla
             from public.workers_items i join public.workers_queues q on q.id = i.queue_id
             where i.status = 'open' and (not ${input.mine} or i.assigned_to = app_private.principal_id())
               and (${input.queue_key ?? null}::text is null or q.key = ${input.queue_key ?? null})
             order by i.priority, i.created_at limit 500`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      items: rows.map((i): QueueItem => ({
        item_id: i.id, queue_key: i.key, source_type: i.source_type, source_id: i.source_id, summary: i.summary, priority: i.priority,
        assigned_to: i.assigned_to, due_at: new Date(i.due_at).toISOString(), over_sla: i.over_sla,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.items.length} items` }),
});
