/**
 * The fault suite's own throwaway stack (like npm test's and the bench's): a fresh cluster
 * and runtime on free ports, destroyed at the end, pass or fail. Unlike the bench it keeps
 * everything production-like on: the runtime's relay worker, the pg_cron schedules (the
 * autopilot's SLO gate, the relay safety net), synchronous_commit (a kill -9 must not lose a
 * commit the client was told about). And the levers the scenarios pull: Postgres restarted
 * or killed, the runtime SIGKILLed.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { apiUrl, dbUrl, ensureInstance, type Instance, PROJECT_ROOT } from "../stack/instance.ts";
import { destroy, runtimePid, up } from "../stack/manager.ts";
import { isRunning, pgCtlAsync, startCluster } from "../stack/postgres.ts";
import { freePort, pidAlive } from "../stack/processes.ts";
import { processes } from "../stack/leftovers.ts";
import { sleep } from "../../bench/lib/stats.ts";

export interface FaultStack {
  inst: Instance;
  api: string;
  db: string;
  /** A small superuser pool for setup and accounting (reconnects after a restart). */
  admin: postgres.Sql;
  destroy: () => Promise<void>;
}

export async function startFaultStack(name: string, log: (s: string) => void): Promise<FaultStack> {
  const inst = await ensureInstance(name, { api: await freePort(), db: await freePort() }, false);
  let admin: postgres.Sql | null = null;
  let destroyed = false;
  const destroyAll = async () => {
    if (destroyed) return;
    destroyed = true;
    await admin?.end({ timeout: 2 }).catch(() => {});
    await destroy(inst, () => {});
  };
  try {
    await up(inst, (s) => log(`stack: ${s}`), { skipCheck: true });
    admin = postgres(dbUrl(inst), { prepare: false, max: 3, onnotice: () => {}, connect_timeout: 5 });
    return { inst, api: apiUrl(inst), db: dbUrl(inst), admin, destroy: destroyAll };
  } catch (err) {
    await destroyAll();
    throw err;
  }
}

export function postmasterPid(i: Instance): number | null {
  const f = join(i.dataDir, "postmaster.pid");
  if (!existsSync(f)) return null;
  const pid = Number(readFileSync(f, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : null;
}

/**
 * kill -9 of the postmaster, then a start as a service manager would do it. The orphaned
 * backends notice the postmaster's death and exit; until they have, the old shared memory
 * is in use and the start is refused, so it is retried.
 */
export async function pgKill9AndStart(i: Instance, downMs: number): Promise<{ killedAt: number; acceptingAt: number }> {
  const pid = postmasterPid(i);
  if (!pid) throw new Error("postmaster is not running");
  const children = processes().filter((p) => p.ppid === pid).map((p) => p.pid);
  process.kill(pid, "SIGKILL");
  const killedAt = Date.now();
  await sleep(downMs);
  const until = Date.now() + 60_000;
  let last = "";
  while (Date.now() < until) {
    if (children.every((c) => !pidAlive(c))) {
      const r = await pgCtlAsync(i, ["-w", "-t", "30", "start"]);
      if (r.ok || isRunning(i)) return { killedAt, acceptingAt: Date.now() };
      last = r.out;
    }
    await sleep(250);
  }
  throw new Error(`Postgres did not come back after kill -9: ${last.trim()}`);
}

/** Starts Postgres if it is down (after a scenario that broke mid-fault). */
export function ensurePgUp(i: Instance): void {
  if (!isRunning(i)) startCluster(i);
}

/**
 * The process that serves the functions: the runtime's worker when a supervisor runs it as a
 * child process, else the runtime itself (scripts/stack/manager.ts's pid file).
 */
export function servingPid(i: Instance): { pid: number; supervised: boolean } | null {
  const top = runtimePid(i);
  if (!top) return null;
  const child = processes().find((p) => p.ppid === top && /deno/.test(p.cmdline));
  return child ? { pid: child.pid, supervised: true } : { pid: top, supervised: false };
}

/**
 * Brings a dead runtime back as an operator would (`npm run stack -- up`, without the type
 * check), in a child process so that this event loop keeps running meanwhile.
 */
export function operatorUp(i: Instance): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(PROJECT_ROOT, "node_modules", ".bin", "tsx"), ["scripts/faults/operator-up.ts", i.name], {
      cwd: PROJECT_ROOT, stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`stack up failed: ${err.trim().slice(-500)}`))));
  });
}

/**
 * Watches the serving process through a scenario (every 250 ms): how often it exited or was
 * replaced (a supervisor's restart counts: the issue asks that the runtime never exits).
 */
export function watchRuntime(i: Instance): { stop: () => { exits: number; pids: number[] } } {
  const pids: number[] = [];
  let exits = 0;
  let last: number | null = servingPid(i)?.pid ?? null;
  if (last) pids.push(last);
  const timer = setInterval(() => {
    const now = servingPid(i)?.pid ?? null;
    if (now !== last) {
      if (last !== null) exits++;
      if (now !== null) pids.push(now);
      last = now;
    }
  }, 250);
  return { stop: () => (clearInterval(timer), { exits, pids }) };
}
