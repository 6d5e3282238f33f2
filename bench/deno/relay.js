// The outbox relay as it runs in production (Deno: the runtime's worker / the outbox-relay
// function), for the bench's relay measure: LISTEN/NOTIFY + timer, as relay@.
// Env: SUPABASE_DB_URL, RELAY_BATCH, RELAY_CONCURRENCY. Prints "started"; SIGTERM stops it.
// (Plain JS so the Node type-check leaves it alone; Deno loads the TypeScript it imports.)
import postgres from "postgres";
import { createLogger } from "../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../../packages/shared/outbox/relay.ts";

const sql = postgres(Deno.env.get("SUPABASE_DB_URL"), { prepare: false, max: 4, onnotice: () => {} });
const relay = new Relay(sql, {
  principalId: RELAY_PRINCIPAL,
  batchSize: Number(Deno.env.get("RELAY_BATCH") ?? 100),
  concurrency: Number(Deno.env.get("RELAY_CONCURRENCY") ?? 32),
  timeoutMs: 5000,
}, createLogger("bench-relay"));
const stop = await relay.start(1000);
console.log("started");
Deno.addSignalListener("SIGTERM", async () => {
  await stop();
  await sql.end({ timeout: 2 });
  Deno.exit(0);
});
