/**
 * `ops dr status|cutover|failback|backup|restore-test --stack NAME` (issue 19): the break-glass
 * DR runbooks on a local stack (scripts/dr/). They act on the stack's clusters (pg_promote,
 * pg_rewind, pg_basebackup), so they name the stack, not a URL; hosted Supabase: README
 * "Disaster recovery".
 */
import { check, parse } from "./args.ts";
import { type Command, group } from "./command.ts";
import { dbUrl, loadInstance, type Instance } from "../stack/instance.ts";
import { standbyOf } from "../stack/standby.ts";
import { isRunning } from "../stack/postgres.ts";
import { cutover } from "../dr/cutover.ts";
import { failback } from "../dr/failback.ts";
import { backup, restoreTest } from "../dr/backup.ts";
import { notFound } from "./errors.ts";
import { replication, replicationLine } from "./replication.ts";
import { z } from "zod";

const log = (s: string) => console.error(`[dr] ${s}`);

function stackOf(name: string | undefined): Instance {
  const i = loadInstance(name ?? "default");
  if (!i) throw notFound(`no stack '${name ?? "default"}' here (npm run stack -- up --standby)`);
  return i;
}

/** The database the dr commands' session uses: the named stack's primary. */
export function drDbUrl(argv: string[]): string {
  const at = argv.indexOf("--stack");
  return dbUrl(stackOf(at >= 0 ? argv[at + 1] : undefined));
}

const drStatus: Command = async ({ sql, out, argv }) => {
  const { values } = parse(argv, { stack: { type: "string" } }, { usage: "ops dr status [--stack NAME] [--json]" });
  const i = stackOf(values.stack);
  const sb = standbyOf(i);
  const rows = await replication(sql);
  const data = { primary: `127.0.0.1:${i.dbPort}`, standby: sb ? `127.0.0.1:${sb.dbPort}` : null, standbyRunning: sb ? isRunning(sb) : false, replication: rows };
  out.result(data, `primary 127.0.0.1:${i.dbPort}; standby ${data.standby ?? "none"}${sb && !data.standbyRunning ? " (stopped)" : ""}\nreplication: ${replicationLine(rows)}`);
};

const CUTOVER_USAGE = "ops dr cutover --as <principal> [--accept-loss] [--primary-gone-at ISO] [--stack NAME] [--json]";

const drCutover: Command = async ({ out, argv }) => {
  const { values } = parse(argv, {
    stack: { type: "string" }, as: { type: "string" }, "accept-loss": { type: "boolean" }, "primary-gone-at": { type: "string" },
  }, { usage: CUTOVER_USAGE });
  const principal = check(z.string().min(2, `--as <principal> is required: ${CUTOVER_USAGE}`), values.as ?? "", "--as");
  const gone = values["primary-gone-at"] ? new Date(check(z.iso.datetime(), values["primary-gone-at"], "--primary-gone-at")) : undefined;
  const r = await cutover(stackOf(values.stack), { principal, acceptLoss: values["accept-loss"] ?? false, primaryGoneAt: gone, log });
  out.result(r, [
    `CUTOVER ${r.planned ? "(planned)" : "(unplanned)"} done: new primary ${r.new_primary}, run ${r.run_id}`,
    `RPO: ${r.lost_commits} commits lost (${r.lost_bytes} WAL bytes)${r.lost_commits ? ` ${JSON.stringify(r.lost_by_table)}` : ""}${
      r.unacknowledged_commits ? `; ${r.unacknowledged_commits} written on the old primary, never acknowledged (synchronous replication)` : ""}`,
    `RTO: ${(r.rto_ms / 1000).toFixed(1)} s (to prove-green green on the new primary)`,
    "HALTED: autonomy.emergencyStop stays on until a human resumes: npm run ops -- resume --reason \"...\"",
  ].join("\n"));
};

const FAILBACK_USAGE = "ops dr failback --as <principal> [--stack NAME] [--json]";

const drFailback: Command = async ({ out, argv }) => {
  const { values } = parse(argv, { stack: { type: "string" }, as: { type: "string" } }, { usage: FAILBACK_USAGE });
  const principal = check(z.string().min(2, `--as <principal> is required: ${FAILBACK_USAGE}`), values.as ?? "", "--as");
  const r = await failback(stackOf(values.stack), { principal, log });
  out.result(r, `FAILBACK done: ${r.standby} rejoined as a standby (${r.method}); ${r.state}, lag ${r.lag_bytes} bytes / ${r.lag_seconds} s (run ${r.run_id})\n` +
    "a planned switch back, zero loss: npm run ops -- dr cutover --as <principal>");
};

const drBackup: Command = async ({ out, argv }) => {
  const { values } = parse(argv, { stack: { type: "string" } }, { usage: "ops dr backup [--stack NAME] [--json]" });
  const r = await backup(stackOf(values.stack), log);
  out.result(r, `BACKUP ${r.label} verified (pg_verifybackup: ${r.verified}): ${r.bytes} bytes, WAL ${r.start_lsn}..${r.end_lsn} (run ${r.run_id})`);
};

const RESTORE_USAGE = "ops dr restore-test [--target-time ISO] [--stack NAME] [--json]";

const drRestoreTest: Command = async ({ out, argv }) => {
  const { values } = parse(argv, { stack: { type: "string" }, "target-time": { type: "string" } }, { usage: RESTORE_USAGE });
  const target = values["target-time"] ? new Date(check(z.iso.datetime({ offset: true }), values["target-time"], "--target-time")) : undefined;
  const r = await restoreTest(stackOf(values.stack), { log, targetTime: target });
  out.result(r, `RESTORE TEST ${r.ok ? "ok" : "FAILED"}: ${r.backup} to ${r.target}; recovery point ${r.recovery_point}, recovery time ${(r.recovery_ms / 1000).toFixed(1)} s; ` +
    `pg_amcheck ${r.amcheck}; ${r.audit_chains} audit chains ${r.audit_ok ? "verify" : "BROKEN"}; flags ${r.flags_typed ? "typed" : "UNTYPED"}; trial balance ${r.trial_balance_cents} cents (run ${r.run_id})`);
  return r.ok ? 0 : 1;
};

export const dr = group("dr", { status: drStatus, cutover: drCutover, failback: drFailback, backup: drBackup, "restore-test": drRestoreTest });
