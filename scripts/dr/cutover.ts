/**
 * DR cutover (issue 19 item 2), the break-glass runbook `npm run ops -- dr cutover --as <principal>`:
 *
 *   1. authorize    dr.execute checked read-only on the standby (app_private.dr_authorize),
 *                   which also takes the one-cutover-at-a-time lock there
 *   2. primary      alive: a planned switch; gone: unplanned (the old primary is fenced)
 *   3. kill switch  autonomy.emergencyStop on (planned: on the primary, replicated; unplanned:
 *                   the new primary's first transaction), before anything moves
 *   4. drain        planned: the primary stops (-m fast: its WAL senders ship everything) and
 *                   the standby replays to its shutdown checkpoint; unplanned: the standby
 *                   replays what it had received (synchronous replication: every
 *                   acknowledged commit, so nothing is lost)
 *   5. loss window  commits of the old primary's WAL after the standby's replay position;
 *                   anything lost refuses (dr_loss_window) unless --accept-loss. With
 *                   synchronous replication to this standby they were never acknowledged
 *                   (each waited for the standby's flush): reported as unacknowledged, not lost
 *   6. promote      pg_promote(); the step records go to ops.dr_runs and audit as the new
 *                   primary's first transaction, with the kill switch
 *   7. repoint      the stack's state names the new primary; the runtime (functions, relay,
 *                   pg_net worker) restarts on it; pg_cron's launcher starts on promotion
 *   8. verify       prove-green against the new primary (the checks that hold while halted)
 *   9. resume       left to a human: `npm run ops -- resume --reason "..."`
 *
 * RTO: from the primary gone (--primary-gone-at, else the runbook's start) to prove-green green.
 */
import type postgres from "postgres";
import { dbUrl, type Instance } from "../stack/instance.ts";
import { startRuntime, status as stackStatus, stopRuntime, type RuntimeOptions } from "../stack/manager.ts";
import { isRunning, pgCmd, pgCmdOrFail, startCluster, stopCluster } from "../stack/postgres.ts";
import { STANDBY_SLOT, standbyOf, swapPrimary } from "../stack/standby.ts";
import { proveGreen, type CheckResult } from "../prove-green/checks.ts";
import { STOP_SQL } from "../ops/switch.ts";
import { type LossWindow, lossWindow, type Synchronous, synchronousReplication } from "./loss.ts";
import { poll } from "../stack/processes.ts";
import { connectDr, type Log, Runbook, type Sql } from "./runbook.ts";
import { OpsError } from "../ops/errors.ts";

/** prove-green's checks that can be green while autonomy is halted and the outage is in the SLO window. */
export const CUTOVER_CHECKS = ["database", "gateway", "cron", "synthetic rates.price_one on the Live Feed", "forced safe error: DLQ and alert share the trace"];

export interface CutoverOptions {
  principal: string;
  acceptLoss?: boolean;
  /** When the primary was lost (the RTO's start); default: the runbook's start. */
  primaryGoneAt?: Date;
  runtime?: RuntimeOptions;
  log: Log;
}

export interface CutoverReport {
  run_id: number;
  planned: boolean;
  lost_commits: number;
  lost_bytes: number;
  lost_by_table: Record<string, number>;
  /** Written on the old primary, never acknowledged (synchronous replication): not lost. */
  unacknowledged_commits: number;
  synchronous: Synchronous | null;
  rto_ms: number;
  new_primary: string;
  prove_green: CheckResult[];
  green: boolean;
}

const STOP_REASON = "DR cutover: autonomy stopped during the switch";

async function killSwitch(sql: postgres.TransactionSql) {
  await sql`select set_config('app.reason', ${STOP_REASON}, true)`;
  await sql.unsafe(STOP_SQL);
}
/** The cluster's last checkpoint (a cleanly stopped primary: its shutdown checkpoint). */
function lastCheckpoint(c: Instance): string {
  const control = pgCmdOrFail(c, "pg_controldata", "pg_controldata", ["-D", c.dataDir]);
  return /Latest checkpoint location:\s+(\S+)/.exec(control)![1];
}

async function primaryAlive(sql: Sql): Promise<boolean> {
  try {
    const [r] = await sql`select pg_is_in_recovery() as r`;
    return !r.r;
  } catch {
    return false;
  }
}

