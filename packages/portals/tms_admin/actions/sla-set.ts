import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { slaPolicy } from "../domain/policy.ts";
import { tenantScope } from "../domain/sla.ts";

/**
 * tms_admin/sla_set: one SLA policy value for the tenant (a tenant-scoped flag row, under
 * the flags' RLS: freight.settings.manage). Postgres checks the value against the flag's
 * bounds (bad_flag_value); the reason goes to the flag history and the audit row.
 */
export const slaSet = defineAction(contract.actions.sla_set, {
  permission: "tms_admin.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const scope = tenantScope(ctx.tenantId);
    await tx`select set_config('app.reason', ${d.reason}, true)`;
    await tx`insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
             values (${d.key}, ${scope}, ${String(d.value)}, ${d.reason}, 'tms_admin')
             on conflict (key, scope) do update set value = excluded.value, reason = excluded.reason`;
    const [policy] = await slaPolicy(tx, ctx.tenantId, [d.key]);
    return {
      writes: [],
      result: { policy },
      events: [{ type: "tms_admin.sla_policy.changed", aggregateType: "feature_flag", aggregateId: `${d.key}@${scope}`,
                 payload: { key: d.key, scope, value: policy.value } }],
    };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select value from public.feature_flags_typed where key = ${r.policy.key} and scope = ${tenantScope(ctx.tenantId)}`;
    const ok = !!row && Number(row.value) === r.policy.value;
    return { ok, detail: ok ? `${r.policy.key} is ${r.policy.value} for the tenant` : `${r.policy.key} not as written` };
  },
});
