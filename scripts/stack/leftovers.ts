/**
 * Processes as Linux's /proc shows them: what a test run may leave behind. Used by the relay
 * test (a killed relay's process group is gone) and by `npm test`, which fails when any
 * process it started outlived the run.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
  startTicks: number;
  cmdline: string;
}

/** Every live process readable here (zombies excluded: they do no work and are reaped). */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (rest[0] === "Z" || rest[0] === "X") continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
      out.push({ pid: Number(entry), ppid: Number(rest[1]), pgid: Number(rest[2]), startTicks: Number(rest[19]), cmdline });
    } catch { /* exited meanwhile, or not ours to read */ }
  }
  return out;
}

/** The live members of a process group. */
export const processGroup = (pgid: number): ProcInfo[] => processes().filter((p) => p.pgid === pgid);

/** Processes whose environment carries `name=value` (a marker a run gives its children). */
export function processesWithEnv(name: string, value: string): ProcInfo[] {
  const needle = `${name}=${value}`;
  return processes().filter((p) => {
    try {
      return readFileSync(`/proc/${p.pid}/environ`, "utf8").split("\0").includes(needle);
    } catch {
      return false;
    }
  });
}

/** Clock ticks since boot now (for "started after" comparisons with startTicks). */
export function nowTicks(): number {
  const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
  return Math.floor(uptime * 100); // USER_HZ is 100 on Linux
}

/** Waits until `pred` holds, polling every 50 ms; false after `ms`. */
export async function waitUntil(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pred();
}
