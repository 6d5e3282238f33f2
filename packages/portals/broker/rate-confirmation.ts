import type { Tx } from "../../shared/db/client.ts";
import { jsonb } from "../../shared/db/client.ts";
import { documentStorage } from "../../shared/documents/store.ts";
import { documentKey } from "../../shared/storage/storage.ts";
import type { ActionContext } from "../../shared/pipeline/action.ts";
import { type RateConfirmation, renderRateConfirmation } from "./domain/rate-confirmation.ts";

/**
 * Issues the rate confirmation of a tender, inside the tendering action's transaction: reads
 * what it states (under the caller's RLS), renders the PDF, stores the bytes (hash-checked)
 * and records the document, addressed to the tendered carrier only. The bytes are written
 * before the transaction commits: a rollback leaves an unreferenced object, never a
 * document row without its bytes.
 */
export async function issueRateConfirmation(tx: Tx, ctx: ActionContext, tenderId: string): Promise<{ document_id: string; sha256: string }> {
  const [r] = await tx`
    select t.id, t.load_id, t.carrier_party_id, t.offered_rate_cents, t.currency, t.sla_deadline, t.offered_at,
           l.reference, l.equipment_type, l.weight_lbs, l.commodity,
           c.name as carrier_name, c.mc_number, c.dot_number, c.scac,
           coalesce((select b.name from public.parties b where b.tenant_id = l.tenant_id and b.kind = 'broker' order by b.created_at limit 1),
                    'Brokerage') as brokerage,
           (select jsonb_agg(jsonb_build_object(
                     'sequence', s.sequence, 'kind', s.kind, 'facility', f.name, 'address', f.address_line, 'city', f.city,
                     'region', f.region, 'postal_code', f.postal_code, 'time_zone', f.time_zone,
                     'window_start_local', to_char(lower(s.appointment) at time zone f.time_zone, 'YYYY-MM-DD HH24:MI'),
                     'window_end_local', to_char(upper(s.appointment) at time zone f.time_zone, 'YYYY-MM-DD HH24:MI')) order by s.sequence)
              from public.stops s join public.facilities f on f.id = s.facility_id where s.load_id = l.id) as stops
    from public.tenders t join public.loads l on l.id = t.load_id join public.parties c on c.id = t.carrier_party_id
    where t.id = ${tenderId}`;
  const rc: RateConfirmation = {
    brokerage: r.brokerage, load_reference: r.reference, tender_id: r.id, issued_at: new Date(r.offered_at), accept_by: new Date(r.sla_deadline),
    carrier: { name: r.carrier_name, mc_number: r.mc_number, dot_number: r.dot_number, scac: r.scac },
    equipment_type: r.equipment_type, weight_lbs: r.weight_lbs, commodity: r.commodity,
    rate_cents: Number(r.offered_rate_cents), currency: r.currency, stops: r.stops ?? [],
  };
  const bytes = await renderRateConfirmation(rc);
  const fileName = `rate-confirmation-${r.reference}.pdf`;
  const stored = await documentStorage().put(documentKey(ctx.tenantId, crypto.randomUUID(), fileName), bytes, { contentType: "application/pdf" });
  const [doc] = await tx`
    select app_private.freight_document_record(${jsonb(tx, {
      load_id: r.load_id, party_id: r.carrier_party_id, kind: "rate_confirmation", file_name: fileName, content_type: "application/pdf",
      size_bytes: stored.size, sha256: stored.sha256, storage_key: stored.key,
    })}) as id`;
  return { document_id: doc.id, sha256: stored.sha256 };
}
