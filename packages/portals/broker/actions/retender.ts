import { contract, type RetenderResult } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { issueRateConfirmation } from "../rate-confirmation.ts";
import { tenderProof } from "../proofs.ts";
import { withdrawTender } from "./withdraw-tender.ts";

/**
 * broker/retender: the tender ends (expired past its deadline, else cancelled) and the load
 * is offered to the next carrier: the one named, else the best-scoring eligible carrier not
 * tendered yet (public.freight_carrier_scorecard), at the same rate unless one is named, by
 * the SLA policy's deadline, with its rate confirmation. The tender SLA agent runs it on
 * expired tenders. Reversible: withdraw_tender takes the new offer back (the expiry stands).
 */
export const retender = defineAction(contract.actions.retender, {
  permission: "freight.tender.offer",
  detect: async (tx, _input, ctx) => {
    const [p] = await tx`select (public.flag_value('freight.tenderSlaMinutes', ${ctx.tenantId}::uuid))::text::int as minutes`;
    return p.minutes as number;
  },
  decide: (input, minutes, ctx) => ({ ...input, deadline: new Date(ctx.now.getTime() + minutes * 60_000) }),
  act: async (tx, d, ctx) => {
    const [row] = await tx`
      select app_private.broker_retender(${d.tender_id}, ${d.carrier_party_id ?? null}, ${d.rate_cents ?? null}, ${d.deadline}) as r`;
    const r = row.r;
    const doc = r.tender_id ? await issueRateConfirmation(tx, ctx, r.tender_id) : null;
    const result: RetenderResult = {
      previous_tender_id: r.previous_tender_id, previous_status: r.previous_status, load_id: r.load_id,
      tender: doc && {
        tender_id: r.tender_id, load_id: r.load_id, carrier_party_id: r.carrier_party_id, rate_cents: Number(r.rate_cents), currency: "USD",
        sla_deadline: new Date(r.sla_deadline).toISOString(), document_id: doc.document_id, document_sha256: doc.sha256,
      },
    };
    return { writes: [], events: [], result };
  },
  prove: async (sql, r, ctx) => {
    const [prev] = await sql`select status from public.tenders where id = ${r.previous_tender_id}`;
    if (prev?.status !== r.previous_status) return { ok: false, detail: `tender ${r.previous_tender_id} is ${prev?.status}, not ${r.previous_status}` };
    return r.tender ? await tenderProof(sql, r.tender, ctx) : { ok: true, detail: `tender ${r.previous_tender_id} ${r.previous_status}; no carrier left` };
  },
  reverse: { action: withdrawTender, input: ({ result }) => ({ tender_id: result.tender?.tender_id ?? null, reason: "re-tender reverted" }) },
});
