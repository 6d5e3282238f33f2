import { spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";

/** True when nothing listens on 127.0.0.1:port. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A free port chosen by the kernel (for throwaway stacks). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : null;
}

/** Starts a long-lived process in its own process group, output to a log file. */
export function spawnDaemon(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; pidFile: string },
): number {
  const out = openSync(opts.logFile, "a");
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", out, out] });
  child.unref();
  if (!child.pid) throw new Error(`could not start ${cmd}`);
  writeFileSync(opts.pidFile, String(child.pid));
  return child.pid;
}

/** Stops a daemon's whole process group: TERM, then KILL after a grace period. */
export async function stopDaemon(pidFile: string, graceMs = 5000): Promise<void> {
  const pid = readPid(pidFile);
  if (pid) {
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pid, s);
      } catch {
        try { process.kill(pid, s); } catch { /* already gone */ }
      }
    };
    signal("SIGTERM");
    const until = Date.now() + graceMs;
    while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (pidAlive(pid)) signal("SIGKILL");
  }
  rmSync(pidFile, { force: true });
}

type Maybe<T> = T | null | undefined | false;
/** Asks `probe` every `every` ms until it answers (anything truthy) or `ms` have passed: null then. */
export async function poll<T>(ms: number, probe: () => Maybe<T> | Promise<Maybe<T>>, every = 100): Promise<T | null> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() >= end) return null;
    await new Promise((r) => setTimeout(r, every));
  }
}
