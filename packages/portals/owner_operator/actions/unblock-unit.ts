import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";

/** owner_operator/unblock_unit: clears an overdue-service block with a reason (the unit is active again); the undo of block_unit. */
export const unblockUnit = defineAction(contract.actions.unblock_unit, {
  permission: "owner_operator.unit.block",
  detect: async (tx, input) => {
    const [b] = await tx`select cleared_at from public.owner_operator_unit_blocks where id = ${input.block_id}`;
    return b ?? null;
  },
  decide: (input, b) => {
    if (!b) throw new ActionRefused(refuse("not_found", { detail: "No such unit block in this tenant" }));
    if (b.cleared_at) throw new ActionRefused(refuse("revert_state_changed", { detail: `The block was cleared already at ${new Date(b.cleared_at).toISOString()}` }));
    return input;
  },
  act: async (tx, d) => {
    const [row] = await tx`select app_private.owner_operator_unit_unblock(${d.block_id}, ${d.clear_reason}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [b] = await sql`select cleared_at from public.owner_operator_unit_blocks where id = ${r.block_id}`;
    return { ok: !!b?.cleared_at, detail: b?.cleared_at ? `unit ${r.unit_id} unblocked` : `block ${r.block_id} still active` };
  },
});
