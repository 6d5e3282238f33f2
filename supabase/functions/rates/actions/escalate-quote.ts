import { z } from "zod";
import { defineAction } from "../../../../packages/shared/pipeline/action.ts";
import { ActionRefused } from "../../../../packages/shared/pipeline/run.ts";
import { refuse } from "../../../../packages/shared/http/outcome.ts";

/** rates/escalate_quote: a quote waiting for approval past its SLA is escalated (alert + event). */
export const escalateQuote = defineAction({
  portal: "rates",
  name: "escalate_quote",
  input: z.strictObject({ quote_id: z.guid() }),
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
      tx`update public.rates_quotes set escalated_at = now() where id = ${d.quoteId}`,
      tx`select app_private.raise_alert(${ctx.tenantId}, 'rates.approval_sla', 'warning', ${d.quoteId},
           ${`Quote ${d.quoteId} ($${d.total}) has waited for approval since ${d.since.toISOString()}`})`,
    ],
    result: { quote_id: d.quoteId, escalated: true },
    events: [{ type: "rates.quote.escalated", aggregateType: "rates_quote", aggregateId: d.quoteId, payload: { quote_id: d.quoteId, waiting_since: d.since.toISOString() } }],
  }),
  prove: async (sql, r) => {
    const [q] = await sql`select escalated_at from public.rates_quotes where id = ${r.quote_id}`;
    return { ok: !!q?.escalated_at, detail: q?.escalated_at ? `quote ${r.quote_id} escalated` : `quote ${r.quote_id} not escalated` };
  },
});
