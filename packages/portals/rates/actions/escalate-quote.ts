import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { deescalateQuote } from "./deescalate-quote.ts";

/**
 * rates/escalate_quote: a quote waiting for approval past its SLA is escalated (alert +
 * event). Reversible: deescalate_quote takes the escalation back.
 */
export const escalateQuote = defineAction(contract.actions.escalate_quote, {
  permission: "rates.manage",
  detect: async (tx, input) => {
    const [q] = await tx`select id, status, escalated_at, needs_approval_since, total from public.rates_quotes where id = ${input.quote_id}`;
    return q ?? null;
  },
  decide: (input, q) => {
    if (!q) throw new ActionRefused(refuse("not_found", { detail: "No such quote in this tenant" }));
    if (q.status !== "needs_approval" || q.escalated_at) throw new ActionRefused(refuse("conflict", { detail: "The quote is not waiting for approval" }));
    return { quoteId: input.quote_id, since: q.needs_approval_since as Date, total: Number(q.total) };
  },
  act: (tx, d, ctx) => ({
    writes: [
      tx`update public.rates_quotes set escalated_at = ${ctx.now} where id = ${d.quoteId}`,
      tx`select app_private.raise_alert(${ctx.tenantId}, 'rates.approval_sla', 'warning', ${d.quoteId},
           ${`Quote ${d.quoteId} ($${d.total}) has waited for approval since ${d.since.toISOString()}`})`,
    ],
    result: { quote_id: d.quoteId, escalated: true, escalated_at: ctx.now.toISOString() },
    events: [{ type: "rates.quote.escalated", aggregateType: "rates_quote", aggregateId: d.quoteId, payload: { quote_id: d.quoteId, waiting_since: d.since.toISOString() } }],
  }),
  prove: async (sql, r) => {
    const [q] = await sql`select escalated_at from public.rates_quotes where id = ${r.quote_id}`;
    return { ok: !!q?.escalated_at, detail: q?.escalated_at ? `quote ${r.quote_id} escalated` : `quote ${r.quote_id} not escalated` };
  },
  reverse: { action: deescalateQuote, input: ({ result }) => ({ quote_id: result.quote_id, escalated_at: result.escalated_at }) },
});
