import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { memberEvent, provedRoles } from "../proofs.ts";

/** admin/set_roles: a member's tenant roles replaced (aal2; never one's own; tenant roles only). */
export const setRoles = defineAction(contract.actions.set_roles, {
  permission: "members.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [r] = await tx`select app_private.admin_set_roles(${ctx.tenantId}, ${d.principal_id}, ${d.roles}) as roles`;
    const m = { principal_id: d.principal_id, roles: r.roles as string[] };
    return { writes: [], result: m, events: [memberEvent("admin.member.roles_changed", m)] };
  },
  prove: (sql, m, ctx) => provedRoles(sql, ctx, m),
});
