import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { book } from "./actions/book.ts";
import { cancel } from "./actions/cancel.ts";
import { clearAppointmentRisk } from "./actions/clear-appointment-risk.ts";
import { flagAppointmentRisk } from "./actions/flag-appointment-risk.ts";
import { message } from "./actions/message.ts";
import { retender } from "./actions/retender.ts";
import { route } from "./actions/route.ts";
import { scorecard } from "./actions/scorecard.ts";
import { slaTimers } from "./actions/sla-timers.ts";
import { tender } from "./actions/tender.ts";
import { withdrawTender } from "./actions/withdraw-tender.ts";
import { contract } from "./contract.ts";
import { appointmentRisk, tenderSla } from "./detectors.ts";

/** The Broker portal: route, tender, book, re-tender, cancel, message; SLA timers and the scorecard. */
export default definePortal({
  contract,
  actions: [
    route, tender, book, retender, withdrawTender, cancel, message, flagAppointmentRisk, clearAppointmentRisk, slaTimers, scorecard,
    ...revertActions(contract, [retender, flagAppointmentRisk]),
  ],
  detectors: [tenderSla, appointmentRisk],
});
