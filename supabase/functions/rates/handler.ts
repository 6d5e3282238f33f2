import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";
import { contractUpsert } from "./actions/contract-upsert.ts";
import { escalateQuote } from "./actions/escalate-quote.ts";
import { flagStaleIndex } from "./actions/flag-stale-index.ts";
import { indexIngest } from "./actions/index-ingest.ts";
import { priceOne } from "./actions/price-one.ts";

/** The Rates portal (charter §4): instant pricing, contracts, index blending, guards. */
export const rates = servePortal("rates", [priceOne, contractUpsert, indexIngest, escalateQuote, flagStaleIndex], portalEnv((k) => Deno.env.get(k)));
export const handler = rates.handler;
