import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";

/** driver/pod_missing_withdraw: the undo of pod_missing: the task is withdrawn from the queue (driver.pod_missing.withdrawn). */
export const podMissingWithdraw = defineAction(contract.actions.pod_missing_withdraw, {
  permission: "freight.event.record",
  detect: async (tx, input) => (await tx`select id from public.loads where id = ${input.load_id}`).length > 0,
  decide: (input, found) => {
    if (!found) throw new ActionRefused(refuse("not_found", { detail: "No such load in this tenant" }));
    return input;
  },
  act: (_tx, d) => ({
    writes: [],
    result: { load_id: d.load_id, withdrawn: true },
    events: [{ type: "driver.pod_missing.withdrawn", aggregateType: "load", aggregateId: d.load_id, payload: { task_id: d.task_event_id, load_id: d.load_id } }],
  }),
  prove: async (sql, _r, ctx) => {
    const [e] = await sql`select count(*)::int as n from public.outbox_events where trace_id = ${ctx.traceId} and event_type = 'driver.pod_missing.withdrawn'`;
    return { ok: e.n === 1, detail: "task withdrawn" };
  },
});
