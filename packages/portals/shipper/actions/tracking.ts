import { contract, type TrackingResult } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { timeline, type TimelineRow } from "../domain/timeline.ts";

const LOCAL = 'YYYY-MM-DD"T"HH24:MI:SS';

/**
 * shipper/tracking: a load's status, stops (windows and actuals in facility time) and
 * timeline, and the messages sent to its shipper. Read under the caller's RLS: a shipper
 * user sees its own party's loads only (another's is not found), and nothing financial.
 */
export const tracking = defineAction(contract.actions.tracking, {
  permission: "freight.shipper.read",
  detect: async (tx, input) => {
    const [load] = await tx`
      select id, reference, status, exception, exception_reason, equipment_type from public.loads where id = ${input.load_id}`;
    if (!load) return null;
    const [stops, events, messages] = await Promise.all([
      // wall-clock times as text: a timestamp without zone would come back as a Date read in UTC
      tx`select id, sequence, kind, facility_name, time_zone,
                to_char(window_start_local, ${LOCAL}) as window_start_local, to_char(window_end_local, ${LOCAL}) as window_end_local,
                to_char(actual_arrival_local, ${LOCAL}) as actual_arrival_local, to_char(actual_departure_local, ${LOCAL}) as actual_departure_local
         from public.stops_local where load_id = ${input.load_id} order by sequence`,
      tx`select e.kind, e.status_code, c.description as code_description, e.from_status, e.to_status, e.occurred_at,
                s.sequence as stop_sequence, f.time_zone, e.city, e.region
         from public.load_events e
         left join public.x12_214_status_codes c on c.code = e.status_code
         left join public.stops s on s.id = e.stop_id
         left join public.facilities f on f.id = s.facility_id
         where e.load_id = ${input.load_id}`,
      tx`select id, kind, body, status, created_at from public.load_messages
         where load_id = ${input.load_id} and audience = 'shipper' order by created_at`,
    ]);
    return { load, stops, events: events as unknown as TimelineRow[], messages };
  },
  decide: (_input, f) => {
    if (!f) throw new ActionRefused(refuse("not_found", { detail: "No such load for this caller" }));
    return f;
  },
  act: (_tx, f) => ({
    writes: [],
    events: [],
    result: {
      load: { load_id: f.load.id, reference: f.load.reference, status: f.load.status, exception: f.load.exception,
              exception_reason: f.load.exception_reason, equipment_type: f.load.equipment_type },
      stops: f.stops.map((s) => ({
        stop_id: s.id, sequence: s.sequence, kind: s.kind, facility: s.facility_name, time_zone: s.time_zone,
        window_start_local: s.window_start_local, window_end_local: s.window_end_local,
        actual_arrival_local: s.actual_arrival_local, actual_departure_local: s.actual_departure_local,
      })),
      timeline: timeline(f.events),
      messages: f.messages.map((m) => ({ message_id: m.id, kind: m.kind, body: m.body, status: m.status, sent_at: new Date(m.created_at).toISOString() })),
    } satisfies TrackingResult,
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `load ${r.load.load_id}: ${r.timeline.length} timeline entries` }),
});
