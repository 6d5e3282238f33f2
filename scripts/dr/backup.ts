/**
 * Base backups and restore tests (issue 19 item 4), `npm run ops -- dr backup|restore-test`:
 *
 *   backup        pg_basebackup (SHA-256 manifest) into the stack's backups folder, checked by
 *                 pg_verifybackup; only a verified backup is recorded (ops.dr_backups), which
 *                 is what the daily backup-freshness check reads.
 *   restore-test  the latest verified base backup + the WAL archive, recovered to a point in
 *                 time (default: the end of the archive) in a scratch cluster on its own port
 *                 with pg_cron and archiving off; pg_amcheck, then the project's own checks
 *                 (row counts, audit hash chains, flags typed, ledger trial balance zero);
 *                 dropped. Reports the recovery point and the recovery time.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOrFail } from "../stack/exec.ts";
import { dbUrl, type Instance } from "../stack/instance.ts";
import { freePort } from "../stack/processes.ts";
import { pgCmd, pgCmdOrFail, removeCluster, startCluster } from "../stack/postgres.ts";
import { ensureArchiving } from "../stack/standby.ts";
import { OpsError } from "../ops/errors.ts";
import { poll } from "../stack/processes.ts";
import { connectDr, type Log, Runbook, type Sql } from "./runbook.ts";

export interface BackupReport {
  run_id: number;
  label: string;
  path: string;
  start_lsn: string;
  end_lsn: string;
  bytes: number;
  verified: string;
}

const du = (dir: string) => Number(runOrFail("du", "du", ["-sb", dir]).split("\t")[0]);

export async function backup(i: Instance, log: Log): Promise<BackupReport> {
  const { backupsDir } = ensureArchiving(i, log);
  const rb = new Runbook("backup", log);
  const sql = connectDr(dbUrl(i));
  const takenAt = new Date();
  const label = `base-${takenAt.toISOString().replace(/[-:.]/g, "").slice(0, 15)}-${process.pid}`;
  const path = join(backupsDir, label);
  try {
    await rb.step("pg_basebackup (manifest, SHA-256)", () => pgCmdOrFail(i, "pg_basebackup", "pg_basebackup", [
      "-d", dbUrl(i), "-D", path, "-X", "stream", "-c", "fast", "-l", label, "--manifest-checksums=SHA256",
    ]));
    const verified = await rb.step("pg_verifybackup", () => pgCmdOrFail(i, "pg_verifybackup", "pg_verifybackup", [path]).trim(), (v) => v);
    const manifest = JSON.parse(readFileSync(join(path, "backup_manifest"), "utf8")) as { "WAL-Ranges": { "Start-LSN": string; "End-LSN": string }[] };
    const range = manifest["WAL-Ranges"][0];
    const bytes = du(path);
    await rb.step("recorded as verified", () => sql`
      insert into ops.dr_backups (label, path, start_lsn, end_lsn, bytes, taken_at)
      values (${label}, ${path}, ${range["Start-LSN"]}, ${range["End-LSN"]}, ${bytes}, ${takenAt})`);
    const report: BackupReport = { run_id: 0, label, path, start_lsn: range["Start-LSN"], end_lsn: range["End-LSN"], bytes, verified };
    report.run_id = await rb.record(sql, true, { ...report });
    return report;
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    await rb.record(sql, false, { label, error: err instanceof Error ? err.message : String(err) }).catch(() => {});
    throw err;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export interface RestoreReport {
  run_id: number;
  backup: string;
  target: string;
  recovery_point: string | null;
  recovery_ms: number;
  amcheck: string;
  /** The newest audit row restored (a point-in-time restore has nothing after its target). */
  last_audit_at: string | null;
  counts: Record<string, number>;
  audit_chains: number;
  audit_ok: boolean;
  flags_typed: boolean;
  trial_balance_cents: number;
  ok: boolean;
}

/** Row counts that must match the source as of the recovery point (tables that only grow by humans' hands). */
const COUNTS = `select (select count(*) from public.tenants)::int as tenants, (select count(*) from public.principals)::int as principals,
                       (select count(*) from public.role_assignments)::int as assignments, (select count(*) from public.flag_definitions)::int as flag_definitions`;

/** Archives the WAL written so far (pg_switch_wal) and waits for the archiver: what a restore can reach. */
async function archiveNow(sql: Sql): Promise<string> {
  const [{ wal }] = await sql`select pg_walfile_name(pg_switch_wal()) as wal`;
  const done = await poll(30_000, async () => (await sql`select last_archived_wal >= ${wal} as done from pg_stat_archiver`)[0].done);
  if (!done) throw new Error(`WAL segment ${wal} was not archived within 30 s`);
  return wal;
}

