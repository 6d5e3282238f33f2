import { contract } from "../contract.ts";
import { jsonb } from "../../../shared/db/client.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** owner_operator/service_record: a service performed on a unit (raises its odometer; resets that interval's due day and miles). */
export const serviceRecord = defineAction(contract.actions.service_record, {
  permission: "owner_operator.maintenance.write",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const { unit_id, ...record } = d;
    const [row] = await tx`select app_private.owner_operator_service_record(${unit_id}, ${jsonb(tx, record)}) as r`;
    return { writes: [], events: [], result: { ...row.r, odometer_miles: Number(row.r.odometer_miles), cost_cents: Number(row.r.cost_cents) } };
  },
  prove: async (sql, r) => {
    const [s] = await sql`select 1 from public.owner_operator_service_records where id = ${r.record_id}`;
    return { ok: !!s, detail: `${r.service_kind} on unit ${r.unit_id} at ${r.odometer_miles} mi` };
  },
});
