/**
 * DR fail-back (issue 19 item 3), `npm run ops -- dr failback --as <principal>`: the old
 * primary rejoins as a standby of the new one. pg_rewind (data checksums are on) winds its
 * data back to where the timelines forked, discarding what the standby never had (the loss
 * window the cutover reported), and -R makes it a standby of the new primary; it streams
 * through the slot again. A planned switch back is then a second `dr cutover` (zero loss).
 */
import { dbUrl, type Instance } from "../stack/instance.ts";
import { isRunning, pgCmd, sqlValue, startCluster, stopCluster } from "../stack/postgres.ts";
import { cloneStandby, configureStandby, STANDBY_SLOT, standbyOf } from "../stack/standby.ts";
import { OpsError } from "../ops/errors.ts";
import { poll } from "../stack/processes.ts";
import { connectDr, type Log, Runbook } from "./runbook.ts";

export interface FailbackReport {
  run_id: number;
  standby: string;
  /** pg_rewind, or pg_basebackup when the old data folder could not be rewound. */
  method: string;
  state: string;
  lag_bytes: number;
  lag_seconds: number;
}

export async function failback(i: Instance, opts: { principal: string; log: Log }): Promise<FailbackReport> {
  const old = standbyOf(i);
  if (!old) throw new OpsError(`stack '${i.name}' has no old primary to bring back`, 4, "not_found");
  const rb = new Runbook("failback", opts.log);
  const primary = connectDr(dbUrl(i));
  try {
    await rb.step("authorize on the primary", () => primary`select app_private.dr_authorize(${opts.principal})`);
    await rb.step("the old primary is stopped", () => {
      if (isRunning(old) && sqlValue(old, "select pg_is_in_recovery()") === "t") {
        throw new OpsError(`127.0.0.1:${old.dbPort} is already a standby`, 1, "already_standby");
      }
      stopCluster(old);
    });
    await rb.step("replication slot on the primary", () => primary`
      select pg_create_physical_replication_slot(${STANDBY_SLOT})
      where not exists (select 1 from pg_replication_slots where slot_name = ${STANDBY_SLOT})`);
    // pg_rewind reads the source's timeline from its control file: a checkpoint records the promotion there.
    await rb.step("checkpoint on the primary", () => primary`checkpoint`);
    const method = await rb.step("pg_rewind onto the new primary's timeline", () => {
      const r = pgCmd(old, "pg_rewind", ["-D", old.dataDir, "--source-server", dbUrl(i), "-R"]);
      if (r.status === 0) return "pg_rewind";
      // A data folder pg_rewind cannot use (e.g. a fail-back interrupted half-way): clone afresh.
      opts.log(`pg_rewind failed, cloning with pg_basebackup instead: ${(r.stderr || r.stdout).trim().split("\n").pop()}`);
      cloneStandby(i, old);
      return "pg_basebackup";
    }, (m) => ({ method: m }));
    // pg_rewind copies the source's configuration: the old primary keeps its own port.
    if (method === "pg_rewind") configureStandby(old);
    await rb.step("start it as a standby", () => startCluster(old));
    const lag = await rb.step("streaming from the new primary", async () => {
      const r = await poll(30_000, async () => {
        const [r] = await primary`select state, lag_bytes::float8, lag_seconds::float8 from app_private.dr_replication() where slot = ${STANDBY_SLOT}`;
        return r?.state === "streaming" && r;
      });
      if (!r) throw new Error("the old primary did not start streaming within 30 s");
      return r;
    }, (r) => r);
    const report: FailbackReport = {
      run_id: 0, standby: `127.0.0.1:${old.dbPort}`, method, state: lag.state, lag_bytes: lag.lag_bytes, lag_seconds: lag.lag_seconds,
    };
    report.run_id = await rb.record(primary, true, { ...report });
    return report;
  } catch (err) {
    await rb.record(primary, false, { error: err instanceof Error ? err.message : String(err) }).catch(() => {});
    throw err;
  } finally {
    await primary.end({ timeout: 1 });
  }
}
