/**
 * The hosted DR drill (charter §6, weekly; monthly "restore test"), what the project automates
 * where Supabase keeps the physical backups (PITR) itself: dump the database, restore the dump
 * into a scratch database, verify it, drop the scratch database, and record the run in
 * ops.schedule_runs and the checked dump in ops.dr_backups (method pg_dump: what the daily
 * backup-freshness check reads; it alerts when none is 8 days fresh).
 *
 *   SUPABASE_DB_URL=postgresql://... [DR_SCRATCH_URL=postgresql://.../postgres] npm run dr-drill
 *
 * DR_SCRATCH_URL names a server where the drill may create and drop a database (default:
 * the same server). pg_cron lives in one database per cluster, so its objects are left out
 * of the restore.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

// Debian/Ubuntu keep the versioned client tools here; elsewhere they are on PATH.
const PG_BIN = process.env.PG_BIN ?? (existsSync("/usr/lib/postgresql/15/bin/pg_dump") ? "/usr/lib/postgresql/15/bin" : "");

function run(what: string, cmd: string, args: string[]) {
  const r = spawnSync(PG_BIN ? join(PG_BIN, cmd) : cmd, args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${what} failed: ${(r.stderr || r.stdout).trim().split("\n").slice(-5).join(" | ")}`);
  return r.stdout;
}

const step = (s: string) => console.log(`[dr-drill] ${s}`);

async function main(source: string): Promise<number> {
  const scratchServer = process.env.DR_SCRATCH_URL ?? source;
  const scratchName = `dr_drill_${Date.now()}`;
  const scratchUrl = (() => {
    const u = new URL(scratchServer);
    u.pathname = `/${scratchName}`;
    return u.toString();
  })();
  const src = postgres(source, { prepare: false, max: 1, onnotice: () => {} });
  const admin = postgres(scratchServer, { prepare: false, max: 1, onnotice: () => {} });
  const dir = mkdtempSync(join(tmpdir(), "dr-drill-"));
  const started = new Date();
  const [{ lsn: startLsn }] = await src`select pg_current_wal_lsn()::text as lsn`;
  const t0 = performance.now();
  let detail: Record<string, unknown> = {};
  let ok = false;
  try {
    const dump = join(dir, "db.dump");
    step("dumping the database");
    run("pg_dump", "pg_dump", ["--format=custom", "--file", dump, source]);
    detail.dump_bytes = statSync(dump).size;

    // Everything but pg_cron's extension and its schema.
    const list = run("pg_restore --list", "pg_restore", ["--list", dump])
      .split("\n").filter((l) => !/pg_cron|SCHEMA - cron| cron /.test(l)).join("\n");
    const listFile = join(dir, "restore.list");
    writeFileSync(listFile, list);

    step(`restoring into scratch database ${scratchName}`);
    await admin.unsafe(`create database ${scratchName}`);
    run("pg_restore", "pg_restore", ["--exit-on-error", "--no-owner", "--use-list", listFile, "--dbname", scratchUrl, dump]);

    step("verifying the restore");
    const scratch = postgres(scratchUrl, { prepare: false, max: 1, onnotice: () => {} });
    try {
      const counts = async (db: typeof src) =>
        (await db`select (select count(*) from public.tenants)::int as tenants, (select count(*) from public.principals)::int as principals,
                         (select count(*) from public.role_assignments)::int as assignments,
                         (select count(*) from public.feature_flags_v2)::int as flags`)[0];
      const [want, got] = await Promise.all([counts(src), counts(scratch)]);
      const chains = await scratch`select ok from app_private.audit_verify()`;
      const [flag] = await scratch`select public.flag_value('autonomy.emergencyStop') as v`;
      detail = { ...detail, counts: got, audit_chains: chains.length, audit_ok: chains.every((c) => c.ok), emergency_stop_readable: typeof flag.v === "boolean" };
      ok = JSON.stringify(want) === JSON.stringify(got) && chains.every((c) => c.ok) && typeof flag.v === "boolean";
      if (!ok) detail.expected_counts = want;
    } finally {
      await scratch.end({ timeout: 1 });
    }
  } catch (err) {
    detail.error = err instanceof Error ? err.message : String(err);
  } finally {
    await admin.unsafe(`drop database if exists ${scratchName} with (force)`).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = performance.now() - t0;
  await src`select app_private.record_run('dr-drill', ${started}, ${ms}, ${ok}, ${src.json(detail as never)})`;
  if (ok) {
    await src`insert into ops.dr_backups (label, method, path, start_lsn, end_lsn, bytes, taken_at)
              values (${scratchName}, 'pg_dump', 'scratch database (dropped)', ${startLsn}, pg_current_wal_lsn(), ${Number(detail.dump_bytes)}, ${started})`;
  }
  await Promise.all([src.end(), admin.end()]);
  step(`${ok ? "PASSED" : "FAILED"} in ${(ms / 1000).toFixed(1)} s: ${JSON.stringify(detail)}`);
  return ok ? 0 : 1;
}

export const hostedDrill = main;
