import { definePortal } from "../../shared/pipeline/manifest.ts";
import { accessorialUpsert } from "./actions/accessorial-upsert.ts";
import { ediPartnerUpsert } from "./actions/edi-partner-upsert.ts";
import { equipmentTypeUpsert } from "./actions/equipment-type-upsert.ts";
import { guardDelete } from "./actions/guard-delete.ts";
import { guardUpsert } from "./actions/guard-upsert.ts";
import { laneUpsert } from "./actions/lane-upsert.ts";
import { settings } from "./actions/settings.ts";
import { slaSet } from "./actions/sla-set.ts";
import { contract } from "./contract.ts";

/** The TMS Admin portal: equipment types, lanes, accessorials, pricing guards, EDI partners, SLA policy. */
export default definePortal({
  contract,
  actions: [equipmentTypeUpsert, laneUpsert, accessorialUpsert, guardUpsert, guardDelete, ediPartnerUpsert, slaSet, settings],
});
