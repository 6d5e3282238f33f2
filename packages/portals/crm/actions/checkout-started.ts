import { contract } from "../contract.ts";
import { websiteAction } from "../domain/website.ts";

/** crm/checkout_started: the website's checkout.started event (no lead stage). */
export const checkoutStarted = websiteAction(contract.actions.checkout_started, null);
