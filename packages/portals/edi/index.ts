import { definePortal } from "../../shared/pipeline/manifest.ts";
import { interchanges } from "./actions/interchanges.ts";
import { mailbox } from "./actions/mailbox.ts";
import { receive } from "./actions/receive.ts";
import { contract } from "./contract.ts";

/** The EDI portal: inbound X12 (204 / 214 / 990 / 997) with 997s and 990s back, the partners' mailbox, the interchange view. */
export default definePortal({ contract, actions: [receive, mailbox, interchanges] });
