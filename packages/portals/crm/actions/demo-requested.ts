import { contract } from "../contract.ts";
import { websiteAction } from "../domain/website.ts";

/** crm/demo_requested: the website's demo.requested event, which sets the lead's stage to demo_requested. */
export const demoRequested = websiteAction(contract.actions.demo_requested, "demo_requested");
