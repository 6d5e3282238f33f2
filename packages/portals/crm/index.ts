import { definePortal } from "../../shared/pipeline/manifest.ts";
import { checkoutSessionCreated } from "./actions/checkout-session-created.ts";
import { checkoutStarted } from "./actions/checkout-started.ts";
import { demoRequested } from "./actions/demo-requested.ts";
import { leadCreated } from "./actions/lead-created.ts";
import { roiCalculated } from "./actions/roi-calculated.ts";
import { contract } from "./contract.ts";

/** The CRM portal: the website's events and the leads they create. */
export default definePortal({
  contract,
  actions: [leadCreated, demoRequested, roiCalculated, checkoutStarted, checkoutSessionCreated],
  http: { routeBy: "event", idempotencyHeader: "webhook-id", machineOnly: true },
});
