import { contract } from "../contract.ts";
import { websiteAction } from "../domain/website.ts";

/** crm/checkout_session_created: n8n's callback with the Stripe Checkout Session (no lead stage). */
export const checkoutSessionCreated = websiteAction(contract.actions.checkout_session_created, null);
