import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { contractUpsert } from "./actions/contract-upsert.ts";
import { deescalateQuote } from "./actions/deescalate-quote.ts";
import { escalateQuote } from "./actions/escalate-quote.ts";
import { flagStaleIndex } from "./actions/flag-stale-index.ts";
import { indexIngest } from "./actions/index-ingest.ts";
import { priceOne } from "./actions/price-one.ts";
import { contract } from "./contract.ts";
import { approvalSla, staleIndex } from "./detectors.ts";

/** The Rates portal (charter §4): instant pricing, contracts, index blending, guards. */
export default definePortal({
  contract,
  actions: [priceOne, contractUpsert, indexIngest, escalateQuote, deescalateQuote, flagStaleIndex, ...revertActions(contract, [escalateQuote])],
  detectors: [staleIndex, approvalSla],
});
