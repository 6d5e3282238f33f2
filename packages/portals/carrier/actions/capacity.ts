import { type Capacity, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** carrier/capacity: the caller's company's trucks by lane and day (party RLS), from today (or `from`) to `to`. */
export const capacity = defineAction(contract.actions.capacity, {
  permission: "freight.carrier.read",
  detect: async (tx, input) =>
    await tx`select id, carrier_party_id, origin_region, destination_region, equipment_type, to_char(available_on, 'YYYY-MM-DD') as available_on, trucks
             from public.carrier_capacity
             where carrier_party_id = any(app_private.party_ids('carrier'))
               and available_on >= coalesce(${input.from ?? null}::date, current_date)
               and (${input.to ?? null}::date is null or available_on <= ${input.to ?? null}::date)
             order by available_on, origin_region, destination_region, equipment_type limit 500`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      capacity: rows.map((c): Capacity => ({
        capacity_id: c.id, carrier_party_id: c.carrier_party_id, origin_region: c.origin_region, destination_region: c.destination_region,
        equipment_type: c.equipment_type, available_on: c.available_on, trucks: c.trucks,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.capacity.length} lane-days` }),
});
