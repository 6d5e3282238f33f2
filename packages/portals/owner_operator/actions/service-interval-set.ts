import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** owner_operator/service_interval_set: a unit's interval by miles and / or days, from today and its odometer (its own units only). */
export const serviceIntervalSet = defineAction(contract.actions.service_interval_set, {
  permission: "owner_operator.maintenance.write",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.owner_operator_service_interval_set(${d.unit_id}, ${d.service_kind}, ${d.every_miles ?? null}, ${d.every_days ?? null}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [i] = await sql`select 1 from public.owner_operator_service_intervals where id = ${r.interval_id}`;
    return { ok: !!i, detail: `${r.service_kind} on unit ${r.unit_id}` };
  },
});
