import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** autonomous/approve: a human approves (or rejects) a replay request held in STEP-DOWN. */
export const approve = defineAction(contract.actions.approve, {
  permission: "dlq.replay.approve",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [r] = await tx`select * from app_private.replay_decide(${d.request_id}, ${d.approve}, ${d.note ?? null})`;
    return {
      writes: [],
      result: { request_id: r.id, status: r.status, outcome: r.outcome },
      events: [{ type: "autonomous.replay.decided", aggregateType: "replay_request", aggregateId: r.id, payload: { request_id: r.id, status: r.status } }],
    };
  },
  prove: async (sql, r) => {
    const [row] = await sql`select status from public.replay_requests where id = ${r.request_id}`;
    return { ok: row?.status === r.status, detail: `replay ${r.request_id} ${row?.status ?? "missing"}` };
  },
});
