import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { changes } from "./actions/changes.ts";
import { clearEtaRisk } from "./actions/clear-eta-risk.ts";
import { flagEtaRisk } from "./actions/flag-eta-risk.ts";
import { podMissing } from "./actions/pod-missing.ts";
import { podMissingWithdraw } from "./actions/pod-missing-withdraw.ts";
import { status } from "./actions/status.ts";
import { stops } from "./actions/stops.ts";
import { sync } from "./actions/sync.ts";
import { contract } from "./contract.ts";
import { etaRisk, podMissingAgent } from "./detectors.ts";

/** The Driver portal: its stops, status updates, offline sync with per-event answers, the delta feed; ETA and POD agents. */
export default definePortal({
  contract,
  actions: [stops, status, sync, changes, flagEtaRisk, clearEtaRisk, podMissing, podMissingWithdraw, ...revertActions(contract, [flagEtaRisk, podMissing])],
  detectors: [etaRisk, podMissingAgent],
});
