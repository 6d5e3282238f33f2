import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { accept } from "./actions/accept.ts";
import { capacity } from "./actions/capacity.ts";
import { capacitySet } from "./actions/capacity-set.ts";
import { compliance } from "./actions/compliance.ts";
import { contractLanes } from "./actions/contract-lanes.ts";
import { counter } from "./actions/counter.ts";
import { decline } from "./actions/decline.ts";
import { dispatch } from "./actions/dispatch.ts";
import { fleet } from "./actions/fleet.ts";
import { insuranceSubmit } from "./actions/insurance-submit.ts";
import { loads } from "./actions/loads.ts";
import { reinstateCarrier } from "./actions/reinstate-carrier.ts";
import { scorecard } from "./actions/scorecard.ts";
import { suspendCarrier } from "./actions/suspend-carrier.ts";
import { tenders } from "./actions/tenders.ts";
import { contract } from "./contract.ts";
import { carrierCompliance } from "./detectors.ts";

/** The Carrier portal: tenders (accept, decline, counter), dispatch, capacity, contract lanes, compliance, scorecard. */
export default definePortal({
  contract,
  actions: [
    tenders, accept, decline, counter, dispatch, loads, fleet, capacitySet, capacity, contractLanes, compliance, insuranceSubmit, scorecard,
    suspendCarrier, reinstateCarrier, ...revertActions(contract, [suspendCarrier]),
  ],
  detectors: [carrierCompliance],
});
