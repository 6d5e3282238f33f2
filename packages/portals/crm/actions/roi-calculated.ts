import { contract } from "../contract.ts";
import { websiteAction } from "../domain/website.ts";

/** crm/roi_calculated: the website's roi.calculated event (no lead stage). */
export const roiCalculated = websiteAction(contract.actions.roi_calculated, null);
