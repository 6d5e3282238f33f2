/**
 * npm start: bring the stack up, prove it green, then show its status until Ctrl-C, which
 * stops what this command started. Attaching to a stack that is already up leaves it up.
 * SWITCHYARD_STACK=<name> runs a named stack on free ports instead of Supabase's.
 */
import postgres from "postgres";
import { StackError } from "./stack/errors.ts";
import { DEFAULT_PORTS, dbUrl, ensureInstance } from "./stack/instance.ts";
import { down, formatStatus, runtimeLine, status, up } from "./stack/manager.ts";
import { isRunning } from "./stack/postgres.ts";
import { freePort } from "./stack/processes.ts";
import { formatChecks, proveGreen } from "./prove-green/checks.ts";

const name = process.env.SWITCHYARD_STACK ?? "default";
const log = (s: string) => console.log(`[start] ${s}`);

async function main(): Promise<void> {
  const ports = name === "default" ? DEFAULT_PORTS : { api: await freePort(), db: await freePort() };
  const inst = await ensureInstance(name, ports);
  // Ctrl-C at any moment stops cleanly: while the stack comes up it is remembered (up stops
  // what it started on failure only), from then on it stops what this command started.
  let interrupted = false;
  let onSignal = () => void (interrupted = true);
  process.on("SIGINT", () => onSignal());
  process.on("SIGTERM", () => onSignal());
  const started = await up(inst, log);
  const owned = started.startedDb || started.startedRuntime;

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (owned) {
      log("stopping the stack this command started");
      await down(inst, log);
    } else {
      log("detaching; the stack keeps running (it was already up)");
    }
    process.exit(code);
  };
  onSignal = () => void stop(0);
  if (interrupted) return void stop(0);
  console.log(`\n${formatStatus(status(inst))}\n`);

  const results = await proveGreen(inst);
  console.log(`prove-green:\n${formatChecks(results)}\n`);
  const green = results.every((r) => r.ok);
  if (!green) {
    log("prove-green is RED");
    return void stop(1);
  }
  log(owned ? "stack is up; Ctrl-C stops it" : "attached to a running stack; Ctrl-C detaches");

  // Foreground status: one line every 10 s, including the cron -> pg_net -> health calls. The
  // runtime runs under its supervisor, which starts it again if it exits: each restart is shown.
  const sql = postgres(dbUrl(inst), { prepare: false, max: 1, onnotice: () => {} });
  let restarts = status(inst).restarts;
  const tick = async () => {
    const s = status(inst);
    if (s.restarts > restarts) log(`the runtime exited and was restarted: ${runtimeLine(s)}`);
    restarts = s.restarts;
    const db = isRunning(inst), rt = s.runtime === "running" ? "up" : s.runtime === "stopped" ? "DOWN" : "RESTARTING";
    let calls = "";
    if (db) {
      const [r] = await sql`
        select count(*) filter (where status_code = 200)::int as ok, count(*)::int as total,
               max(created) filter (where status_code = 200) as last_ok
        from net._http_response where created > now() - interval '5 minutes'`.catch(() => [null]);
      if (r) calls = `, health calls (5 min): ${r.ok}/${r.total} ok${r.last_ok ? `, last ${new Date(r.last_ok).toISOString()}` : ""}`;
    }
    log(`${new Date().toISOString()} database ${db ? "up" : "DOWN"}, runtime ${rt}${s.restarts ? ` (restarts ${s.restarts})` : ""}${calls}`);
  };
  await tick();
  setInterval(() => void tick().catch((err) => log(`status failed: ${err}`)), 10_000);
}

main().catch((err) => {
  console.error(err instanceof StackError ? `[start] ${err.message}` : err);
  process.exit(err instanceof StackError ? err.exitCode : 1);
});
