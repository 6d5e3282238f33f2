import { contract, type TenderResult } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { issueRateConfirmation } from "../rate-confirmation.ts";
import { tenderProof } from "../proofs.ts";

/**
 * broker/tender: offers a load to a carrier at a buy rate, answered by the SLA deadline
 * (the policy's freight.tenderSlaMinutes unless the input sets one), with the rate
 * confirmation PDF: the core's freight_tender_offer (eligibility, load -> tendered, event,
 * audit) and the document, in one transaction.
 */
export const tender = defineAction(contract.actions.tender, {
  permission: "freight.tender.offer",
  detect: async (tx, _input, ctx) => {
    const [p] = await tx`select (public.flag_value('freight.tenderSlaMinutes', ${ctx.tenantId}::uuid))::text::int as minutes`;
    return p.minutes as number;
  },
  decide: (input, policyMinutes, ctx) => ({ ...input, deadline: new Date(ctx.now.getTime() + (input.sla_minutes ?? policyMinutes) * 60_000) }),
  act: async (tx, d, ctx) => {
    const [t] = await tx`select app_private.freight_tender_offer(${d.load_id}, ${d.carrier_party_id}, ${d.rate_cents}, ${d.deadline}) as id`;
    const doc = await issueRateConfirmation(tx, ctx, t.id);
    const result: TenderResult = {
      tender_id: t.id, load_id: d.load_id, carrier_party_id: d.carrier_party_id, rate_cents: d.rate_cents, currency: "USD",
      sla_deadline: d.deadline.toISOString(), document_id: doc.document_id, document_sha256: doc.sha256,
    };
    return { writes: [], events: [], result };
  },
  prove: (sql, r, ctx) => tenderProof(sql, r, ctx),
});
