import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { podMissingWithdraw } from "./pod-missing-withdraw.ts";

/**
 * driver/pod_missing (the POD agent): a delivered load without a POD driver.podMissingHours
 * after delivery -> a task for the dispatcher's queue: the outbox event driver.pod_missing
 * (queue dispatch, the task's id; the Workers portal's queues consume it), recorded with the
 * agent's run. Reversible: pod_missing_withdraw publishes its withdrawal.
 */
export const podMissing = defineAction(contract.actions.pod_missing, {
  permission: "freight.event.record",
  detect: async (tx, input) => {
    const [l] = await tx`select l.status, exists (select 1 from public.driver_pods p where p.load_id = l.id) as has_pod
                         from public.loads l where l.id = ${input.load_id}`;
    return l ?? null;
  },
  decide: (input, l) => {
    if (!l) throw new ActionRefused(refuse("not_found", { detail: "No such load in this tenant" }));
    if (l.status !== "delivered" || l.has_pod) throw new ActionRefused(refuse("conflict", { detail: `The load is ${l.status}${l.has_pod ? " with a POD" : ""}` }));
    return { ...input, task: crypto.randomUUID() };
  },
  act: (_tx, d) => ({
    writes: [],
    result: { load_id: d.load_id, delivered_at: d.delivered_at, task_event_id: d.task },
    events: [{
      type: "driver.pod_missing", aggregateType: "load", aggregateId: d.load_id,
      payload: { task_id: d.task, queue: "dispatch", kind: "collect_pod", load_id: d.load_id, delivered_at: d.delivered_at },
    }],
  }),
  prove: async (sql, r, ctx) => {
    const [e] = await sql`select count(*)::int as n from public.outbox_events where trace_id = ${ctx.traceId} and event_type = 'driver.pod_missing'`;
    return { ok: e.n === 1, detail: `task ${r.task_event_id} for load ${r.load_id}` };
  },
  reverse: { action: podMissingWithdraw, input: ({ result }) => ({ load_id: result.load_id, task_event_id: result.task_event_id }) },
});
