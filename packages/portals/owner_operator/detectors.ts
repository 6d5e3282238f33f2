import { defineDetector } from "../../shared/pipeline/detector.ts";
import { blockUnit } from "./actions/block-unit.ts";

/**
 * Maintenance: an active unit of an owner operator overdue for a service interval (by days
 * or miles) -> blocked from dispatch. The key names the overdue services and their last
 * service, so a reverted block is not redone until another service falls due.
 */
export const maintenanceOverdue = defineDetector({
  portal: "owner_operator",
  name: "maintenance_overdue",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      select s.unit_id, string_agg(s.service_kind || '@' || s.last_on || '/' || s.last_miles, ',' order by s.service_kind) as due
      from public.owner_operator_service_status s join public.equipment e on e.id = s.unit_id
      where s.tenant_id = ${tenantId} and s.overdue and e.status = 'active'
      group by s.unit_id order by s.unit_id limit 100`;
    return rows.map((r) => ({
      action: blockUnit,
      key: `block-unit:${r.unit_id}:${r.due}`,
      input: { unit_id: r.unit_id, reason: `service overdue: ${(r.due as string).split(",").map((d) => d.split("@")[0]).join(", ")}` },
    }));
  },
});
