import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** owner_operator/odometer_set: a unit's odometer reading (never backwards: bad_request). */
export const odometerSet = defineAction(contract.actions.odometer_set, {
  permission: "owner_operator.maintenance.write",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.owner_operator_odometer_set(${d.unit_id}, ${d.odometer_miles}) as r`;
    return { writes: [], events: [], result: { ...row.r, odometer_miles: Number(row.r.odometer_miles) } };
  },
  prove: async (sql, r) => {
    const [u] = await sql`select odometer_miles from public.owner_operator_units where unit_id = ${r.unit_id}`;
    return { ok: Number(u?.odometer_miles) === r.odometer_miles, detail: `unit ${r.unit_id} at ${r.odometer_miles} mi` };
  },
});
