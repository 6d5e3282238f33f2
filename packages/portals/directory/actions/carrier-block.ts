import { type BlockResult, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { carrierBlockState, requireBlockable } from "../../../shared/freight/carrier-block.ts";
import { carrierUnblock } from "./carrier-unblock.ts";

/**
 * directory/carrier_block (the census agent): a carrier whose census says its authority or
 * its insurance lapsed gets a party block of that reason (the core's freight_party_block_set:
 * audited, freight.party.blocked): no tender, no dispatch, no payment. Reversible:
 * carrier_unblock clears it with a reason.
 */
export const carrierBlock = defineAction(contract.actions.carrier_block, {
  permission: "freight.block.manage",
  detect: (tx, input) => carrierBlockState(tx, input.carrier_party_id, input.reason),
  decide: (input, f) => {
    requireBlockable(f, input.reason);
    return input;
  },
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_party_block_set(${d.carrier_party_id}, ${d.reason}, ${d.note}) as id`;
    const result: BlockResult = { block_id: row.id, party_id: d.carrier_party_id, reason: d.reason, cleared: false };
    return { writes: [], result, events: [] };
  },
  prove: async (sql, r) => {
    const [b] = await sql`select reason, cleared_at from public.party_blocks where id = ${r.block_id}`;
    const ok = b?.reason === r.reason && b.cleared_at === null;
    return { ok, detail: ok ? `carrier ${r.party_id} blocked (${r.reason})` : `block ${r.block_id} not active` };
  },
  reverse: { action: carrierUnblock, input: ({ result }) => ({ block_id: result.block_id, clear_reason: "agent census block reverted" }) },
});
