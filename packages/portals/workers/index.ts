import { definePortal } from "../../shared/pipeline/manifest.ts";
import { closeItem } from "./actions/close-item.ts";
import { coverage } from "./actions/coverage.ts";
import { enqueue } from "./actions/enqueue.ts";
import { flagCoverageGap } from "./actions/flag-coverage-gap.ts";
import { items } from "./actions/items.ts";
import { queues } from "./actions/queues.ts";
import { rebalance } from "./actions/rebalance.ts";
import { shiftAdd } from "./actions/shift-add.ts";
import { shiftEnd } from "./actions/shift-end.ts";
import { shifts } from "./actions/shifts.ts";
import { contract } from "./contract.ts";
import { coverageGap, queueSla } from "./detectors.ts";

/** The Workers portal: shifts and coverage, work queues, load balancing. */
export default definePortal({
  contract,
  actions: [queues, items, enqueue, closeItem, shifts, shiftAdd, shiftEnd, coverage, rebalance, flagCoverageGap],
  detectors: [queueSla, coverageGap],
});
