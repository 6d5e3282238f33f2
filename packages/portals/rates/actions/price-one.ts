import { contract, type QuoteResult } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { jsonb } from "../../../shared/db/client.ts";
import { customerQuote, priceQuote, quoteLane } from "../domain/quote.ts";
import type { PriceOneInput } from "../domain/schemas.ts";
import type { Contract } from "../domain/contracts.ts";
import type { GuardRule } from "../domain/guards.ts";
import type { DieselWeek } from "../domain/fuel.ts";
import type { IndexSample } from "../domain/blend.ts";
import { refuse } from "../../../shared/http/outcome.ts";

interface Evidence {
  history_zip3: number[];
  history_region: number[];
  index_zip3: IndexSample[];
  index_region: IndexSample[];
  diesel: DieselWeek[];
  contracts: Contract[];
  guards: GuardRule[];
}

/** rates/price_one: an instant quote from the tenant's history, the index, fuel and guards. */
export const priceOne = defineAction(contract.actions.price_one, {
  permission: "rates.quote",
  // Detect: the lane's evidence in one round trip (RLS: the tenant's own rows only).
  detect: async (tx, input: PriceOneInput, ctx) => {
    const lane = quoteLane(input);
    if (!lane) throw new ActionRefused(refuse("rate_unavailable", { detail: "Origin or destination is not a served US ZIP" }));
    // customer: the caller is a shipper user (its quotes are its own party's, answered without the cost side)
    const [row] = await tx`
      select public.rates_evidence(${ctx.tenantId}, ${input.equipment}, ${lane.origin.zip3}, ${lane.destination.zip3},
                                   ${lane.origin.region}, ${lane.destination.region}, ${input.pickup_date}) as e,
             cardinality(app_private.party_ids('shipper')) > 0 as customer`;
    return { ...(row.e as Evidence), customer: row.customer as boolean };
  },
  // Decide: pure pricing; a broken guard flags needs_approval, never clamps.
  decide: (input, e) => {
    const priced = priceQuote({
      request: input,
      evidence: { zip3: { history: e.history_zip3, index: e.index_zip3 }, region: { history: e.history_region, index: e.index_region } },
      diesel: e.diesel,
      contracts: e.contracts,
      guards: e.guards,
    });
    if (!priced.ok) throw new ActionRefused(priced);
    return { request: input, quote: priced.value, id: crypto.randomUUID(), customer: e.customer };
  },
  // (app_private.rates_quote_record: the quote and its rates.quote.created event, built in SQL)
  act: (tx, d, ctx) => ({
    writes: [tx`
      select app_private.rates_quote_record(${d.id}, ${d.request.party_id ?? null}, ${jsonb(tx, d.request)}, ${jsonb(tx, d.quote)},
                                            ${d.quote.status === "needs_approval" ? ctx.now : null}, ${ctx.traceId})`],
    result: { quote_id: d.id, status: d.quote.status, total: d.quote.total, quote: d.customer ? customerQuote(d.quote) : d.quote } satisfies QuoteResult,
    events: [],
  }),
  // Prove: the quote is stored with the promised total and status, with its outbox event.
  prove: async (sql, r, ctx) => {
    // (a function: its plan is cached; see supabase/migrations/*_rates_pricing.sql)
    const [row] = await sql`select total, status, events from app_private.rates_quote_proof(${ctx.tenantId}, ${r.quote_id})`;
    const ok = !!row && row.total !== null && Number(row.total) === r.total && row.status === r.status && row.events === 1;
    return { ok, detail: ok ? `quote ${r.quote_id} stored (${r.status}, $${r.total})` : `quote ${r.quote_id} not as promised` };
  },
});
