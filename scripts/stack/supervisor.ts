/**
 * The local runtime's supervisor (issue 12): runs a command (the Deno runtime), starts it
 * again whenever it exits, unless the supervisor itself is stopping, and keeps a state file
 * (runtime pid, restarts, last exit) that `npm run stack -- status` and `npm start` show.
 * scripts/stack/manager.ts starts it as a daemon in its own process group, so `down` signals
 * both; the runtime's output and the supervisor's lines go to the stack's runtime.log.
 *
 *   node --import tsx scripts/stack/supervisor.ts <state.json> -- <command> [args...]
 *
 * Back-off: 0.5 s after an exit, doubling up to 30 s while the runtime keeps exiting within a
 * minute of its start; a run that lasted longer starts the count again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface SupervisorState {
  supervisorPid: number;
  /** The runtime's pid while it runs; null between an exit and the restart. */
  runtimePid: number | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string; uptimeMs: number } | null;
}

export function readSupervisorState(file: string): SupervisorState | null {
  try {
    return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) as SupervisorState : null;
  } catch {
    return null; // being replaced (rename is atomic, the read raced it) or gone
  }
}

/** The wait before the next start: 0.5 s doubling up to 30 s over consecutive short runs. */
export function backoffMs(quickExits: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, quickExits - 1));
}

const STABLE_MS = 60_000;

export function supervise(stateFile: string, cmd: string, args: string[]): void {
  const log = (level: string, msg: string, extra: Record<string, unknown> = {}) =>
    console.log(JSON.stringify({ time: new Date().toISOString(), level, source: "supervisor", msg, ...extra }));
  const state: SupervisorState = { supervisorPid: process.pid, runtimePid: null, restarts: 0, lastExit: null };
  const save = () => {
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(state, null, 2));
    renameSync(`${stateFile}.tmp`, stateFile);
  };
  let child: ChildProcess | null = null, stopping = false, quickExits = 0, timer: NodeJS.Timeout | undefined;

  const start = () => {
    const startedAt = Date.now();
    const c = spawn(cmd, args, { stdio: "inherit" });
    child = c;
    let exited = false;
    const onExit = (code: number | null, signal: string | null) => {
      if (exited) return;
      exited = true;
      child = null;
      const uptimeMs = Date.now() - startedAt;
      state.runtimePid = null;
      state.lastExit = { code, signal, at: new Date().toISOString(), uptimeMs };
      if (stopping) return save();
      quickExits = uptimeMs < STABLE_MS ? quickExits + 1 : 1;
      const inMs = backoffMs(quickExits);
      state.restarts++;
      save();
      log("warn", "runtime exited; restarting", { code, signal, uptime_ms: uptimeMs, restarts: state.restarts, in_ms: inMs });
      timer = setTimeout(start, inMs);
    };
    c.on("spawn", () => {
      state.runtimePid = c.pid ?? null;
      save();
    });
    c.on("exit", onExit);
    c.on("error", (err) => {
      log("error", "runtime could not be started", { err: String(err) });
      if (c.pid === undefined) onExit(null, null); // never ran: no exit event follows
    });
  };

  const stop = () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(timer);
    if (!child) {
      save();
      process.exit(0);
    }
    child.once("exit", () => process.exit(0));
    child.kill("SIGTERM"); // usually it has it already: `down` signals the whole group
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  save();
  start();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [stateFile, sep, cmd, ...args] = process.argv.slice(2);
  if (!stateFile || sep !== "--" || !cmd) {
    console.error("usage: supervisor.ts <state.json> -- <command> [args...]");
    process.exit(64);
  }
  supervise(stateFile, cmd, args);
}
