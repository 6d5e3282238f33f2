import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** owner_operator/miles_record: loaded and empty miles of one of its loads (app_private.owner_operator_miles_record: its own loads only). */
export const milesRecord = defineAction(contract.actions.miles_record, {
  permission: "owner_operator.maintenance.write",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.owner_operator_miles_record(${d.load_id}, ${d.loaded_miles}, ${d.empty_miles}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [m] = await sql`select loaded_miles from public.owner_operator_load_miles where load_id = ${r.load_id}`;
    return { ok: m?.loaded_miles === r.loaded_miles, detail: `load ${r.load_id}: ${r.loaded_miles} loaded miles` };
  },
});
