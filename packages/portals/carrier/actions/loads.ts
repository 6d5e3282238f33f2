import { type CarrierLoad, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * carrier/loads: the loads the caller's company covers (party RLS on loads and stops), on
 * their way (covered .. delivered) or all, with the assigned driver and units and each
 * stop's window in its facility's time. Loads carry no money.
 */
export const loads = defineAction(contract.actions.loads, {
  permission: "freight.carrier.read",
  detect: async (tx, input) =>
    await tx`select l.id, l.reference, l.status, l.exception, l.equipment_type, l.driver_id, l.tractor_id, l.trailer_id,
                    coalesce((select json_agg(json_build_object('sequence', s.sequence, 'kind', s.kind, 'city', f.city, 'region', f.region,
                                'time_zone', f.time_zone,
                                'window_start_local', to_char(lower(s.appointment) at time zone f.time_zone, 'YYYY-MM-DD"T"HH24:MI:SS'),
                                'window_end_local', to_char(upper(s.appointment) at time zone f.time_zone, 'YYYY-MM-DD"T"HH24:MI:SS'))
                              order by s.sequence)
                              from public.stops s join public.facilities f on f.id = s.facility_id where s.load_id = l.id), '[]') as stops
             from public.loads l
             where l.carrier_party_id = any(app_private.party_ids('carrier'))
               and (${input.status} = 'all' or l.status in ('covered', 'dispatched', 'at_pickup', 'picked_up', 'in_transit', 'at_delivery', 'delivered'))
             order by l.updated_at desc limit 200`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      loads: rows.map((l): CarrierLoad => ({
        load_id: l.id, reference: l.reference, status: l.status, exception: l.exception, equipment_type: l.equipment_type,
        driver_id: l.driver_id, tractor_id: l.tractor_id, trailer_id: l.trailer_id, stops: l.stops,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.loads.length} loads` }),
});
