/** The load smoke npm test runs against its throwaway stack (which has no relay worker): k6/thresholds.json's smoke run. */
import { reportLoad, runPortalLoad, targetFromEnv } from "./portal.ts";

process.exit(reportLoad(await runPortalLoad(targetFromEnv(), "smoke", { relay: true })) ? 0 : 1);
