import { contract, type Exported } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** super_admin/tenant_export: the tenant's rows of every registered table as JSON; its sha256 is recorded (deletion needs an export). */
export const tenantExport = defineAction(contract.actions.tenant_export, {
  permission: "platform.tenants.manage",
  humansOnly: "Exporting a tenant is a person's act",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.super_admin_tenant_export(${d.tenant_id}) as r`;
    const r = row.r as Omit<Exported, "tenant_id">;
    return {
      writes: [], result: { tenant_id: d.tenant_id, ...r, rows: Number(r.rows), tables: Number(r.tables) },
      events: [{ type: "super_admin.tenant.exported", aggregateType: "tenant", aggregateId: d.tenant_id, payload: { tenant_id: d.tenant_id, sha256: r.sha256, rows: Number(r.rows) } }],
    };
  },
  prove: async (sql, r) => {
    const [l] = await sql`select export_sha256 from public.tenant_lifecycle where tenant_id = ${r.tenant_id}`;
    return { ok: l?.export_sha256 === r.sha256, detail: `tenant ${r.tenant_id} exported (${r.rows} rows)` };
  },
});
