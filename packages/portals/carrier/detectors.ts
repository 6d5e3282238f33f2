import { defineDetector } from "../../shared/pipeline/detector.ts";
import { suspendCarrier } from "./actions/suspend-carrier.ts";
import { type Certificate, complianceLapse } from "./domain/compliance.ts";

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Compliance: an active carrier, not yet blocked for it, that is out of service or whose
 * auto liability or cargo coverage ends within carrier.insuranceHorizonDays (7) -> suspended
 * from tendering (a party block) and notified. The key names the coverage date, so a
 * reverted suspension is not redone until the coverage changes.
 */
export const carrierCompliance = defineDetector({
  portal: "carrier",
  name: "carrier_compliance",
  detect: async (tx, tenantId, now) => {
    const rows = await tx`
      select p.id, coalesce(cp.out_of_service, false) as out_of_service,
             coalesce((select json_agg(json_build_object('kind', i.kind, 'effective_on', i.effective_on, 'expires_on', i.expires_on))
                       from public.carrier_insurance i where i.party_id = p.id), '[]') as certificates,
             array(select b.reason from public.party_blocks b where b.party_id = p.id and b.cleared_at is null) as blocked,
             (public.flag_value('carrier.insuranceHorizonDays', ${tenantId}::uuid))::text::int as horizon
      from public.parties p left join public.carrier_profiles cp on cp.party_id = p.id
      where p.tenant_id = ${tenantId} and p.kind = 'carrier' and p.status = 'active'
      order by p.id limit 500`;
    return rows.flatMap((r) => {
      const lapse = complianceLapse({ certificates: r.certificates as Certificate[], outOfService: r.out_of_service, today: day(now), horizonDays: r.horizon });
      if (!lapse || (r.blocked as string[]).includes(lapse.reason)) return [];
      const input = lapse.reason === "insurance"
        ? { carrier_party_id: r.id, reason: lapse.reason, kind: lapse.kind, covered_until: lapse.covered_until }
        : { carrier_party_id: r.id, reason: lapse.reason };
      const key = `suspend:${r.id}:${lapse.reason}:${lapse.reason === "insurance" ? lapse.covered_until ?? "none" : "oos"}`;
      return [{ action: suspendCarrier, key, input }];
    });
  },
});
