import type { Sql } from "../../shared/db/client.ts";
import type { ActionContext, ProveResult } from "../../shared/pipeline/action.ts";
import type { TenderResult } from "./contract.ts";

/** A tender is offered at the promised rate and deadline, with its rate confirmation and offer event under this trace. */
export async function tenderProof(sql: Sql, r: TenderResult, ctx: ActionContext): Promise<ProveResult> {
  const [row] = await sql`
    select t.status, t.offered_rate_cents, t.sla_deadline,
           exists (select 1 from public.documents d where d.id = ${r.document_id} and d.load_id = t.load_id
                     and d.kind = 'rate_confirmation' and d.sha256 = ${r.document_sha256}) as documented,
           exists (select 1 from public.outbox_events e where e.tenant_id = ${ctx.tenantId} and e.aggregate_type = 'tender'
                     and e.aggregate_id = ${r.tender_id} and e.event_type = 'freight.tender.offered' and e.trace_id = ${ctx.traceId}) as evented
    from public.tenders t where t.id = ${r.tender_id} and t.tenant_id = ${ctx.tenantId}`;
  const ok = !!row && Number(row.offered_rate_cents) === r.rate_cents && new Date(row.sla_deadline).toISOString() === r.sla_deadline &&
    row.documented && row.evented;
  return { ok, detail: ok ? `tender ${r.tender_id} offered with its rate confirmation` : `tender ${r.tender_id} not as promised` };
}
