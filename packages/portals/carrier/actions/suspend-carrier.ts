import { contract, type Suspension } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
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
  detect: async (tx, input) => {
    const [p] = await tx`select id from public.parties where id = ${input.carrier_party_id} and kind = 'carrier'`;
    const [b] = await tx`select id from public.party_blocks where party_id = ${input.carrier_party_id} and reason = ${input.reason} and cleared_at is null`;
    return { found: !!p, active: (b?.id as string | undefined) ?? null };
  },
  decide: (input, f) => {
    if (!f.found) throw new ActionRefused(refuse("not_found", { detail: "No such carrier in this tenant" }));
    // its undo clears the block: it must be this action's own
    if (f.active) throw new ActionRefused(refuse("conflict", { detail: `The carrier is already blocked for ${input.reason} (block ${f.active})` }));
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
