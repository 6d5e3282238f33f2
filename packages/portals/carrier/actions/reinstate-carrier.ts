import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";

/**
 * carrier/reinstate_carrier: clears a party block with a reason (the core's
 * freight_party_block_clear keeps cleared_by and clear_reason; event freight.party.unblocked)
 * and tells the carrier (carrier.compliance.reinstated). The undo of suspend_carrier, and
 * staff's once a renewed certificate is on file.
 */
export const reinstateCarrier = defineAction(contract.actions.reinstate_carrier, {
  permission: "freight.block.manage",
  detect: async (tx, input) => {
    const [b] = await tx`select party_id, cleared_at from public.party_blocks where id = ${input.block_id}`;
    return b ?? null;
  },
  decide: (input, b) => {
    if (!b) throw new ActionRefused(refuse("not_found", { detail: "No such block in this tenant" }));
    if (b.cleared_at) throw new ActionRefused(refuse("revert_state_changed", { detail: `The block was cleared already at ${new Date(b.cleared_at).toISOString()}` }));
    return { ...input, party: b.party_id as string };
  },
  act: async (tx, d) => {
    await tx`select app_private.freight_party_block_clear(${d.block_id}, ${d.clear_reason})`;
    return {
      writes: [],
      result: { block_id: d.block_id, carrier_party_id: d.party, cleared: true },
      events: [{ type: "carrier.compliance.reinstated", aggregateType: "carrier", aggregateId: d.party, payload: { recipient_party_id: d.party, block_id: d.block_id } }],
    };
  },
  prove: async (sql, r) => {
    const [b] = await sql`select cleared_at from public.party_blocks where id = ${r.block_id}`;
    return { ok: !!b?.cleared_at, detail: b?.cleared_at ? `block ${r.block_id} cleared` : `block ${r.block_id} still active` };
  },
});
