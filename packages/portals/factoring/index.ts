import { definePortal } from "../../shared/pipeline/manifest.ts";
import { noaRecord, noaRelease } from "./actions/noa.ts";
import { noas } from "./actions/noas.ts";
import { contract } from "./contract.ts";

/** The Factoring portal: Notices of Assignment and Letters of Release. */
export default definePortal({ contract, actions: [noas, noaRecord, noaRelease] });
