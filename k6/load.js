// @ts-check
/**
 * k6 load run: k6/thresholds.json's `load` profile (price_one ramps) with the same thresholds
 * as the smoke; run by hand or by .github/workflows/k6-load.yml. The autocannon twin is load/load.ts.
 * One user at the peak rate exceeds the per-caller action limit (rate.actions.perMinute, 600):
 * lift it for the run's tenant and portal first (the workflow does).
 *   k6 run -e SWITCHYARD_API_URL=... -e SWITCHYARD_ANON_KEY=... -e SWITCHYARD_JWT_SECRET=... k6/load.js
 */
import { runOptions } from "./portal.js";

export { health, outbox_lag, price_one, setup } from "./portal.js";

export const options = runOptions(JSON.parse(open("./thresholds.json")), "load");
