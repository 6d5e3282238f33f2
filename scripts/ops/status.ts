/** `ops status`: the switchboard, the queue and the SLOs on one screen. */
import { check, interval, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { ACTIVATION_FLAGS, dlqSize, EXPECTED_ACTIVATION, outboxLag, queueDepth, readFlags, slo } from "./metrics.ts";
import { age, table } from "./output.ts";
import { quarantines, quarantineTable } from "./quarantine.ts";
import { replication, replicationLine } from "./replication.ts";

export const USAGE = "ops status [--window 5m] [--json]";

export const status: Command = async ({ sql, out, argv }) => {
  const { values } = parse(argv, { window: { type: "string" } }, { usage: USAGE });
  const w = { interval: check(interval, values.window ?? "5 minutes", "--window") };
  // One connection: postgres.js pipelines these.
  const [flags, queue, lag, dlq, slos, open, [gradient], standbys] = await Promise.all([
    readFlags(sql), queueDepth(sql), outboxLag(sql, w), dlqSize(sql, w), slo(sql, w), quarantines(sql),
    sql`select s.estimated::float8, s.long_rtt_ms::float8, s.short_rtt_ms::float8, s.gradient::float8, s.updated_at,
               app_private.agent_slots_in_use() as in_use
        from (select 1) x left join ops.concurrency_state s on s.pool = 'agents'`,
    replication(sql),
  ]);
  const value = (k: string) => flags[k]?.value;
  const halted = value("autonomy.emergencyStop") === true;
  const data = {
    state: halted ? "HALTED" : "RUNNING",
    halted,
    mode: value("autonomy.mode"),
    agentsEnabled: value("agents.autonomousEnabled") === true,
    activation: Object.fromEntries(ACTIVATION_FLAGS.map((k) => [k, value(k)])),
    budgets: Object.fromEntries(Object.keys(flags).filter((k) => k.startsWith("budget.") || k === "rate.replay.per5m").map((k) => [k, value(k)])),
    dlqPaused: value("dlq.paused") === true,
    queue,
    outboxLag: lag,
    dlq,
    quarantined: open,
    concurrency: {
      limit: value("budget.agents.maxConcurrent"), inUse: gradient.in_use, estimated: gradient.estimated,
      gradient: gradient.gradient, shortP95Ms: gradient.short_rtt_ms, longP95Ms: gradient.long_rtt_ms, updatedAt: gradient.updated_at,
    },
    slo: slos,
    replication: standbys,
    window: w.interval,
  };
  out.result(data, () => {
    const banner = halted
      ? "HALTED: autonomy.emergencyStop is true, every autonomous write is refused; relay@ still delivers committed events (resume: npm run ops -- resume)"
      : `RUNNING, mode ${data.mode}${data.agentsEnabled ? "" : " (agents disabled: agents.autonomousEnabled is false)"}`;
    const flagRows = ACTIVATION_FLAGS.map((k) => ({
      flag: k,
      value: value(k),
      scope: flags[k]?.scope,
      note: value(k) === EXPECTED_ACTIVATION[k] ? "" : `expected ${EXPECTED_ACTIVATION[k]}`,
    }));
    const budgetRows = Object.entries(data.budgets).map(([flag, v]) => ({ flag, value: v }));
    const sloRows = slos.map((s) => ({
      ...s,
      success: s.successRatio === null ? null : `${(s.successRatio * 100).toFixed(2)}%`,
      p95: s.p95UpperMs === null ? "> 10000 ms" : `<= ${s.p95UpperMs} ms`,
    }));
    return [
      `Switchyard: ${banner}`,
      "",
      "Activation flags",
      table(flagRows, ["flag", "value", "scope", "note"]),
      "",
      `Budgets${data.dlqPaused ? " (dlq.paused is true: replays refused)" : ""}`,
      table(budgetRows, ["flag", "value"]),
      "",
      `Outbox: ${queue.pending} pending, ${queue.delivering} delivering, ${queue.failed} failed; ` +
      `oldest undelivered ${age(lag.oldestUndeliveredSeconds)}; ` +
      `p95 commit->delivered ${lag.p95Ms === null ? "-" : `${lag.p95Ms} ms`} (${lag.delivered} delivered in ${w.interval})`,
      `DLQ: ${dlq.dead} dead, ${dlq.newInWindow} new in ${w.interval}` +
      (dlq.parked ? `; ${dlq.parked} parked (a receiver answered 410 Gone: re-enable its subscription, then replay; ops dlq list --state parked)` : ""),
      `Agents' concurrency: ${data.concurrency.inUse} of ${data.concurrency.limit} slots in use; latency gradient ` +
      `${gradient.gradient === null ? "-" : gradient.gradient.toFixed(2)} (p95 ${gradient.short_rtt_ms === null ? "-" : Math.round(gradient.short_rtt_ms)} ms, ` +
      `baseline ${gradient.long_rtt_ms === null ? "-" : Math.round(gradient.long_rtt_ms)} ms)`,
      "",
      `Replication: ${replicationLine(standbys)}`,
      "",
      `Quarantined: ${open.length} (release: npm run ops -- quarantine release <id> --reason "...")`,
      ...(open.length ? [quarantineTable(open)] : []),
      "",
      `SLOs (${w.interval}; success >= 98%, p95 <= 2500 ms)`,
      table(sloRows, ["function", "portal", "requests", "errors", "success", "p95"]),
    ].join("\n");
  });
};
