import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

/**
 * autonomous/flag_set: one switchboard row, as the caller (RLS decides: the key's write
 * permission in the scope's tenant; Postgres validates key, scope and value). The reason
 * goes to the flag history and the audit row. The kill switch has its own action.
 */
export const flagSet = defineAction(contract.actions.flag_set, {
  permission: "domain.read",
  // A switchboard lever: a disabled portal (even this one) must not lock its own flag out.
  rails: "control",
  humansOnly: "Flag changes through this action are for humans",
  detect: () => Promise.resolve(null),
  decide: (input) => {
    if (input.key === "autonomy.emergencyStop") {
      throw new ActionRefused(refuse("validation_failed", {
        detail: "autonomy.emergencyStop is flipped with the kill switch (autonomous/kill_switch)",
        errors: [{ path: "key", message: "use the kill switch" }],
      }));
    }
    return { ...input, value: String(input.value) };
  },
  act: async (tx, d) => {
    await tx`select set_config('app.reason', ${d.reason}, true)`;
    const [{ id }] = await tx`insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
             values (${d.key}, ${d.scope}, ${d.value}, ${d.reason}, 'console')
             on conflict (key, scope) do update set value = excluded.value, reason = excluded.reason
             returning id`;
    const [flag] = await tx`select key, scope, value, reason, updated_at, updated_by from public.feature_flags_typed where id = ${id}`;
    return {
      writes: [],
      result: { flag: flag as never },
      events: [{ type: "autonomous.flag.changed", aggregateType: "feature_flag", aggregateId: `${d.key}@${d.scope}`, payload: { key: d.key, scope: d.scope, value: flag.value, reason: d.reason } }],
    };
  },
  prove: async (sql, r) => {
    const [row] = await sql`select value from public.feature_flags_typed where key = ${r.flag.key} and scope = ${r.flag.scope}`;
    const ok = !!row && JSON.stringify(row.value) === JSON.stringify(r.flag.value);
    return { ok, detail: ok ? `${r.flag.key}@${r.flag.scope} is ${JSON.stringify(r.flag.value)}` : `${r.flag.key}@${r.flag.scope} not as written` };
  },
});
