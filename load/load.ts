/**
 * A longer constant-arrival-rate load run: LOAD_RATE (price_one/s, default 50),
 * LOAD_SECONDS (default 60), LOAD_RELAY=off when the stack runs its own relay worker.
 *   SWITCHYARD_API_URL=... SWITCHYARD_DB_URL=... SWITCHYARD_ANON_KEY=... SWITCHYARD_JWT_SECRET=... npx tsx load/load.ts
 */
import { runPortalLoad } from "./portal.ts";

const rate = Number(process.env.LOAD_RATE ?? 50);
const ok = await runPortalLoad({
  name: "load", healthRate: rate, priceRate: rate, seconds: Number(process.env.LOAD_SECONDS ?? 60), relay: process.env.LOAD_RELAY !== "off",
});
process.exit(ok ? 0 : 1);
