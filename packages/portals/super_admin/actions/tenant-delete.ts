import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * super_admin/tenant_delete: deletes a tenant and its rows, only when it is suspended, was
 * exported since and its grace period (superAdmin.deleteGraceDays) has passed:
 * tenant_delete_refused otherwise, the detail naming what is missing.
 */
export const tenantDelete = defineAction(contract.actions.tenant_delete, {
  permission: "platform.tenants.manage",
  humansOnly: "Deleting a tenant is a person's act",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    await tx`select app_private.super_admin_tenant_delete(${d.tenant_id})`;
    return {
      writes: [], result: { tenant_id: d.tenant_id, deleted: true as const },
      events: [{ type: "super_admin.tenant.deleted", aggregateType: "tenant", aggregateId: d.tenant_id, payload: { tenant_id: d.tenant_id } }],
    };
  },
  prove: async (sql, r) => {
    const [t] = await sql`select id from public.tenants where id = ${r.tenant_id}`;
    return { ok: !t, detail: t ? `tenant ${r.tenant_id} still there` : `tenant ${r.tenant_id} deleted` };
  },
});
