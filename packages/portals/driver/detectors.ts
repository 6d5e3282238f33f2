import { defineDetector } from "../../shared/pipeline/detector.ts";
import { flagEtaRisk } from "./actions/flag-eta-risk.ts";
import { podMissing } from "./actions/pod-missing.ts";
import { estimate, etaReason, type Ping, zipCentroid } from "./domain/eta.ts";

/**
 * ETA slipping: a load on its trip, not flagged, whose next stop has no arrival and whose
 * driver's pings of the last hour project an ETA (remaining distance / recent speed,
 * domain/eta.ts) later than the window end minus driver.etaMarginMinutes -> exception +
 * shipper notice, before the window passes. One task per load and stop.
 */
export const etaRisk = defineDetector({
  portal: "driver",
  name: "eta_risk",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      select l.id as load_id, s.id as stop_id, s.sequence, upper(s.appointment) as window_end, f.postal_code,
             (public.flag_value('driver.etaMarginMinutes', ${tenantId}::uuid))::text::int as margin,
             (select json_agg(json_build_object('at', p.recorded_at, 'lat', p.lat, 'lon', p.lon, 'speed_mph', p.speed_mph))
                from (select * from public.driver_positions p where p.load_id = l.id and p.recorded_at > now() - interval '1 hour'
                      order by p.recorded_at desc limit 10) p) as pings
      from public.loads l
      join lateral (select * from public.stops s where s.load_id = l.id and s.actual_arrival_at is null order by s.sequence limit 1) s on true
      join public.facilities f on f.id = s.facility_id
      where l.tenant_id = ${tenantId} and not l.exception and l.driver_id is not null
        and l.status in ('dispatched', 'at_pickup', 'picked_up', 'in_transit', 'at_delivery')
        and upper(s.appointment) > now()
      order by upper(s.appointment) limit 100`;
    return rows.flatMap((r) => {
      const destination = zipCentroid(r.postal_code);
      if (!destination || !r.pings) return [];
      const pings = (r.pings as { at: string; lat: number; lon: number; speed_mph: number | null }[]).map((p): Ping => ({ ...p, at: new Date(p.at) }));
      const windowEnd = new Date(r.window_end);
      const e = estimate({ pings, destination, windowEnd, marginMinutes: r.margin });
      if (!e?.atRisk) return [];
      return [{ action: flagEtaRisk, key: `eta-risk:${r.load_id}:${r.stop_id}`, input: { load_id: r.load_id, stop_id: r.stop_id, reason: etaReason(r.sequence, e.eta, windowEnd), eta: e.eta.toISOString() } }];
    });
  },
});

/**
 * POD missing: a load delivered more than driver.podMissingHours ago with no POD -> a task
 * for the dispatcher's queue (driver.pod_missing). One per load.
 */
export const podMissingAgent = defineDetector({
  portal: "driver",
  name: "pod_missing",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      select l.id, l.status_changed_at from public.loads l
      where l.tenant_id = ${tenantId} and l.status = 'delivered'
        and l.status_changed_at < now() - make_interval(hours => (public.flag_value('driver.podMissingHours', ${tenantId}::uuid))::text::int)
        and not exists (select 1 from public.driver_pods p where p.load_id = l.id)
        -- asked once (a reverted ask blocks the key by itself)
        and not exists (select 1 from public.action_runs r where r.tenant_id = l.tenant_id and r.portal = 'driver'
                          and r.task_key = 'pod-missing:' || l.id)
      order by l.status_changed_at limit 50`;
    return rows.map((r) => ({ action: podMissing, key: `pod-missing:${r.id}`, input: { load_id: r.id, delivered_at: new Date(r.status_changed_at).toISOString() } }));
  },
});
