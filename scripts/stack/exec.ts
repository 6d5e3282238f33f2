import { spawnSync, type SpawnSyncOptions } from "node:child_process";
import { StackError } from "./errors.ts";

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, capturing its output. Never throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) return { status: 127, stdout: "", stderr: String(r.error.message) };
  return { status: r.status ?? 1, stdout: String(r.stdout ?? ""), stderr: String(r.stderr ?? "") };
}

/** Runs a program and throws a StackError naming `what` when it fails. */
export function runOrFail(what: string, cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) {
    const detail = (r.stderr || r.stdout).trim().split("\n").slice(-15).join("\n");
    throw new StackError(`${what} failed (exit ${r.status}):\n${detail}`);
  }
  return r.stdout;
}

export const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;
