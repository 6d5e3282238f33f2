import { type BlockResult, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";

/** directory/carrier_unblock: clears an authority or insurance block with a reason (the undo of carrier_block). */
export const carrierUnblock = defineAction(contract.actions.carrier_unblock, {
  permission: "freight.block.manage",
  detect: async (tx, input) => {
    const [b] = await tx`select party_id, reason, cleared_at from public.party_blocks where id = ${input.block_id}`;
    return b ?? null;
  },
  decide: (input, b) => {
    if (!b || !["authority", "insurance"].includes(b.reason)) throw new ActionRefused(refuse("not_found", { detail: "No such authority or insurance block in this tenant" }));
    if (b.cleared_at) throw new ActionRefused(refuse("revert_state_changed", { detail: `The block was cleared already at ${new Date(b.cleared_at).toISOString()}` }));
    return { ...input, party_id: b.party_id as string, reason: b.reason as string };
  },
  act: async (tx, d) => {
    await tx`select app_private.freight_party_block_clear(${d.block_id}, ${d.clear_reason})`;
    const result: BlockResult = { block_id: d.block_id, party_id: d.party_id, reason: d.reason, cleared: true };
    return { writes: [], result, events: [] };
  },
  prove: async (sql, r) => {
    const [b] = await sql`select cleared_at from public.party_blocks where id = ${r.block_id}`;
    return { ok: !!b?.cleared_at, detail: b?.cleared_at ? `block ${r.block_id} cleared` : `block ${r.block_id} still active` };
  },
});
