import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * super_admin/tenant_suspend: suspend (every write in the tenant refused by the rails guard:
 * tenant_suspended, humans and machines, every door) or resume, with a reason; data kept.
 */
export const tenantSuspend = defineAction(contract.actions.tenant_suspend, {
  permission: "platform.tenants.manage",
  humansOnly: "Suspending a tenant is a person's act",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.super_admin_tenant_suspend(${d.tenant_id}, ${d.suspend}, ${d.reason}) as status`;
    return {
      writes: [], result: { tenant_id: d.tenant_id, status: row.status },
      events: [{ type: d.suspend ? "super_admin.tenant.suspended" : "super_admin.tenant.resumed", aggregateType: "tenant", aggregateId: d.tenant_id, payload: { tenant_id: d.tenant_id } }],
    };
  },
  prove: async (sql, r) => {
    const [t] = await sql`select status from public.tenants where id = ${r.tenant_id}`;
    return { ok: t?.status === r.status, detail: `tenant ${r.tenant_id} ${t?.status}` };
  },
});
