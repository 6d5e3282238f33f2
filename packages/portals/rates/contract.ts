import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";
import type { CustomerQuote, Quote } from "./domain/quote.ts";
import { contractUpsertSchema, priceOneSchema } from "./domain/schemas.ts";

/**
 * What `rates/price_one` answers: the stored quote's id, status and total, and the quote
 * (to a shipper user, its sell side only: CustomerQuote).
 */
export interface QuoteResult {
  quote_id: string;
  status: Quote["status"];
  total: number;
  quote: Quote | CustomerQuote;
}

/**
 * The Rates portal's contract (charter §4): instant pricing, contracts, the market index,
 * and its agents' two actions. The only file of the portal that clients import.
 */
export const contract = defineContract("rates", {
  actions: {
    ...revertContract,
    price_one: action<QuoteResult>()({ input: priceOneSchema, kind: "write" }),
    contract_upsert: action<{ contract_id: string; created: boolean }>()({ input: contractUpsertSchema, kind: "write" }),
    index_ingest: action<{ rows: number }>()({
      input: z.strictObject({ csv: z.string().min(1, "csv is required").max(1_900_000, "csv must be under 1.9 MB") }),
      kind: "write",
    }),
    escalate_quote: action<{ quote_id: string; escalated: boolean; escalated_at: string }>()({ input: z.strictObject({ quote_id: z.guid() }), kind: "write" }),
    deescalate_quote: action<{ quote_id: string; escalated: boolean }>()({ input: z.strictObject({ quote_id: z.guid(), escalated_at: z.iso.datetime({ offset: true }) }), kind: "write" }),
    flag_stale_index: action<{ alerted: boolean }>()({
      input: z.strictObject({ last_ingested_at: z.iso.datetime({ offset: true }).nullable(), stale_days: z.number().int().min(1) }),
      kind: "write",
    }),
  },
  events: ["rates.quote.created", "rates.quote.escalated", "rates.quote.deescalated", "rates.contract.upserted", "rates.index.ingested", "rates.index.stale"],
});
