import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

/**
 * broker/clear_appointment_risk: the undo of flag_appointment_risk: clears the exception
 * (only while it is still that risk's) and retracts the shipper's notice.
 */
export const clearAppointmentRisk = defineAction(contract.actions.clear_appointment_risk, {
  permission: "freight.event.record",
  detect: async (tx, input) => {
    const [l] = await tx`select exception, exception_reason from public.loads where id = ${input.load_id}`;
    return l ?? null;
  },
  decide: (input, l) => {
    if (!l) throw new ActionRefused(refuse("not_found", { detail: "No such load in this tenant" }));
    if (!l.exception || l.exception_reason !== input.reason) {
      throw new ActionRefused(refuse("revert_state_changed", { detail: l.exception ? "The load's exception is another one now" : "The exception was cleared already" }));
    }
    return input;
  },
  act: async (tx, d) => {
    await tx`select app_private.freight_load_exception(${d.load_id}, false)`;
    await tx`select app_private.broker_message_retract(${d.message_id})`;
    return { writes: [], events: [], result: { load_id: d.load_id, exception: false } };
  },
  prove: async (sql, r) => {
    const [l] = await sql`select exception from public.loads where id = ${r.load_id}`;
    return { ok: l?.exception === false, detail: `load ${r.load_id} exception ${l?.exception}` };
  },
});
