import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { run, runOrFail } from "./exec.ts";
import { StackError } from "./errors.ts";
import { apiUrl, dbUrl, functionEnv, type Instance, PROJECT_ROOT, storageDir } from "./instance.ts";
import { ensureDebianPackages } from "./packages.ts";
import { clusterExists, initCluster, isRunning, psql, removeCluster, startCluster, stopCluster } from "./postgres.ts";
import { migrationFiles } from "./schema.ts";
import { pidAlive, portFree, readPid, spawnDaemon, stopDaemon } from "./processes.ts";
import { readSupervisorState, type SupervisorState } from "./supervisor.ts";
import { removeDr, stopStandby } from "./standby.ts";

const BIN = join(PROJECT_ROOT, "node_modules", ".bin");
/** The supervisor's pid (the daemon: `down` stops its process group, the runtime with it). */
const supervisorPidFile = (i: Instance) => join(i.stateDir, "runtime.pid");
const supervisorStateFile = (i: Instance) => join(i.stateDir, "runtime.json");
const runtimeLog = (i: Instance) => join(i.stateDir, "runtime.log");

export type Log = (line: string) => void;

/** The supervisor's state while it runs (null when the runtime is not supervised here). */
function runtimeState(i: Instance): SupervisorState | null {
  return readPid(supervisorPidFile(i)) ? readSupervisorState(supervisorStateFile(i)) : null;
}

/** The Deno runtime's pid while it runs (null while stopped, or between an exit and its restart). */
export function runtimePid(i: Instance): number | null {
  const pid = runtimeState(i)?.runtimePid ?? null;
  return pid && pidAlive(pid) ? pid : null;
}

/** Type-checks the runtime and every function, as the hosted deploy would refuse them. */
export function denoCheck(): void {
  const fns = listFunctionEntrypoints();
  runOrFail("deno check (functions and runtime)", join(BIN, "deno"), ["check", "scripts/runtime/main.ts", ...fns], {
    cwd: PROJECT_ROOT,
  });
}

/** supabase/seed.sql, then supabase/seeds/*.sql in name order ([db.seed] sql_paths). */
export function seedFiles(): string[] {
  const dir = join(PROJECT_ROOT, "supabase", "seeds");
  const more = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sql")).sort().map((f) => join(dir, f)) : [];
  return [join(PROJECT_ROOT, "supabase", "seed.sql"), ...more];
}

export function listFunctionEntrypoints(): string[] {
  const dir = join(PROJECT_ROOT, "supabase", "functions");
  return run("ls", [dir]).stdout.split("\n")
    .filter((n) => n && !n.startsWith("_") && existsSync(join(dir, n, "index.ts")))
    .map((n) => `supabase/functions/${n}/index.ts`);
}

