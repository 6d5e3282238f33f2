import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { memberEvent, provedRoles } from "../proofs.ts";

/** admin/reactivate: a deactivated member gets the roles it held back (aal2, not oneself). */
export const reactivate = defineAction(contract.actions.reactivate, {
  permission: "members.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [r] = await tx`select app_private.admin_reactivate(${ctx.tenantId}, ${d.principal_id}) as roles`;
    const m = { principal_id: d.principal_id, roles: r.roles as string[] };
    return { writes: [], result: m, events: [memberEvent("admin.member.reactivated", m)] };
  },
  prove: (sql, m, ctx) => provedRoles(sql, ctx, m),
});
