import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { clearAppointmentRisk } from "./clear-appointment-risk.ts";

/**
 * broker/flag_appointment_risk (the appointment-risk agent): raises the load's exception
 * flag beside its status and sends its shipper a notice. Reversible: clear_appointment_risk.
 */
export const flagAppointmentRisk = defineAction(contract.actions.flag_appointment_risk, {
  permission: "freight.event.record",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    await tx`select app_private.freight_load_exception(${d.load_id}, true, ${d.reason})`;
    const [m] = await tx`select app_private.broker_message_send(${d.load_id}, array['shipper'], ${`Your load may miss its appointment: ${d.reason}`}, 'notice') as r`;
    return { writes: [], events: [], result: { load_id: d.load_id, stop_id: d.stop_id, reason: d.reason, message_id: m.r[0].message_id } };
  },
  prove: async (sql, r) => {
    const [l] = await sql`select exception, exception_reason from public.loads where id = ${r.load_id}`;
    const ok = l?.exception === true && l.exception_reason === r.reason;
    return { ok, detail: ok ? `load ${r.load_id} flagged` : `load ${r.load_id} not flagged` };
  },
  reverse: { action: clearAppointmentRisk, input: ({ result }) => ({ load_id: result.load_id, reason: result.reason, message_id: result.message_id }) },
});