export async function healthy(i: Instance, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(`${apiUrl(i)}/functions/v1/health`, {
      headers: { authorization: `Bearer ${i.anonKey}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export interface AppliedMigration {
  version: string;
  name: string | null;
}

export const MIGRATIONS_REWRITTEN = "migrations rewritten: run `npm run stack -- reset`";

/**
 * Compares what the database recorded (supabase_migrations.schema_migrations) with the files
 * in supabase/migrations. Returns one line per applied migration whose file is gone or was
 * renamed (empty: the history is a prefix of the files, so `migration up` can go on).
 * `supabase migration up` would otherwise skip the new files silently or fail half-way.
 */
export function rewrittenMigrations(applied: AppliedMigration[], files: string[]): string[] {
  const byVersion = new Map<string, string>();
  for (const f of files) {
    const m = /^(\d+)_(.+)\.sql$/.exec(f);
    if (m) byVersion.set(m[1], m[2]);
  }
  const problems: string[] = [];
  for (const a of [...applied].sort((x, y) => x.version.localeCompare(y.version))) {
    const file = byVersion.get(a.version);
    if (file === undefined) {
      problems.push(`applied ${a.version}_${a.name ?? ""} has no file in supabase/migrations`);
    } else if ((a.name ?? "") !== file) {
      problems.push(`applied ${a.version}_${a.name ?? ""} is now ${a.version}_${file}.sql`);
    }
  }
  return problems;
}

/** What this stack's database recorded as applied (the table must exist). */
export function appliedMigrations(i: Instance): AppliedMigration[] {
  const out = psql(i, ["-At", "-F", "\t", "-c",
    "select version, coalesce(name, '') from supabase_migrations.schema_migrations order by version",
  ], "reading supabase_migrations.schema_migrations").trim();
  return out ? out.split("\n").map((l) => {
    const [version, name] = l.split("\t");
    return { version, name: name || null };
  }) : [];
}

/** Stops with MIGRATIONS_REWRITTEN when the applied history no longer matches the files. */
export function checkMigrationHistory(i: Instance): void {
  const exists = psql(i, ["-At", "-c", "select to_regclass('supabase_migrations.schema_migrations') is not null"]).trim();
  if (exists !== "t") return;
  const problems = rewrittenMigrations(appliedMigrations(i), migrationFiles());
  if (problems.length > 0) {
    throw new StackError(`${MIGRATIONS_REWRITTEN}\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

/** Migrations with the pinned Supabase CLI, exactly as against a hosted project. */
export function applyMigrations(i: Instance): void {
  checkMigrationHistory(i);
  runOrFail("supabase migration up", join(BIN, "supabase"), [
    "migration", "up", "--db-url", `${dbUrl(i)}?sslmode=disable`, "--workdir", PROJECT_ROOT,
  ], { cwd: PROJECT_ROOT, env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" } });
}

function applyBaseline(i: Instance): void {
  psql(i, ["-f", join(PROJECT_ROOT, "scripts", "stack", "baseline.sql")], "Supabase baseline");
  // The Vault entries the cron jobs read (a hosted project creates the same ones once).
  const secrets: Record<string, string> = {
    project_url: apiUrl(i),
    anon_key: i.anonKey,
    service_role_key: i.serviceRoleKey,
  };
  const stmts = Object.entries(secrets).map(([k, v]) =>
    `delete from vault.secrets where name = '${k}'; select vault.create_secret('${v}', '${k}');`
  );
  psql(i, ["-c", stmts.join("\n")], "Vault entries");
}

export interface RuntimeOptions {
  /** Run the outbox relay worker in the runtime (default on; tests run their own relays). */
  relayWorker?: boolean;
  /** Exit on an unhandled rejection or exception instead of containing it (tests). */
  tripwire?: boolean;
}

/**
 * Starts the runtime under its supervisor (scripts/stack/supervisor.ts), which starts it
 * again whenever it exits, and waits until the gateway answers health.
 */
export async function startRuntime(i: Instance, log: Log, opts: RuntimeOptions = {}): Promise<void> {
  log(`starting functions gateway and pg_net worker on ${apiUrl(i)} (supervised)`);
  rmSync(supervisorStateFile(i), { force: true });
  spawnDaemon(process.execPath, [
    "--import", "tsx", join(PROJECT_ROOT, "scripts", "stack", "supervisor.ts"), supervisorStateFile(i), "--",
    join(BIN, "deno"), "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", `--allow-write=${storageDir(i)}`, "scripts/runtime/main.ts",
  ], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env, ...functionEnv(i), PORT: String(i.apiPort), NO_COLOR: "1",
      SWITCHYARD_RELAY_WORKER: (opts.relayWorker ?? true) ? "on" : "off", SWITCHYARD_TRIPWIRE: opts.tripwire ? "1" : "0",
    },
    logFile: runtimeLog(i),
    pidFile: supervisorPidFile(i),
  });
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (await healthy(i)) return;
    if (!readPid(supervisorPidFile(i))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const tail = existsSync(runtimeLog(i)) ? readFileSync(runtimeLog(i), "utf8").split("\n").slice(-15).join("\n") : "";
  throw new StackError(`The functions gateway did not become healthy on ${apiUrl(i)}:\n${tail}`);
}

/** Stops the supervisor and the runtime (its process group). */
export async function stopRuntime(i: Instance): Promise<void> {
  await stopDaemon(supervisorPidFile(i));
}

/**
 * Start-up warm-up (issue 12 item 8): the migrations and seed leave about 50 tables (catalogs
 * among them) with dead rows or changes never analyzed, which autovacuum would take up in the
 * first minute of traffic. This does the same work before the first request. Only those
 * tables: an empty table that was never vacuumed keeps the planner's "at least 10 pages"
 * assumption (analyzed empty, plans cached while it grows assumed it stayed empty).
 */
function warmUp(i: Instance, log: Log): void {
  const tables = psql(i, ["-At", "-c", `select string_agg(format('%I.%I', schemaname, relname), ', ')
    from pg_stat_all_tables where n_dead_tup > 0 or n_mod_since_analyze > 0`]).trim();
  if (!tables) return;
  log(`vacuum analyze of ${tables.split(", ").length} tables (warm-up)`);
  psql(i, ["-c", `vacuum (analyze) ${tables}`], "vacuum analyze (warm-up)");
}

export interface UpResult {
  startedDb: boolean;
  startedRuntime: boolean;
}

/**
 * Brings the stack up; harmless when it is already up. On any failure it stops what this
 * call started, so nothing is left half-running.
 */
export interface UpOptions extends RuntimeOptions {
  /** Skip `deno check` (npm test has just run it). */
  skipCheck?: boolean;
  /** Start the functions gateway (default on; the schema dump needs only the database). */
  runtime?: boolean;
}

export async function up(i: Instance, log: Log, opts: UpOptions = {}): Promise<UpResult> {
  const result: UpResult = { startedDb: false, startedRuntime: false };
  ensureDebianPackages(log);
  const dbUp = isRunning(i);
  const rtUp = readPid(supervisorPidFile(i)) !== null;
  if (dbUp && rtUp && await healthy(i)) {
    log(`stack '${i.name}' is already up`);
    return result;
  }
  if (!dbUp && !(await portFree(i.dbPort))) {
    throw new StackError(`Port ${i.dbPort} (database) is already in use by another process. Free it or stop that process.`);
  }
  if (!rtUp && !(await portFree(i.apiPort))) {
    throw new StackError(`Port ${i.apiPort} (API) is already in use by another process. Free it or stop that process.`);
  }
  try {
    if (!opts.skipCheck) {
      log("type-checking functions");
      denoCheck();
    }
    if (!dbUp) {
      if (!clusterExists(i)) log(`creating Postgres cluster in ${i.dataDir}`);
      initCluster(i);
      log(`starting Postgres on 127.0.0.1:${i.dbPort}`);
      startCluster(i);
      result.startedDb = true;
    }
    checkMigrationHistory(i); // before touching anything: a rewritten history needs a reset
    const fresh = psql(i, ["-At", "-c", "select to_regclass('supabase_migrations.schema_migrations') is null"]).trim() === "t";
    log("applying Supabase baseline");
    applyBaseline(i);
    log("applying migrations (supabase migration up)");
    applyMigrations(i);
    log("applying seed");
    for (const f of seedFiles()) psql(i, ["-f", f], `seed ${f}`);
    if (fresh) warmUp(i, log);
    if (opts.runtime === false) return result;
    if (rtUp) await stopRuntime(i); // up but unhealthy: restart it
    await startRuntime(i, log, opts);
    result.startedRuntime = true;
    return result;
  } catch (err) {
    await stopStarted(i, result);
    throw err;
  }
}

export async function stopStarted(i: Instance, what: UpResult): Promise<void> {
  if (what.startedRuntime || readPid(supervisorPidFile(i))) await stopRuntime(i);
  if (what.startedDb) stopCluster(i);
}

export async function down(i: Instance, log: Log): Promise<void> {
  const pid = readPid(supervisorPidFile(i));
  if (pid) log(`stopping runtime and its supervisor (pid ${pid})`);
  await stopRuntime(i);
  if (isRunning(i)) log("stopping Postgres");
  stopCluster(i);
  stopStandby(i);
}

/** Removes the cluster and state: a throwaway stack leaves nothing behind. */
export async function destroy(i: Instance, log: Log): Promise<void> {
  await down(i, log);
  removeDr(i);
  removeCluster(i);
  rmSync(i.stateDir, { recursive: true, force: true });
}

export interface Status {
  name: string;
  database: "running" | "stopped";
  /** restarting: the supervisor runs, the runtime exited and is about to start again. */
  runtime: "running" | "restarting" | "stopped";
  runtimePid: number | null;
  supervisorPid: number | null;
  /** How often the supervisor started the runtime again after it exited. */
  restarts: number;
  lastExit: SupervisorState["lastExit"];
  apiUrl: string;
  functionsUrl: string;
  dbUrl: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
}

export function status(i: Instance): Status {
  const supervisorPid = readPid(supervisorPidFile(i));
  const state = runtimeState(i);
  const pid = runtimePid(i);
  return {
    name: i.name,
    database: isRunning(i) ? "running" : "stopped",
    runtime: pid ? "running" : supervisorPid ? "restarting" : "stopped",
    runtimePid: pid,
    supervisorPid,
    restarts: state?.restarts ?? 0,
    lastExit: state?.lastExit ?? null,
    apiUrl: apiUrl(i),
    functionsUrl: `${apiUrl(i)}/functions/v1`,
    dbUrl: dbUrl(i),
    jwtSecret: i.jwtSecret,
    anonKey: i.anonKey,
    serviceRoleKey: i.serviceRoleKey,
  };
}

/** The supervisor's view: restarts and the last exit (why the runtime went away). */
export function runtimeLine(s: Status): string {
  if (!s.supervisorPid) return "not running";
  const e = s.lastExit;
  const why = e ? `, last exit ${e.signal ? `signal ${e.signal}` : `code ${e.code}`} at ${e.at} after ${(e.uptimeMs / 1000).toFixed(1)} s` : "";
  return `supervised (supervisor pid ${s.supervisorPid}), restarts ${s.restarts}${why}`;
}

/** The layout `supabase status` prints. */
export function formatStatus(s: Status): string {
  const rows: [string, string][] = [
    ["Stack", `${s.name} (database ${s.database}, runtime ${s.runtime}${s.runtimePid ? ` pid ${s.runtimePid}` : ""})`],
    ["Runtime", runtimeLine(s)],
    ["API URL", s.apiUrl],
    ["Functions URL", s.functionsUrl],
    ["DB URL", s.dbUrl],
    ["JWT secret", s.jwtSecret],
    ["anon key", s.anonKey],
    ["service_role key", s.serviceRoleKey],
  ];
  return rows.map(([k, v]) => `${k.padStart(16)}: ${v}`).join("\n");
}
