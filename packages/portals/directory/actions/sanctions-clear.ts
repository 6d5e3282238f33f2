import { type BlockResult, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";

/**
 * directory/sanctions_clear: a human lifts a sanctions block with a reason (the core's
 * freight_party_block_clear keeps who and why; Postgres refuses a machine:
 * sanctions_clear_human). Event freight.party.unblocked.
 */
export const sanctionsClear = defineAction(contract.actions.sanctions_clear, {
  permission: "freight.block.manage",
  humansOnly: "A sanctions block is cleared by a person",
  detect: async (tx, input) => {
    const [b] = await tx`select party_id, reason, cleared_at from public.party_blocks where id = ${input.block_id}`;
    return b ?? null;
  },
  decide: (input, b) => {
    if (!b || b.reason !== "sanctions") throw new ActionRefused(refuse("not_found", { detail: "No such sanctions block in this tenant" }));
    if (b.cleared_at) throw new ActionRefused(refuse("revert_state_changed", { detail: `The block was cleared already at ${new Date(b.cleared_at).toISOString()}` }));
    return { ...input, party_id: b.party_id as string };
  },
  act: async (tx, d) => {
    await tx`select app_private.freight_party_block_clear(${d.block_id}, ${d.clear_reason})`;
    const result: BlockResult = { block_id: d.block_id, party_id: d.party_id, reason: "sanctions", cleared: true };
    return { writes: [], result, events: [] };
  },
  prove: async (sql, r) => {
    const [b] = await sql`select cleared_at from public.party_blocks where id = ${r.block_id}`;
    return { ok: !!b?.cleared_at, detail: b?.cleared_at ? `sanctions block ${r.block_id} cleared` : `block ${r.block_id} still active` };
  },
});
