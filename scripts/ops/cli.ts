/** The ops CLI's dispatcher: global options, connection, exit codes. */
import type { Command } from "./command.ts";
import { connect, resolveDbUrl, type Sql } from "./db.ts";
import { dlq } from "./dlq.ts";
import { dr, drDbUrl } from "./dr.ts";
import { classify, usage } from "./errors.ts";
import { flags } from "./flags.ts";
import { keys } from "./keys.ts";
import { Output } from "./output.ts";
import { quarantine } from "./quarantine.ts";
import { revert } from "./revert.ts";
import { status } from "./status.ts";
import { mode, resume, stop } from "./switch.ts";
import { trace } from "./trace.ts";

const COMMANDS: Record<string, Command> = { status, stop, resume, mode, flags, dlq, quarantine, trace, revert, keys, dr };

export const HELP = `Switchyard ops CLI: npm run ops -- <command> [--json]

Connects to SUPABASE_DB_URL (else the local default stack) as the operator's database user,
like the charter's psql commands.

  status [--window 5m]                       flags, mode, budgets, queue depth, outbox lag, DLQ, SLOs
  stop [--reason "..."]                      emergency stop (the charter's statement)
  resume [--reason "..."]                    resume (the charter's statement)
  mode full|degrade|step-down [--reason]     autonomy.mode
  flags get [key] [--scope S]                typed values (S: global, tenant:<uuid>, portal:<name>, ...)
  flags set <key> <value> --reason "..." [--scope S]
  dlq list [--tenant T] [--state dead|replayed|discarded|all] [--limit N]
  dlq dry-run --tenant T (--ids a,b | --all)
  dlq replay --tenant T (--ids a,b | --all) [--wait 60]
  dlq approve <request-id> [--note "..."] [--reject] [--wait 60]
  dlq progress <request-id> [--wait 0]
  quarantine list [--all]                    quarantined tenants, subscriptions, detectors; failing streaks
  quarantine release <id> --reason "..."     put one back to work (a subscription's parked events re-queued)
  trace <trace-id>                           spans, audit, outbox, deliveries, DLQ, Live Feed
  revert <trace-id> --as <principal> [--clear]  undo a reversible (agent) action by its trace, as a human
  keys rotate <account> [--grace 24h]        prints the new key id and secret once
  keys rehearse <account>                    the monthly rotation rehearsal
  dr status|cutover|failback|backup|restore-test [--stack NAME]   DR runbooks (README: Disaster recovery)

--json: one JSON document on stdout, {"ok": true, "command", "data"} or
{"ok": false, "command", "error": {"code", "message", "exit", "sqlstate", "detail"}}.

Exit codes: 0 ok, 1 failure, 2 usage, 3 permission denied, 4 not found, 5 connection,
10+NN the database refused with SQLSTATE SY0NN: 11 autonomy_halted, 12 autonomy_step_down,
15 rate_limited, 17 dlq_paused, 18 replay_cap_exceeded, 19 approval_forbidden,
20 unknown_flag, 21 bad_flag_scope, 22 bad_flag_value, 27 bad_request, 28 replay_bad_selection,
41 already_reverted, 42 not_reverted, 71 already_released,
60 dr_forbidden, 61 dr_cutover_running, 62 dr_loss_window.`;

export async function run(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const [name, ...rest] = argv.filter((a) => a !== "--json");
  const out = new Output(json, name ?? "help");
  if (!name || name === "help" || argv.includes("--help") || argv.includes("-h")) {
    out.result({ help: HELP }, HELP);
    return name ? 0 : 2;
  }
  let sql: Sql | undefined;
  try {
    const cmd = COMMANDS[name];
    if (!cmd) throw usage(`unknown command "${name}" (see: npm run ops -- help)`);
    sql = connect(name === "dr" ? drDbUrl(rest) : resolveDbUrl()); // dr: the named stack's primary
    return (await cmd({ sql, out, argv: rest })) ?? 0;
  } catch (err) {
    const e = classify(err);
    out.error(e);
    return e.exit;
  } finally {
    await sql?.end({ timeout: 2 });
  }
}
