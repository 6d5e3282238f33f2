import { contract, type ContractLane } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** carrier/contract_lanes: the lanes the caller's company runs at an agreed buy rate, still valid unless asked for all (party RLS). */
export const contractLanes = defineAction(contract.actions.contract_lanes, {
  permission: "freight.carrier.read",
  detect: async (tx, input) =>
    await tx`select id, origin_city, origin_region, destination_city, destination_region, equipment_type, rate_cents, currency,
                    trucks_per_week, to_char(valid_from, 'YYYY-MM-DD') as valid_from, to_char(valid_to, 'YYYY-MM-DD') as valid_to
             from public.carrier_contract_lanes
             where carrier_party_id = any(app_private.party_ids('carrier')) and (${input.include_expired}::boolean or valid_to >= current_date)
             order by origin_region, destination_region, equipment_type, valid_from`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      lanes: rows.map((l): ContractLane => ({
        lane_id: l.id, origin_city: l.origin_city, origin_region: l.origin_region, destination_city: l.destination_city,
        destination_region: l.destination_region, equipment_type: l.equipment_type, rate_cents: Number(l.rate_cents), currency: l.currency,
        trucks_per_week: l.trucks_per_week, valid_from: l.valid_from, valid_to: l.valid_to,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.lanes.length} contract lanes` }),
});
