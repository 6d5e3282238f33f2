/**
 * The local runtime (Deno): the functions gateway on the API port, and the pg_net
 * stand-in's worker. Started and stopped by scripts/stack.ts.
 */
import postgres from "postgres";
import { loadFunctions } from "./functions.ts";
import { gateway } from "./gateway.ts";
import { startPgNetWorker } from "./pgnet.ts";
import { createLogger } from "../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../../packages/shared/outbox/relay.ts";

const env = (k: string) => {
  const v = Deno.env.get(k);
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const log = (o: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), ...o }));

const projectRoot = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const port = Number(env("PORT"));
const functions = await loadFunctions(projectRoot);

const sql = postgres(env("SUPABASE_DB_URL"), { prepare: false, max: 4, onnotice: () => {} });
const stopWorker = await startPgNetWorker(sql, log);
// The outbox relay worker (LISTEN/NOTIFY); off where tests run relays of their own.
const stopRelay = Deno.env.get("SWITCHYARD_RELAY_WORKER") === "off"
  ? async () => {}
  : await new Relay(sql, { principalId: RELAY_PRINCIPAL }, createLogger("relay")).start();

const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {
  log({ level: "info", msg: "runtime listening", port, functions: [...functions.keys()] });
} }, gateway(functions, env("SWITCHYARD_JWT_SECRET")));

const shutdown = async () => {
  stopWorker();
  await stopRelay();
  await server.shutdown();
  await sql.end({ timeout: 2 });
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", shutdown);
Deno.addSignalListener("SIGINT", shutdown);
