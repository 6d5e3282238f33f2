import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { run, runOrFail } from "./exec.ts";
import { PG_BIN } from "./packages.ts";
import { dbUrl, type Instance, PROJECT_ROOT } from "./instance.ts";
import { StackError } from "./errors.ts";

/** Runs a Postgres server program, as the unprivileged OS user when we are root. */
export function pgCmd(i: Instance, prog: string, args: string[]) {
  const bin = join(PG_BIN, prog);
  return i.osUser ? run("runuser", ["-u", i.osUser, "--", bin, ...args]) : run(bin, args);
}

export function pgCmdOrFail(i: Instance, what: string, prog: string, args: string[]): string {
  const r = pgCmd(i, prog, args);
  if (r.status !== 0) throw new StackError(`${what} failed:\n${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export const logFile = (i: Instance) => join(i.dataDir, "..", "postgres.log");

export function clusterExists(i: Instance): boolean {
  return existsSync(join(i.dataDir, "PG_VERSION"));
}

/** initdb + the settings the stack relies on (port, socket, pg_cron, vault key). */
export function initCluster(i: Instance): void {
  if (clusterExists(i)) return;
  const pgRoot = join(i.dataDir, "..");
  mkdirSync(i.dataDir, { recursive: true });
  mkdirSync(i.socketDir, { recursive: true });
  const pwFile = join(pgRoot, "pwfile");
  writeFileSync(pwFile, "postgres\n", { mode: 0o600 });
  if (i.osUser) runOrFail("chown", "chown", ["-R", `${i.osUser}:${i.osUser}`, pgRoot]);
  chmodSync(i.dataDir, 0o700);
  pgCmdOrFail(i, "initdb", "initdb", [
    "-D", i.dataDir, "-U", "postgres", "--pwfile", pwFile,
    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
    // pg_rewind (DR fail-back) needs checksums or wal_log_hints; checksums also catch torn pages.
    "--data-checksums",
  ]);
  rmSync(pwFile, { force: true });
  const conf = [
    `listen_addresses = '127.0.0.1'`,
    `port = ${i.dbPort}`,
    `unix_socket_directories = '${i.socketDir}'`,
    `shared_preload_libraries = 'pg_cron'`,
    `cron.database_name = 'postgres'`,
    // Background workers let pg_cron run jobs without a password over TCP.
    `cron.use_background_workers = on`,
    `max_worker_processes = 32`,
    `max_connections = 200`,
    `vault.root_key = '${i.vaultRootKey}'`,
    `log_min_messages = warning`,
    ...(i.throwaway ? [`synchronous_commit = off`] : []),
  ].join("\n");
  const confPath = join(i.dataDir, "postgresql.conf");
  writeFileSync(confPath, `${readFileSync(confPath, "utf8")}\n# switchyard local stack\n${conf}\n`);
}

export function isRunning(i: Instance): boolean {
  return clusterExists(i) && pgCmd(i, "pg_ctl", ["-D", i.dataDir, "status"]).status === 0;
}

export function startCluster(i: Instance): void {
  if (isRunning(i)) return;
  const r = pgCmd(i, "pg_ctl", ["-D", i.dataDir, "-l", logFile(i), "-w", "-t", "30", "start"]);
  if (r.status !== 0) {
    const tail = existsSync(logFile(i)) ? readFileSync(logFile(i), "utf8").split("\n").slice(-10).join("\n") : "";
    throw new StackError(`Postgres did not start:\n${(r.stderr || r.stdout).trim()}\n${tail}`);
  }
}

export function stopCluster(i: Instance): void {
  if (!isRunning(i)) return;
  pgCmdOrFail(i, "pg_ctl stop", "pg_ctl", ["-D", i.dataDir, "-m", "fast", "-w", "stop"]);
}

/**
 * pg_ctl as the cluster's OS user, asynchronously: a caller driving load from this process's
 * event loop (the fault suite, fault tests) must not stall while Postgres restarts. Output
 * goes to the cluster's log (-l): the new postmaster must not inherit a pipe of ours.
 */
export function pgCtlAsync(i: Instance, args: string[]): Promise<{ ok: boolean; out: string }> {
  const bin = join(PG_BIN, "pg_ctl");
  const full = ["-D", i.dataDir, "-l", logFile(i), ...args];
  const [cmd, argv] = i.osUser ? ["runuser", ["-u", i.osUser, "--", bin, ...full]] : [bin, full];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe"] });
    let out = "";
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", (err) => resolve({ ok: false, out: String(err) }));
    child.on("exit", (code) => resolve({ ok: code === 0, out }));
  });
}

/** `pg_ctl restart -m fast`: an operator's restart, as the clients see it; resolves when it accepts connections again. */
export async function restartCluster(i: Instance): Promise<void> {
  const r = await pgCtlAsync(i, ["-m", "fast", "-w", "-t", "60", "restart"]);
  if (!r.ok) throw new StackError(`pg_ctl restart failed:\n${r.out.trim()}`);
}

export function removeCluster(i: Instance): void {
  stopCluster(i);
  rmSync(join(i.dataDir, ".."), { recursive: true, force: true });
}

/** psql against the instance as postgres; stops on the first error. */
export function psql(i: Instance, args: string[], what = "psql"): string {
  return runOrFail(what, "psql", [dbUrl(i), "-X", "-q", "-v", "ON_ERROR_STOP=1", ...args], {
    cwd: PROJECT_ROOT,
  });
}

export function sqlValue(i: Instance, sql: string): string {
  return psql(i, ["-At", "-c", sql]).trim();
}
