import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { carrierOf, evented } from "../party.ts";

/**
 * carrier/capacity_set: the trucks the carrier offers on a lane (origin and destination
 * region, equipment) on a day; 0 removes it (app_private.carrier_capacity_set: its own
 * party only, today or later: capacity_date_past). Event carrier.capacity.updated.
 */
export const capacitySet = defineAction(contract.actions.capacity_set, {
  permission: "carrier.capacity.write",
  detect: (tx, input) => carrierOf(tx, input.carrier_party_id),
  decide: (input, party) => ({ ...input, party }),
  act: async (tx, d) => {
    const [row] = await tx`select app_private.carrier_capacity_set(${d.party}, ${d.origin_region}, ${d.destination_region},
                                                                   ${d.equipment_type}, ${d.available_on}::date, ${d.trucks}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select coalesce(sum(trucks), 0)::int as trucks from public.carrier_capacity
                            where carrier_party_id = ${r.carrier_party_id} and origin_region = ${r.origin_region}
                              and destination_region = ${r.destination_region} and equipment_type = ${r.equipment_type}
                              and available_on = ${r.available_on}::date`;
    const ok = row.trucks === r.trucks && await evented(sql, ctx.traceId, "carrier.capacity.updated", r.carrier_party_id);
    return { ok, detail: ok ? `${r.trucks} trucks ${r.origin_region}-${r.destination_region} on ${r.available_on}` : `capacity is ${row.trucks}, not ${r.trucks}` };
  },
});
