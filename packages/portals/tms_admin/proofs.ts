import type { Sql } from "../../shared/db/client.ts";
import type { ActionContext, ProveResult } from "../../shared/pipeline/action.ts";

/**
 * The settings row is stored as answered (every field the answer names) and its event was
 * published under this trace.
 */
export async function provedRow(sql: Sql, table: string, answered: { id: string }, ctx: ActionContext): Promise<ProveResult> {
  const [row] = await sql`
    select to_jsonb(t) as row,
           exists (select 1 from public.outbox_events e where e.tenant_id = ${ctx.tenantId} and e.aggregate_id = ${answered.id}
                     and e.trace_id = ${ctx.traceId}) as evented
    from ${sql(table)} t where t.id = ${answered.id} and t.tenant_id = ${ctx.tenantId}`;
  const stored = row?.row as Record<string, unknown> | undefined;
  const differs = stored
    ? Object.entries(answered).filter(([k, v]) => k in stored && JSON.stringify(norm(stored[k])) !== JSON.stringify(norm(v))).map(([k]) => k)
    : ["row"];
  const ok = differs.length === 0 && !!row?.evented;
  return { ok, detail: ok ? `${table} ${answered.id} stored` : `${table} ${answered.id}: ${differs.join(", ") || "no event"} not as answered` };
}

// numeric / bigint columns come back from to_jsonb as numbers, the answer may hold strings
const norm = (v: unknown) => (typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? Number(v) : v);
