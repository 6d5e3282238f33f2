import type { Sql } from "../../shared/db/client.ts";
import type { ActionContext, EventSpec, ProveResult } from "../../shared/pipeline/action.ts";

/** The member's roles in the tenant now (the owner's read, after commit). */
export async function rolesNow(sql: Sql, tenantId: string, principalId: string): Promise<string[]> {
  const rows = await sql`select role from public.role_assignments where tenant_id = ${tenantId} and principal_id = ${principalId} order by role`;
  return rows.map((r) => r.role as string);
}

/** A member's roles are as answered. */
export async function provedRoles(sql: Sql, ctx: ActionContext, m: { principal_id: string; roles: string[] }, expected = m.roles): Promise<ProveResult> {
  const now = await rolesNow(sql, ctx.tenantId, m.principal_id);
  const ok = JSON.stringify(now) === JSON.stringify([...expected].sort());
  return { ok, detail: `principal ${m.principal_id} holds ${now.join(", ") || "no role"}` };
}

export const memberEvent = (type: string, m: { principal_id: string; roles: string[] }): EventSpec => ({
  type, aggregateType: "member", aggregateId: m.principal_id, payload: { principal_id: m.principal_id, roles: m.roles },
});
