import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

/**
 * driver/clear_eta_risk: the undo of flag_eta_risk: clears the exception while it is still
 * that risk's and tells the shipper (driver.eta.cleared).
 */
export const clearEtaRisk = defineAction(contract.actions.clear_eta_risk, {
  permission: "freight.event.record",
  detect: async (tx, input) => {
    const [l] = await tx`select exception, exception_reason, shipper_party_id from public.loads where id = ${input.load_id}`;
    return l ?? null;
  },
  decide: (input, l) => {
    if (!l) throw new ActionRefused(refuse("not_found", { detail: "No such load in this tenant" }));
    if (!l.exception || l.exception_reason !== input.reason) {
      throw new ActionRefused(refuse("revert_state_changed", { detail: l.exception ? "The load's exception is another one now" : "The exception was cleared already" }));
    }
    return { ...input, shipper: l.shipper_party_id as string };
  },
  act: async (tx, d) => {
    await tx`select app_private.freight_load_exception(${d.load_id}, false)`;
    return {
      writes: [],
      result: { load_id: d.load_id, exception: false },
      events: [{ type: "driver.eta.cleared", aggregateType: "load", aggregateId: d.load_id, payload: { recipient_party_id: d.shipper, load_id: d.load_id } }],
    };
  },
  prove: async (sql, r) => {
    const [l] = await sql`select exception from public.loads where id = ${r.load_id}`;
    return { ok: l?.exception === false, detail: `load ${r.load_id} exception ${l?.exception}` };
  },
});