export async function cutover(i: Instance, opts: CutoverOptions): Promise<CutoverReport> {
  const sbInst = standbyOf(i);
  if (!sbInst) throw new OpsError(`stack '${i.name}' has no standby (npm run stack -- up --standby --name ${i.name})`, 4, "not_found");
  const rb = new Runbook("cutover", opts.log);
  const gone = opts.primaryGoneAt;
  const standby = connectDr(dbUrl(sbInst));
  const primary = connectDr(dbUrl(i));
  let stoppedPrimary = false;
  try {
    await rb.step("authorize on the standby (read-only)", async () => {
      const [r] = await standby`select app_private.dr_authorize(${opts.principal}) as id, pg_is_in_recovery() as recovering`;
      if (!r.recovering) throw new OpsError(`the standby on port ${sbInst.dbPort} is not in recovery (already promoted?)`, 1, "not_a_standby");
      return r.id;
    }, (id) => ({ principal_id: id }));
    const planned = await rb.step("probe the primary", () => primaryAlive(primary), (alive) => ({ alive }));

    if (planned) {
      await rb.step("authorize on the primary", () => primary`select app_private.dr_authorize(${opts.principal})`);
      await rb.step("standby streaming", async () => {
        const [r] = await primary`select state, lag_bytes::float8 from app_private.dr_replication() where slot = ${STANDBY_SLOT}`;
        if (r?.state !== "streaming") {
          await primary`select app_private.dr_loss_window(null, ${r?.lag_bytes ?? null}, ${opts.acceptLoss ?? false})`;
        }
        return r;
      }, (r) => r);
      await rb.step("kill switch on (primary)", () => primary.begin((tx) => killSwitch(tx)));
      await rb.step("stop the primary (pg_ctl stop -m fast)", async () => {
        await primary.end({ timeout: 1 });
        stopCluster(i);
        stoppedPrimary = true;
      });
      const target = lastCheckpoint(i);
      await rb.step("standby replays to the primary's last LSN", async () => {
        const replayed = await poll(30_000, async () => {
          const [r] = await standby`select pg_last_wal_replay_lsn() > ${target}::pg_lsn as done, pg_last_wal_replay_lsn()::text as lsn`;
          return r.done && (r.lsn as string);
        });
        return { target, replayed }; // null, not reached: the loss window below says what is missing
      }, (r) => r);
    } else {
      if (isRunning(i)) {
        // Unreachable but its postmaster lives (hung, partitioned): fence it before promoting.
        await rb.step("fence the old primary (pg_ctl stop -m immediate)", () => {
          pgCmd(i, "pg_ctl", ["-D", i.dataDir, "-m", "immediate", "-w", "stop"]);
        });
      }
      // What the standby received it keeps (with synchronous replication, every acknowledged
      // commit): the loss window starts where its replay catches up with what it received, not
      // at the replay position of the moment the primary died.
      await rb.step("standby replays what it received", async () => {
        const caught = await poll(30_000, async () => {
          const [r] = await standby`select pg_last_wal_receive_lsn() is null or pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() as done,
                                           pg_last_wal_receive_lsn()::text as received, pg_last_wal_replay_lsn()::text as replayed`;
          return r.done && r;
        });
        return caught ?? { caught_up: false };
      }, (r) => r);
    }
    await primary.end({ timeout: 1 });

    const [{ lsn }] = await standby`select pg_last_wal_replay_lsn()::text as lsn`;
    const loss: LossWindow = await rb.step("loss window (old primary's WAL after the standby's replay position)",
      () => lossWindow(i, lsn, standby), (l) => l);
    const sync = loss.commits > 0 || loss.bytes > 0
      ? await rb.step("synchronous replication (the old primary's settings)", () => synchronousReplication(i, standby), (s) => s)
      : null;
    const lost = sync?.synchronous ? { commits: 0, bytes: 0, byTable: {} } : loss;
    await rb.step(opts.acceptLoss ? "loss accepted (--accept-loss)" : "nothing acknowledged is lost", () =>
      standby`select app_private.dr_loss_window(${lost.commits}, ${lost.bytes}, ${opts.acceptLoss ?? false}) as w`);

    await rb.step("promote (pg_promote)", async () => {
      const [r] = await standby`select pg_promote(true, 60) as ok`;
      if (!r.ok) throw new Error("pg_promote did not finish within 60 s");
    });
    // The new primary's first transaction: the kill switch (unplanned: not yet on) and the record.
    await rb.step("first transaction: kill switch and step records", () => standby.begin(async (tx) => {
      await killSwitch(tx);
      await rb.record(tx, false, { planned, phase: "promoted", loss });
    }));

    const promoted = swapPrimary(i);
    await rb.step("repoint the runtime (functions, relay, pg_net worker)", async () => {
      if (!stackStatus(i).supervisorPid) return { runtime: "not running" };
      await stopRuntime(i);
      await startRuntime(promoted, opts.log, opts.runtime);
      return { runtime: "restarted", db_port: promoted.dbPort };
    }, (r) => r);
    await rb.step("pg_cron launcher on the new primary", async () => {
      const started = await poll(10_000, async () => (await standby`select count(*)::int as n from pg_stat_activity where backend_type = 'pg_cron launcher'`)[0].n === 1);
      if (!started) throw new Error("pg_cron's launcher did not start on the new primary");
    });
    const checks = await rb.step("prove-green against the new primary", async () => {
      const r = await proveGreen(promoted, CUTOVER_CHECKS);
      if (!r.every((c) => c.ok)) throw new Error(`prove-green RED: ${r.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join("; ")}`);
      return r;
    }, (r) => r.map((c) => c.name));
    const rto = gone ? Date.now() - gone.getTime() : rb.elapsedMs();
    const report: CutoverReport = {
      run_id: 0, planned, lost_commits: lost.commits, lost_bytes: lost.bytes, lost_by_table: lost.byTable,
      unacknowledged_commits: loss.commits - lost.commits, synchronous: sync,
      rto_ms: Math.round(rto), new_primary: `127.0.0.1:${promoted.dbPort}`, prove_green: checks, green: true,
    };
    report.run_id = await rb.record(standby, true, { ...report, prove_green: checks.map((c) => c.name), rto_from: gone ? "primary gone" : "runbook start" });
    return report;
  } catch (err) {
    // Promoted already: the record says how far it got (the session is the new primary's).
    if (rb.runId !== null) await rb.record(standby, false, { error: err instanceof Error ? err.message : String(err) }).catch(() => {});
    // Refused before the promotion: the primary this runbook stopped serves again (autonomy stays halted).
    else if (stoppedPrimary) startCluster(i);
    throw err;
  } finally {
    await Promise.all([standby.end({ timeout: 1 }), primary.end({ timeout: 1 })]);
  }
}
