import { portalEnv, servePortal } from "../../../packages/shared/pipeline/portal.ts";
import { checkoutStarted, demoRequested, leadCreated, roiCalculated } from "./actions/website.ts";

/**
 * Inbound webhooks from n8n (charter §5): POST /functions/v1/webhooks?tenant=<uuid>, signed
 * with HMAC v2 by the n8n service key, `webhook-id` as the idempotency key, the body's
 * `type` naming the action. The caller's traceparent continues.
 */
export const webhooks = servePortal("crm", [leadCreated, demoRequested, roiCalculated, checkoutStarted],
  portalEnv((k) => Deno.env.get(k)), { routeBy: "event", idempotencyHeader: "webhook-id", machineOnly: true });
export const handler = webhooks.handler;
