import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** admin/branding_set: name, logo and colours (Postgres' CHECKs: bad_branding). */
export const brandingSet = defineAction(contract.actions.branding_set, {
  permission: "tenant.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, b, ctx) => {
    await tx`select app_private.admin_branding_set(${ctx.tenantId}, ${b.display_name}, ${b.logo_url}, ${b.primary_color}, ${b.accent_color})`;
    return { writes: [], result: b, events: [{ type: "admin.branding.updated", aggregateType: "tenant", aggregateId: ctx.tenantId, payload: { ...b } }] };
  },
  prove: async (sql, b, ctx) => {
    const [row] = await sql`select display_name, logo_url, primary_color, accent_color from public.admin_tenant_settings where tenant_id = ${ctx.tenantId}`;
    const ok = !!row && JSON.stringify({ ...row }) === JSON.stringify(b);
    return { ok, detail: ok ? "branding stored" : "branding not as answered" };
  },
});
