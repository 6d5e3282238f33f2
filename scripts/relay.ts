/**
 * A standalone outbox relay worker (LISTEN/NOTIFY + timer), for running beside a hosted
 * project or in tests: SUPABASE_DB_URL=... npm run relay. Several may run at once.
 */
import postgres from "postgres";
import { POOL_OPTIONS } from "../packages/shared/db/client.ts";
import { createLogger } from "../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../packages/shared/outbox/relay.ts";

const url = process.env.SUPABASE_DB_URL;
if (!url) {
  console.error("SUPABASE_DB_URL is required");
  process.exit(2);
}
const log = createLogger("relay");
const sql = postgres(url, { ...POOL_OPTIONS, max: 4 });
const relay = new Relay(sql, {
  principalId: RELAY_PRINCIPAL,
  batchSize: Number(process.env.RELAY_BATCH ?? 100),
  claimSeconds: Number(process.env.RELAY_CLAIM_SECONDS ?? 30),
}, log);
const stop = await relay.start(Number(process.env.RELAY_POLL_MS ?? 1000));
log.info("relay started");
const shutdown = async () => {
  await stop();
  await sql.end({ timeout: 2 });
  process.exit(0);
};
const onSignal = () =>
  void shutdown().catch((err) => {
    log.error({ err: String(err) }, "relay shutdown failed");
    process.exit(1);
  });
process.on("SIGTERM", onSignal);
process.on("SIGINT", onSignal);
