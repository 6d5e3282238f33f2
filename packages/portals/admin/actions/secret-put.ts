import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * admin/secret_put: a new version of a tenant secret into Vault; the previous one stays valid
 * for the overlap. Write-only: nothing answers a value (no API role reads Vault), and the
 * value is in no event, log or span.
 */
export const secretPut = defineAction(contract.actions.secret_put, {
  permission: "integrations.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [r] = await tx`select app_private.admin_secret_put(${ctx.tenantId}, ${d.name}, ${d.value}, make_interval(hours => ${d.overlap_hours})) as version`;
    const result = { name: d.name, version: r.version as number };
    return { writes: [], result, events: [{ type: "admin.secret.rotated", aggregateType: "tenant_secret", aggregateId: `${ctx.tenantId}:${d.name}`, payload: result }] };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select count(*)::int as n from public.admin_secrets
                            where tenant_id = ${ctx.tenantId} and name = ${r.name} and version = ${r.version} and valid_until is null`;
    return { ok: row.n === 1, detail: `${r.name} v${r.version} current` };
  },
});
