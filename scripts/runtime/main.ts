/**
 * The local runtime (Deno): the functions gateway on the API port, the pg_net stand-in's
 * worker and the outbox relay worker. Run by the stack's supervisor
 * (scripts/stack/supervisor.ts), which starts it again if it exits.
 *
 * Nothing that happens inside may end it (issue 12): a request's failure is that request's
 * (the gateway answers 500), a worker that cannot start (the database is away) tries again,
 * and a rejection or exception nobody handled is logged and contained. With
 * SWITCHYARD_TRIPWIRE=1 (tests) the runtime exits on one instead, so that a floating promise
 * shows as a restart.
 */
import postgres from "postgres";
import { POOL_OPTIONS } from "../../packages/shared/db/client.ts";
import { loadFunctions } from "./functions.ts";
import { gateway } from "./gateway.ts";
import { startPgNetWorker } from "./pgnet.ts";
import { problem, problemResponse } from "../../packages/shared/http/problem.ts";
import { createLogger } from "../../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../../packages/shared/outbox/relay.ts";

const env = (k: string) => {
  const v = Deno.env.get(k);
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const log = (o: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), ...o }));
const errText = (err: unknown) => err instanceof Error ? err.stack ?? err.message : String(err);

const tripwire = Deno.env.get("SWITCHYARD_TRIPWIRE") === "1";
const contain = (what: string, err: unknown) => {
  log({ level: "error", msg: tripwire ? `${what}: tripwire, exiting` : `${what} contained`, err: errText(err) });
  if (tripwire) Deno.exit(70);
};
globalThis.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  contain("unhandled rejection", e.reason);
});
globalThis.addEventListener("error", (e) => {
  e.preventDefault();
  contain("uncaught exception", e.error);
});

/** Starts a worker, and again with back-off (0.5 s doubling to 30 s) while it cannot start. */
function keepStarted(name: string, start: () => Promise<() => Promise<void>>): () => Promise<void> {
  let stop: (() => Promise<void>) | null = null, stopped = false, retry: ReturnType<typeof setTimeout> | undefined;
  const attempt = (n: number): void => {
    start().then((s) => {
      stop = s;
      if (n > 0) log({ level: "info", msg: `${name} started`, attempts: n + 1 });
      if (stopped) void s().catch((err) => log({ level: "error", msg: `${name} did not stop`, err: errText(err) }));
    }, (err) => {
      if (stopped) return;
      const ms = Math.min(30_000, 500 * 2 ** n);
      log({ level: "warn", msg: `${name} could not start; trying again`, in_ms: ms, err: String(err) });
      retry = setTimeout(() => attempt(n + 1), ms);
    });
  };
  attempt(0);
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await stop?.();
  };
}

const projectRoot = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const port = Number(env("PORT"));
const functions = await loadFunctions(projectRoot);
// The pg_net worker and the relay reconnect like the functions do (fail fast, no backoff left over).
const sql = postgres(env("SUPABASE_DB_URL"), { ...POOL_OPTIONS, max: 4 });

const listening = Promise.withResolvers<void>();
const handler = gateway(functions, env("SWITCHYARD_JWT_SECRET"));
let server: Deno.HttpServer | null = null, stopping = false, relistens = 0;
/**
 * Deno.serve's accept loop ends on an accept error — EMFILE when a burst of connections uses up
 * the descriptors (denoland/deno#10148) — while the process lives on: the gateway stopped
 * answering and, with no exit, the supervisor never restarted it. Listen again instead, after
 * a pause (0.25 s doubling to 5 s) that lets descriptors free up; the workers run on meanwhile.
 */
function serve(): void {
  const again = (err: unknown) => {
    if (stopping) return;
    const ms = Math.min(5_000, 250 * 2 ** relistens++);
    log({ level: "error", msg: "gateway listener failed; listening again", in_ms: ms, err: errText(err) });
    setTimeout(serve, ms);
  };
  try {
    const s = Deno.serve({
      hostname: "127.0.0.1",
      port,
      onListen: () => {
        log({ level: "info", msg: "runtime listening", port, functions: [...functions.keys()], tripwire, ...(relistens ? { relistens } : {}) });
        relistens = 0;
        listening.resolve();
      },
      onError: (err) => {
        log({ level: "error", msg: "request failed outside its function", err: errText(err) });
        return problemResponse(problem(500, "internal_error", "The request failed"));
      },
    }, handler);
    server = s;
    s.finished.catch(again);
  } catch (err) {
    again(err); // the socket could not be made (descriptors still exhausted)
  }
}
serve();

// The workers start once the gateway listens: requests queued while the runtime was down are
// mostly calls to this gateway, which failed with `fetch failed` when sent before it listened.
await listening.promise;
const workers = [keepStarted("pg_net worker", () => startPgNetWorker(sql, log))];
// The outbox relay worker (LISTEN/NOTIFY); off where tests run relays of their own.
if (Deno.env.get("SWITCHYARD_RELAY_WORKER") !== "off") {
  workers.push(keepStarted("outbox relay worker", () => new Relay(sql, { principalId: RELAY_PRINCIPAL }, createLogger("relay")).start()));
}

const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await Promise.all(workers.map((stop) => stop()));
  await server?.shutdown();
  await sql.end({ timeout: 2 });
  Deno.exit(0);
};
const onSignal = () =>
  void shutdown().catch((err) => {
    log({ level: "error", msg: "shutdown failed", err: errText(err) });
    Deno.exit(1);
  });
Deno.addSignalListener("SIGTERM", onSignal);
Deno.addSignalListener("SIGINT", onSignal);
