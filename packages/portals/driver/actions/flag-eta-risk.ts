import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { clearEtaRisk } from "./clear-eta-risk.ts";

/**
 * driver/flag_eta_risk (the ETA agent): raises the load's exception flag beside its status
 * (the core's freight_load_exception) and sends its shipper a notice (driver.eta.at_risk:
 * ids and times, no names). Reversible: clear_eta_risk.
 */
export const flagEtaRisk = defineAction(contract.actions.flag_eta_risk, {
  permission: "freight.event.record",
  detect: async (tx, input) => {
    const [l] = await tx`select shipper_party_id from public.loads where id = ${input.load_id}`;
    return (l?.shipper_party_id as string | undefined) ?? null;
  },
  decide: (input, shipper) => ({ ...input, shipper }),
  act: async (tx, d) => {
    await tx`select app_private.freight_load_exception(${d.load_id}, true, ${d.reason})`;
    return {
      writes: [],
      result: { load_id: d.load_id, stop_id: d.stop_id, reason: d.reason, eta: d.eta },
      events: [{
        type: "driver.eta.at_risk", aggregateType: "load", aggregateId: d.load_id,
        payload: { recipient_party_id: d.shipper, load_id: d.load_id, stop_id: d.stop_id, eta: d.eta },
      }],
    };
  },
  prove: async (sql, r) => {
    const [l] = await sql`select exception, exception_reason from public.loads where id = ${r.load_id}`;
    const ok = l?.exception === true && l.exception_reason === r.reason;
    return { ok, detail: ok ? `load ${r.load_id} flagged` : `load ${r.load_id} not flagged` };
  },
  reverse: { action: clearEtaRisk, input: ({ result }) => ({ load_id: result.load_id, reason: result.reason }) },
});
