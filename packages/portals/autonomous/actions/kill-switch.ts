import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

/**
 * autonomous/kill_switch: the charter's stop and resume (§3, the runbook), as a human holding
 * flags.emergency_stop.write globally: exactly the charter's one UPDATE of the global
 * autonomy.emergencyStop row, the reason in app.reason (flag history and audit). Control
 * rails: no rate limit, budget, portal flag or required idempotency key can make a halt fail.
 */
export const killSwitch = defineAction(contract.actions.kill_switch, {
  permission: "flags.emergency_stop.write",
  rails: "control",
  humansOnly: "The kill switch is pressed by humans (machines: the charter's SQL as break-glass)",
  detect: async (tx) => {
    const [r] = await tx`select app_private.has_permission(null, 'flags.emergency_stop.write') as global`;
    return { global: r.global === true };
  },
  decide: (input, facts) => {
    if (!facts.global) throw new ActionRefused(refuse("forbidden", { detail: "This needs flags.emergency_stop.write (global)", permission: "flags.emergency_stop.write" }));
    return input;
  },
  act: async (tx, d, ctx) => {
    await tx`select set_config('app.reason', ${d.reason}, true)`;
    const updated = d.engage
      ? await tx`update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global'`
      : await tx`update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global'`;
    if (updated.count !== 1) {
      throw new ActionRefused(refuse("conflict", { detail: "The global autonomy.emergencyStop row is missing: run the charter's switchboard SQL" }));
    }
    return {
      writes: [],
      result: { emergency_stop: d.engage, reason: d.reason },
      events: [{
        type: d.engage ? "autonomous.kill_switch.engaged" : "autonomous.kill_switch.released",
        aggregateType: "feature_flag",
        aggregateId: "autonomy.emergencyStop",
        payload: { emergency_stop: d.engage, reason: d.reason, principal_kind: ctx.principal.kind },
      }],
    };
  },
  prove: async (sql, r) => {
    const [row] = await sql`select public.flag_value('autonomy.emergencyStop') as value`;
    const ok = row?.value === r.emergency_stop;
    return { ok, detail: `autonomy.emergencyStop is ${row?.value}` };
  },
});
