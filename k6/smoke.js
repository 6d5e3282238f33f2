// @ts-check
/**
 * k6 smoke: the post-deploy gate's load run (.github/workflows/deploy.yml), k6/thresholds.json's
 * `smoke` profile and thresholds; the autocannon twin is load/smoke.ts. A crossed threshold
 * makes k6 exit 99, which fails the gate.
 *   k6 run -e SWITCHYARD_API_URL=http://127.0.0.1:54321 -e SWITCHYARD_ANON_KEY=... -e SWITCHYARD_JWT_SECRET=... k6/smoke.js
 * Environment: see k6/portal.js.
 */
import { runOptions } from "./portal.js";

export { health, outbox_lag, price_one, setup } from "./portal.js";

export const options = runOptions(JSON.parse(open("./thresholds.json")), "smoke");
