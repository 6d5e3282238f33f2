import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

/**
 * rates/deescalate_quote: undoes escalate_quote (the escalation mark and its open alert),
 * only while the quote is still as that escalation left it.
 */
export const deescalateQuote = defineAction(contract.actions.deescalate_quote, {
  permission: "rates.manage",
  detect: async (tx, input) => {
    const [q] = await tx`select status, escalated_at from public.rates_quotes where id = ${input.quote_id}`;
    return q ?? null;
  },
  decide: (input, q) => {
    if (!q) throw new ActionRefused(refuse("not_found", { detail: "No such quote in this tenant" }));
    const at = q.escalated_at ? new Date(q.escalated_at).getTime() : null;
    if (q.status !== "needs_approval" || at !== Date.parse(input.escalated_at)) {
      throw new ActionRefused(refuse("revert_state_changed", {
        detail: at === null ? "The quote is no longer escalated" : q.status !== "needs_approval" ? `The quote is ${q.status} now` : "The quote was escalated again since",
      }));
    }
    return { quoteId: input.quote_id };
  },
  act: (tx, d, ctx) => ({
    writes: [
      tx`update public.rates_quotes set escalated_at = null where id = ${d.quoteId}`,
      tx`update public.alerts set resolved_at = now()
         where tenant_id = ${ctx.tenantId} and source = 'rates.approval_sla' and dedupe_key = ${d.quoteId} and resolved_at is null`,
    ],
    result: { quote_id: d.quoteId, escalated: false },
    events: [{ type: "rates.quote.deescalated", aggregateType: "rates_quote", aggregateId: d.quoteId, payload: { quote_id: d.quoteId } }],
  }),
  prove: async (sql, r) => {
    const [q] = await sql`select escalated_at from public.rates_quotes where id = ${r.quote_id}`;
    return { ok: !!q && q.escalated_at === null, detail: q && q.escalated_at === null ? `quote ${r.quote_id} no longer escalated` : `quote ${r.quote_id} still escalated` };
  },
});
