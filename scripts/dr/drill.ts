/**
 * The physical DR drill (issue 19 items 5 and 6) on a stack with a streaming standby:
 *
 *   1. planned cutover under a steady price_one load; RPO (acknowledged writes missing on the
 *      new primary, counted by the drill's clients) and RTO; autonomy resumed; fail-back
 *   2. unplanned (throwaway stack only): the primary killed with -9 mid-load, promoted with
 *      --accept-loss; RPO as the clients saw it and as the runbook's loss window reports it;
 *      RTO from the kill to prove-green green; fail-back by pg_rewind
 *   3. base backup (pg_verifybackup) and the restore test (PITR, pg_amcheck, project checks)
 *
 * Figures are printed and recorded in ops.schedule_runs (job 'dr-drill') on the final primary.
 * It asserts nothing about time: the figures are the drill's output.
 */
import { dbUrl, type Instance, loadInstance } from "../stack/instance.ts";
import { RESUME_SQL } from "../ops/switch.ts";
import { backup, restoreTest } from "./backup.ts";
import { cutover } from "./cutover.ts";
import { failback } from "./failback.ts";
import { killPrimary } from "./faults.ts";
import { missingQuotes, startLoad } from "./load.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { connectDr, type Log } from "./runbook.ts";

const current = (i: Instance) => loadInstance(i.name)!;

async function onPrimary<T>(i: Instance, fn: (sql: ReturnType<typeof connectDr>) => Promise<T>): Promise<T> {
  const sql = connectDr(dbUrl(current(i)));
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A human's word after the cutover's verification (the drill acts as that human). */
const resume = (i: Instance) => onPrimary(i, (sql) => sql.begin(async (tx) => {
  await tx`select set_config('app.reason', 'DR drill: cutover verified, autonomy resumed', true)`;
  await tx.unsafe(RESUME_SQL);
}));

async function cutoverUnderLoad(i: Instance, log: Log, kill: boolean) {
  const load = await startLoad(current(i), 4);
  while (load.acked.length < 30) await sleep(50);
  const goneAt = kill ? killPrimary(current(i)) : undefined;
  if (kill) await sleep(500); // clients see the primary gone
  const report = await cutover(current(i), { principal: "system", acceptLoss: kill, primaryGoneAt: goneAt, log });
  const at = load.acked.length;
  while (load.acked.length < at + 10) await sleep(50);
  const { acked, refused } = await load.stop();
  const missing = await onPrimary(i, (sql) => missingQuotes(sql, acked));
  await resume(i);
  const back = await failback(current(i), { principal: "system", log });
  return {
    acknowledged: acked.length, refused_during_switch: refused, rpo_acknowledged_lost: missing.length,
    rpo_reported_lost_commits: report.lost_commits, rpo_reported_quotes_lost: report.lost_by_table["public.rates_quotes"] ?? 0,
    rto_ms: report.rto_ms, green: report.green, failback: back.method, failback_lag_bytes: back.lag_bytes,
  };
}

export async function drill(i: Instance, opts: { log: Log; unplanned: boolean }): Promise<{ ok: boolean; detail: Record<string, unknown> }> {
  const started = new Date();
  const t0 = performance.now();
  const detail: Record<string, unknown> = {};
  let ok = false;
  try {
    opts.log("planned cutover under load");
    detail.planned = await cutoverUnderLoad(i, opts.log, false);
    if (opts.unplanned) {
      opts.log("unplanned cutover: kill -9 of the primary under load");
      detail.unplanned = await cutoverUnderLoad(i, opts.log, true);
    }
    opts.log("base backup and restore test");
    const b = await backup(current(i), opts.log);
    const r = await restoreTest(current(i), { log: opts.log });
    detail.backup = { label: b.label, bytes: b.bytes };
    detail.restore = { ok: r.ok, recovery_point: r.recovery_point, recovery_ms: r.recovery_ms, amcheck: r.amcheck, audit_ok: r.audit_ok };
    const planned = detail.planned as { rpo_acknowledged_lost: number; green: boolean };
    ok = planned.rpo_acknowledged_lost === 0 && planned.green && r.ok;
  } catch (err) {
    detail.error = err instanceof Error ? err.message : String(err);
  }
  const ms = performance.now() - t0;
  await onPrimary(i, (sql) => sql`select app_private.record_run('dr-drill', ${started}, ${ms}, ${ok}, ${sql.json(detail as never)})`);
  return { ok, detail };
}
