import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { unblockUnit } from "./unblock-unit.ts";

/**
 * owner_operator/block_unit (the maintenance agent): a unit overdue for service is blocked
 * (app_private.owner_operator_unit_block: equipment.status blocked, so the core's dispatch
 * refuses it with asset_blocked; audited, event owner_operator.unit.blocked). Reversible:
 * unblock_unit clears that block.
 */
export const blockUnit = defineAction(contract.actions.block_unit, {
  permission: "owner_operator.unit.block",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.owner_operator_unit_block(${d.unit_id}, ${d.reason}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [e] = await sql`select status from public.equipment where id = ${r.unit_id}`;
    return { ok: e?.status === "blocked", detail: `unit ${r.unit_id} is ${e?.status}` };
  },
  reverse: { action: unblockUnit, input: ({ result }) => ({ block_id: result.block_id, clear_reason: "agent block reverted" }) },
});
