import { defineDetector } from "../../shared/pipeline/detector.ts";
import { flagAppointmentRisk } from "./actions/flag-appointment-risk.ts";
import { retender } from "./actions/retender.ts";
import { appointmentRiskReason } from "./domain/appointment-risk.ts";

/**
 * Tender SLA: an offer (or a counter the broker left) unanswered past its deadline is
 * expired and the load offered to the next carrier by scorecard, in the same tick.
 */
export const tenderSla = defineDetector({
  portal: "broker",
  name: "tender_sla",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      select t.id from public.tenders t join public.loads l on l.id = t.load_id
      where t.tenant_id = ${tenantId} and t.status in ('offered', 'countered') and t.sla_deadline < now() and l.status = 'tendered'
      order by t.sla_deadline limit 20`;
    return rows.map((r) => ({ action: retender, key: `retender:${r.id}`, input: { tender_id: r.id } }));
  },
});

/**
 * Appointment at risk: a load on its trip whose next stop has no arrival, and either its
 * window has closed (the ETA is past it) or no check call came within broker.checkCallMinutes
 * while the window opens within broker.appointmentRiskMinutes: exception flag + shipper notice.
 */
export const appointmentRisk = defineDetector({
  portal: "broker",
  name: "appointment_risk",
  detect: async (tx, tenantId, now) => {
    const rows = await tx`
      select l.id as load_id, s.id as stop_id, s.sequence, f.name as facility, lower(s.appointment) as opens, upper(s.appointment) as closes,
             c.due_at as check_call_due, (public.flag_value('broker.appointmentRiskMinutes', ${tenantId}::uuid))::text::int as horizon
      from public.loads l
      join lateral (select * from public.stops s where s.load_id = l.id and s.actual_arrival_at is null order by s.sequence limit 1) s on true
      join public.facilities f on f.id = s.facility_id
      left join public.sla_timers c on c.load_id = l.id and c.kind = 'check_call'
      where l.tenant_id = ${tenantId} and not l.exception
        and l.status in ('dispatched', 'at_pickup', 'picked_up', 'in_transit', 'at_delivery')
      order by lower(s.appointment) limit 50`;
    return rows.flatMap((r) => {
      const reason = appointmentRiskReason({ now, sequence: r.sequence, facility: r.facility, opens: r.opens, closes: r.closes, checkCallDue: r.check_call_due, horizonMinutes: r.horizon });
      return reason ? [{ action: flagAppointmentRisk, key: `appointment-risk:${r.load_id}:${r.stop_id}`, input: { load_id: r.load_id, stop_id: r.stop_id, reason } }] : [];
    });
  },
});
