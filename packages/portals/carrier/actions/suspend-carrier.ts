import { contract, type Suspension } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { carrierBlockState, requireBlockable } from "../../../shared/freight/carrier-block.ts";
import { suspensionNote } from "../domain/compliance.ts";
import { reinstateCarrier } from "./reinstate-carrier.ts";

/**
 * carrier/suspend_carrier (the compliance agent): suspends a carrier from tendering with a
 * party block (the core's freight_party_block_set: reason insurance or out_of_service,
 * event freight.party.blocked) and notifies the carrier (carrier.compliance.suspended: ids,
 * reason, dates; no names). Every tendering, dispatch and payment function refuses a
 * blocked carrier (party_blocked). Reversible: reinstate_carrier clears that block.
 */
export const suspendCarrier = defineAction(contract.actions.suspend_carrier, {
  permission: "freight.block.manage",
  detect: (tx, input) => carrierBlockState(tx, input.carrier_party_id, input.reason),
  decide: (input, f) => {
    requireBlockable(f, input.reason);
    const note = suspensionNote(input.reason === "out_of_service" ? { reason: "out_of_service" } : { reason: "insurance", kind: input.kind ?? "auto_liability", covered_until: input.covered_until ?? null });
    return { ...input, note };
  },
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_party_block_set(${d.carrier_party_id}, ${d.reason}, ${d.note}) as id`;
    const result: Suspension = { block_id: row.id, carrier_party_id: d.carrier_party_id, reason: d.reason, note: d.note };
    return {
      writes: [],
      result,
      events: [{
        type: "carrier.compliance.suspended", aggregateType: "carrier", aggregateId: d.carrier_party_id,
        payload: { recipient_party_id: d.carrier_party_id, block_id: row.id, reason: d.reason, kind: d.kind ?? null, covered_until: d.covered_until ?? null },
      }],
    };
  },
  prove: async (sql, r) => {
    const [b] = await sql`select reason, cleared_at from public.party_blocks where id = ${r.block_id}`;
    const ok = b?.reason === r.reason && b.cleared_at === null;
    return { ok, detail: ok ? `carrier ${r.carrier_party_id} suspended (${r.reason})` : `block ${r.block_id} not active` };
  },
  reverse: { action: reinstateCarrier, input: ({ result }) => ({ block_id: result.block_id, clear_reason: "agent suspension reverted" }) },
});