export async function restoreTest(i: Instance, opts: { log: Log; targetTime?: Date }): Promise<RestoreReport> {
  const { archiveDir, backupsDir } = ensureArchiving(i, opts.log);
  const rb = new Runbook("restore-test", opts.log);
  const sql = connectDr(dbUrl(i));
  const root = join(backupsDir, `restore-${process.pid}`);
  const scratch: Instance = { ...i, dataDir: join(root, "data"), socketDir: join(root, "run"), dbPort: await freePort() };
  let restored: Sql | null = null;
  try {
    const [b] = await sql`select label, path from ops.dr_backups order by verified_at desc limit 1`;
    if (!b || !existsSync(b.path)) throw new OpsError("no verified base backup to restore (npm run ops -- dr backup)", 4, "not_found");
    const wal = await rb.step("archive the current WAL segment", () => archiveNow(sql), (w) => ({ wal: w }));
    const t0 = performance.now();
    await rb.step(`copy base backup ${b.label}`, () => {
      cpSync(b.path, scratch.dataDir, { recursive: true, preserveTimestamps: true });
      runOrFail("mkdir", "mkdir", ["-p", scratch.socketDir]);
      if (i.osUser) runOrFail("chown", "chown", ["-R", `${i.osUser}:${i.osUser}`, root]);
      runOrFail("chmod", "chmod", ["700", scratch.dataDir]);
    });
    // recovery_target_time takes numeric UTC offsets, not abbreviations such as ISO's Z.
    const target = opts.targetTime ? `recovery_target_time = '${opts.targetTime.toISOString().replace("T", " ").replace("Z", "+00")}'` : "";
    // postgresql.auto.conf overrides postgresql.conf: the scratch cluster neither archives into
    // the real archive nor runs the cron jobs (they would call the live runtime).
    writeFileSync(join(scratch.dataDir, "postgresql.auto.conf"), `${readFileSync(join(scratch.dataDir, "postgresql.auto.conf"), "utf8")}
port = ${scratch.dbPort}
unix_socket_directories = '${scratch.socketDir}'
archive_mode = off
shared_preload_libraries = ''
restore_command = 'cp ${archiveDir}/%f %p'
recovery_target_action = 'promote'
${target}
`);
    writeFileSync(join(scratch.dataDir, "recovery.signal"), "");
    if (i.osUser) runOrFail("chown", "chown", ["-R", `${i.osUser}:${i.osUser}`, root]);
    await rb.step("recover to the point in time (restore_command from the WAL archive)", async () => {
      startCluster(scratch);
      restored = connectDr(dbUrl(scratch));
      const done = await poll(60_000, async () => !(await restored!`select pg_is_in_recovery() as rec`)[0].rec);
      if (!done) throw new Error("recovery did not finish within 60 s");
    }, () => ({ through: wal }));
    const recoveryMs = Math.round(performance.now() - t0);
    const db = restored!;
    const [{ point }] = await db`select pg_last_xact_replay_timestamp() as point`;
    const amcheck = await rb.step("pg_amcheck (heap and btree, all indexes)", () => {
      // Over the scratch cluster's socket (trust): pg_amcheck takes a database name, not a URL.
      const r = pgCmd(scratch, "pg_amcheck", ["--install-missing", "--heapallindexed", "-h", scratch.socketDir, "-p", String(scratch.dbPort), "-U", "postgres", "postgres"]);
      if (r.status !== 0) throw new Error(`pg_amcheck (exit ${r.status}): ${(r.stdout || r.stderr).trim().split("\n").slice(0, 5).join(" | ")}`);
      return "clean";
    });
    const checks = await rb.step("project checks (counts, audit chains, flags typed, trial balance)", async () => {
      const [[counts], chains, [flags], [ledger], [audit]] = await Promise.all([
        db.unsafe(COUNTS),
        db`select ok from app_private.audit_verify()`,
        db`select bool_and(public.flag_value(d.key) is not null) as typed,
                  jsonb_typeof(public.flag_value('autonomy.emergencyStop')) = 'boolean' as stop_boolean
           from public.flag_definitions d`,
        db`select coalesce(sum(amount_cents), 0)::float8 as cents from public.journal_lines`,
        db`select max(occurred_at) as at from public.audit_log`,
      ]);
      return { last_audit_at: audit.at ? new Date(audit.at).toISOString() : null, counts, audit_chains: chains.length, audit_ok: chains.every((c) => c.ok), flags_typed: flags.typed && flags.stop_boolean, trial_balance_cents: ledger.cents };
    }, (c) => c);
    // Restored to the end of the archive, the counts are the source's own.
    const [want] = await sql.unsafe(COUNTS);
    const countsOk = opts.targetTime !== undefined || JSON.stringify(want) === JSON.stringify(checks.counts);
    const ok = countsOk && checks.audit_ok && checks.flags_typed && checks.trial_balance_cents === 0;
    const report: RestoreReport = {
      run_id: 0, backup: b.label, target: opts.targetTime?.toISOString() ?? "end of the WAL archive",
      recovery_point: point ? new Date(point).toISOString() : null, recovery_ms: recoveryMs, amcheck, ...checks, ok,
    };
    report.run_id = await rb.record(sql, ok, { ...report });
    await sql`select app_private.record_run('restore-test', ${rb.startedAt}, ${rb.elapsedMs()}, ${ok}, ${sql.json(report as never)})`;
    return report;
  } catch (err) {
    await rb.record(sql, false, { error: err instanceof Error ? err.message : String(err) }).catch(() => {});
    throw err;
  } finally {
    await (restored as Sql | null)?.end({ timeout: 1 });
    removeCluster(scratch);
    await sql.end({ timeout: 1 });
  }
}
