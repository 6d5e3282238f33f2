import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { blockUnit } from "./actions/block-unit.ts";
import { fuelAdvance } from "./actions/fuel-advance.ts";
import { loads } from "./actions/loads.ts";
import { maintenance } from "./actions/maintenance.ts";
import { milesRecord } from "./actions/miles-record.ts";
import { odometerSet } from "./actions/odometer-set.ts";
import { serviceIntervalSet } from "./actions/service-interval-set.ts";
import { serviceRecord } from "./actions/service-record.ts";
import { settle } from "./actions/settle.ts";
import { settlements } from "./actions/settlements.ts";
import { unblockUnit } from "./actions/unblock-unit.ts";
import { contract } from "./contract.ts";
import { maintenanceOverdue } from "./detectors.ts";

/** The Owner Operator portal: loads and revenue, settlements, maintenance. */
export default definePortal({
  contract,
  actions: [
    loads, milesRecord, fuelAdvance, settle, settlements, maintenance, serviceIntervalSet, odometerSet, serviceRecord,
    blockUnit, unblockUnit, ...revertActions(contract, [blockUnit]),
  ],
  detectors: [maintenanceOverdue],
});
