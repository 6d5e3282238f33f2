import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { memberEvent, provedRoles } from "../proofs.ts";

/**
 * admin/deactivate: the member's roles in the tenant are taken away (kept for reactivation),
 * so every permission check of its next request refuses. Answers the roles it held.
 */
export const deactivate = defineAction(contract.actions.deactivate, {
  permission: "members.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [r] = await tx`select app_private.admin_deactivate(${ctx.tenantId}, ${d.principal_id}, ${d.reason}) as roles`;
    const m = { principal_id: d.principal_id, roles: r.roles as string[] };
    return { writes: [], result: m, events: [memberEvent("admin.member.deactivated", m)] };
  },
  prove: (sql, m, ctx) => provedRoles(sql, ctx, m, []),
});
