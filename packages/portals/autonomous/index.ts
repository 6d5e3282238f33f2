import { definePortal } from "../../shared/pipeline/manifest.ts";
import { approve } from "./actions/approve.ts";
import { flagSet } from "./actions/flag-set.ts";
import { killSwitch } from "./actions/kill-switch.ts";
import { quarantineRelease } from "./actions/quarantine-release.ts";
import { replay } from "./actions/replay.ts";
import { contract } from "./contract.ts";

/** The Autonomous portal: DLQ replay and approval, the kill switch, flag changes, quarantine release. */
export default definePortal({ contract, actions: [replay, approve, killSwitch, flagSet, quarantineRelease] });
