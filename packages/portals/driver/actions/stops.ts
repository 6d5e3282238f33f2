import { contract, type DriverStop } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * driver/stops: the stops of the loads assigned to the calling driver (the core's party RLS
 * on loads and stops by driver_id: another driver's are not there), on their way or all, in
 * trip order, with the facility, window, actuals and the POD captured.
 */
export const stops = defineAction(contract.actions.stops, {
  permission: "freight.driver.read",
  detect: async (tx, input) =>
    await tx`select s.id as stop_id, s.load_id, l.reference, l.status as load_status, s.sequence, s.kind,
                    json_build_object('name', f.name, 'city', f.city, 'region', f.region, 'postal_code', f.postal_code, 'time_zone', f.time_zone) as facility,
                    lower(s.appointment) as window_start, upper(s.appointment) as window_end, s.actual_arrival_at, s.actual_departure_at,
                    (select p.document_id from public.driver_pods p where p.stop_id = s.id) as pod_document_id
             from public.stops s join public.loads l on l.id = s.load_id join public.facilities f on f.id = s.facility_id
             where l.driver_id = any(app_private.party_ids('driver'))
               and (${input.status} = 'all' or l.status in ('dispatched', 'at_pickup', 'picked_up', 'in_transit', 'at_delivery', 'delivered'))
             order by lower(s.appointment), s.sequence limit 500`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: { stops: rows.map((r): DriverStop => ({ ...(r as unknown as DriverStop), window_start: iso(r.window_start), window_end: iso(r.window_end), actual_arrival_at: isoOrNull(r.actual_arrival_at), actual_departure_at: isoOrNull(r.actual_departure_at) })) },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.stops.length} stops` }),
});

const iso = (d: unknown) => new Date(d as string).toISOString();
const isoOrNull = (d: unknown) => (d == null ? null : iso(d));
