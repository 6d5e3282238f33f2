import { defineDetector } from "../../shared/pipeline/detector.ts";
import { carrierBlock } from "./actions/carrier-block.ts";
import { partyScreen } from "./actions/party-screen.ts";
import { censusLapse } from "./domain/census.ts";

/**
 * Rescreening: after a new sanctions list, every party of the tenant not yet screened
 * against it -> party_screen (a match blocks it). The key names the list, so a reverted
 * screening is not redone until the next list.
 */
export const sanctionsRescreen = defineDetector({
  portal: "directory",
  name: "sanctions_rescreen",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      with list as (select id from public.sanctions_lists where tenant_id = ${tenantId} order by loaded_at desc, id limit 1)
      select p.id, list.id as list_id from public.parties p cross join list
      where p.tenant_id = ${tenantId} and p.kind <> 'broker'
        and not exists (select 1 from public.party_screenings s where s.party_id = p.id and s.list_id = list.id)
      order by p.id limit 200`;
    return rows.map((r) => ({ action: partyScreen, key: `screen:${r.id}:${r.list_id}`, input: { party_id: r.id } }));
  },
});

/**
 * Census lapse: a carrier whose last census says it may not operate, has no active
 * authority, or has less insurance on file than required, and is not yet blocked for that
 * reason -> carrier_block. The key names the census import, so a reverted block is not
 * redone until the next census says the same.
 */
export const censusLapseBlock = defineDetector({
  portal: "directory",
  name: "census_lapse",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      select c.party_id, c.allowed_to_operate, c.authority_status, c.insurance_on_file_cents::float8 as on_file,
             c.insurance_required_cents::float8 as required, c.import_id,
             array(select b.reason from public.party_blocks b where b.party_id = c.party_id and b.cleared_at is null) as blocked
      from public.carrier_census c where c.tenant_id = ${tenantId} order by c.party_id limit 500`;
    return rows.flatMap((r) => {
      const lapse = censusLapse({ allowed_to_operate: r.allowed_to_operate, authority_status: r.authority_status, insurance_on_file_cents: r.on_file, insurance_required_cents: r.required });
      if (!lapse || (r.blocked as string[]).includes(lapse.reason)) return [];
      return [{ action: carrierBlock, key: `census:${r.party_id}:${lapse.reason}:${r.import_id}`, input: { carrier_party_id: r.party_id, reason: lapse.reason, note: lapse.note } }];
    });
  },
});
