import { contract } from "../contract.ts";
import { websiteAction } from "../domain/website.ts";

/** crm/lead_created: the website's lead.created event, which sets the lead's stage to new. */
export const leadCreated = websiteAction(contract.actions.lead_created, "new");
