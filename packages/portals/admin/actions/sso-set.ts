import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { jsonb } from "../../../shared/db/client.ts";

/**
 * admin/sso_set: require SSO (or not) with the provider's metadata (aal2). From the next
 * request, a human token of the tenant without an sso amr entry is refused sso_required.
 */
export const ssoSet = defineAction(contract.actions.sso_set, {
  permission: "tenant.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    await tx`select app_private.admin_sso_set(${ctx.tenantId}, ${d.required}, ${jsonb(tx, d.provider)})`;
    return {
      writes: [],
      result: { sso_required: d.required },
      events: [{ type: "admin.sso.updated", aggregateType: "tenant", aggregateId: ctx.tenantId,
                 payload: { sso_required: d.required, protocol: d.provider?.protocol ?? null } }],
    };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select sso_required from public.admin_tenant_settings where tenant_id = ${ctx.tenantId}`;
    return { ok: row?.sso_required === r.sso_required, detail: `sso_required is ${row?.sso_required}` };
  },
});
