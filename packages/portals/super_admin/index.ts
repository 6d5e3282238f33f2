import { definePortal } from "../../shared/pipeline/manifest.ts";
import { tenantDelete } from "./actions/tenant-delete.ts";
import { tenantExport } from "./actions/tenant-export.ts";
import { tenantProvision } from "./actions/tenant-provision.ts";
import { tenantSuspend } from "./actions/tenant-suspend.ts";
import { contract } from "./contract.ts";

/** The Super Admin portal (global, super_admin only): tenant provisioning, suspension, export and deletion. */
export default definePortal({
  contract,
  actions: [tenantProvision, tenantSuspend, tenantExport, tenantDelete],
});
