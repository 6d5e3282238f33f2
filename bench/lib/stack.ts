/**
 * The bench's own throwaway stack: a fresh cluster and runtime on free ports (like npm test),
 * destroyed at the end, pass or fail, so the bench never touches another stack.
 *
 * Differences from `npm test`'s stack, on purpose:
 * - synchronous_commit stays ON (hosted Supabase's default): figures include the WAL flush;
 * - track_commit_timestamp = on (the kill-switch measure compares commit times) and
 *   pg_stat_statements preloaded (profiling);
 * - the runtime's relay worker is off (the relay measure runs its own), and pg_cron jobs
 *   are removed after `up`, so the autopilot's SLO gates cannot downshift the system
 *   under test and the 30 s ticks do not add noise.
 */
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { apiUrl, dbUrl, ensureInstance, type Instance } from "../../scripts/stack/instance.ts";
import { destroy, up } from "../../scripts/stack/manager.ts";
import { initCluster, psql } from "../../scripts/stack/postgres.ts";
import { freePort } from "../../scripts/stack/processes.ts";

export interface BenchStack {
  inst: Instance;
  dbUrl: string;
  apiUrl: string;
  /** postgres.js pool as the postgres superuser (setup, bulk loads, measurements). */
  admin: postgres.Sql;
  destroy: () => Promise<void>;
}

export async function startBenchStack(log: (s: string) => void): Promise<BenchStack> {
  const inst = await ensureInstance(`bench-${process.pid}`, { api: await freePort(), db: await freePort() }, false);
  let destroyed = false;
  let admin: postgres.Sql | null = null;
  const destroyAll = async () => {
    if (destroyed) return;
    destroyed = true;
    await admin?.end({ timeout: 2 }).catch(() => {});
    await destroy(inst, () => {});
  };
  try {
    initCluster(inst);
    appendFileSync(join(inst.dataDir, "postgresql.conf"), [
      "# switchyard bench",
      "shared_preload_libraries = 'pg_cron,pg_stat_statements'",
      "track_commit_timestamp = on",
      "pg_stat_statements.track = all",
      "shared_buffers = 256MB",
      "",
    ].join("\n"));
    await up(inst, (s) => log(`stack: ${s}`), { skipCheck: true, relayWorker: false });
    psql(inst, ["-c", "create extension if not exists pg_stat_statements with schema extensions"]);
    // No cron ticks during the bench (autopilot gates, relay safety net, cleanups). The jobs
    // are removed, not just deactivated (pg_cron 1.4 kept running some inactive ones), and a
    // job already running is cancelled.
    psql(inst, ["-c", "select count(cron.unschedule(jobid)) from cron.job"]);
    psql(inst, ["-c", "select count(pg_cancel_backend(pid)) from pg_stat_activity where backend_type = 'pg_cron'"]);
    admin = postgres(dbUrl(inst), { prepare: false, max: 4, onnotice: () => {} });
    return { inst, dbUrl: dbUrl(inst), apiUrl: apiUrl(inst), admin, destroy: destroyAll };
  } catch (err) {
    await destroyAll();
    throw err;
  }
}
