import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { carrierBlock } from "./actions/carrier-block.ts";
import { carrierUnblock } from "./actions/carrier-unblock.ts";
import { censusImport } from "./actions/census-import.ts";
import { kycUpsert } from "./actions/kyc-upsert.ts";
import { party } from "./actions/party.ts";
import { partyCreate } from "./actions/party-create.ts";
import { partyScreen } from "./actions/party-screen.ts";
import { sanctionsClear } from "./actions/sanctions-clear.ts";
import { sanctionsLoad } from "./actions/sanctions-load.ts";
import { watchlistSet } from "./actions/watchlist-set.ts";
import { contract } from "./contract.ts";
import { censusLapseBlock, sanctionsRescreen } from "./detectors.ts";

/** The Directory portal: sanctions screening, carrier safety census, KYC, watchlists. */
export default definePortal({
  contract,
  actions: [
    partyCreate, partyScreen, sanctionsLoad, sanctionsClear, censusImport, carrierBlock, carrierUnblock, kycUpsert, watchlistSet, party,
    ...revertActions(contract, [partyScreen, carrierBlock]),
  ],
  detectors: [sanctionsRescreen, censusLapseBlock],
});
