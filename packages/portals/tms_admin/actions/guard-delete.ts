import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

/** tms_admin/guard_delete: removes a Rates pricing guard (its row audit keeps what it was). */
export const guardDelete = defineAction(contract.actions.guard_delete, {
  permission: "tms_admin.manage",
  detect: async (tx, input) => {
    const [row] = await tx`select id from public.rates_guards where id = ${input.id}`;
    if (!row) throw new ActionRefused(refuse("not_found", { detail: "No such guard in this tenant" }));
    return row.id as string;
  },
  decide: (_input, id) => id,
  act: (tx, id) => ({
    writes: [tx`delete from public.rates_guards where id = ${id}`],
    result: { guard_id: id, deleted: true },
    events: [{ type: "tms_admin.guard.deleted", aggregateType: "rates_guard", aggregateId: id, payload: { guard_id: id } }],
  }),
  prove: async (sql, r) => {
    const [row] = await sql`select 1 from public.rates_guards where id = ${r.guard_id}`;
    return { ok: !row, detail: row ? `guard ${r.guard_id} still there` : `guard ${r.guard_id} deleted` };
  },
});
