/**
 * The longer load run, k6/thresholds.json's `load` profile (price_one ramps; the twin of
 * k6/load.js). LOAD_RELAY=off when the stack runs its own relay worker (npm start's does).
 *   SWITCHYARD_API_URL=... SWITCHYARD_DB_URL=... SWITCHYARD_ANON_KEY=... SWITCHYARD_JWT_SECRET=... npx tsx load/load.ts
 */
import { reportLoad, runPortalLoad, targetFromEnv } from "./portal.ts";

process.exit(reportLoad(await runPortalLoad(targetFromEnv(), "load", { relay: process.env.LOAD_RELAY !== "off" })) ? 0 : 1);
