import type { Tx } from "../../../shared/db/client.ts";
import type { SlaPolicyValue } from "../contract.ts";
import { SLA_KEYS, SLA_POLICY, type SlaKey } from "./sla.ts";

/** The SLA policy's effective values for the tenant (its own row or the global default), with their bounds. */
export async function slaPolicy(tx: Tx, tenantId: string, keys: readonly SlaKey[] = SLA_KEYS): Promise<SlaPolicyValue[]> {
  const rows = await tx`
    select e.key, e.value, e.scope, d.min_value, d.max_value
    from public.flags_effective(${tenantId}::uuid) e join public.flag_definitions d on d.key = e.key
    where e.key = any(${keys as string[]}::text[]) order by e.key`;
  return rows.map((r) => ({
    key: r.key as SlaKey, value: Number(r.value), scope: r.scope, min: Number(r.min_value), max: Number(r.max_value),
    description: SLA_POLICY[r.key as SlaKey],
  }));
}
