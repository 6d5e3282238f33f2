import { contract, type Provisioned } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * super_admin/tenant_provision: a tenant in one transaction (app_private.super_admin_tenant_provision):
 * the tenant, portal.enabled for each of the 20 portals (on for those named), its budget
 * flags, a first tenant_admin invite (its token answered once, only the sha256 kept) and its
 * default webhook subscriptions (a fresh signing secret each, in Vault).
 */
export const tenantProvision = defineAction(contract.actions.tenant_provision, {
  permission: "platform.tenants.manage",
  humansOnly: "Provisioning a tenant is a person's act",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.super_admin_tenant_provision(${tx.json(d)}) as r`;
    const r = row.r as Provisioned;
    const result: Provisioned = { ...r, invite_expires_at: new Date(r.invite_expires_at).toISOString() };
    return {
      writes: [], result,
      events: [{ type: "super_admin.tenant.provisioned", aggregateType: "tenant", aggregateId: r.tenant_id,
                 payload: { tenant_id: r.tenant_id, portals: d.portals, subscriptions: r.subscriptions.length } }],
    };
  },
  prove: async (sql, r) => {
    const [t] = await sql`select t.status, l.admin_principal_id from public.tenants t join public.tenant_lifecycle l on l.tenant_id = t.id where t.id = ${r.tenant_id}`;
    const ok = t?.status === "active" && t.admin_principal_id === r.admin_principal_id;
    return { ok, detail: ok ? `tenant ${r.tenant_id} provisioned` : `tenant ${r.tenant_id} not as answered` };
  },
});
