/**
 * The post-deploy gate (charter §7): the k6 smoke's outcome (deploy workflow) or a load
 * smoke of its own, then SQL alert checks. Any failure switches the agents off, writes the
 * report and exits non-zero; all green exits 0.
 */
import { writeFileSync } from "node:fs";
import { connect, redactUrl } from "../ops/db.ts";
import { classify, EXIT, type OpsError } from "../ops/errors.ts";
import { type CheckResult, k6Smoke, sloLimits, SQL_CHECKS } from "./checks.ts";
import { disableAgents, newTraceId } from "./disable.ts";
import { gatherEvidence } from "./evidence.ts";
import { loadSmoke } from "./load.ts";
import { GATE_USAGE, type GateOptions, gateOptions } from "./options.ts";
import { type GateRun, renderReport } from "./report.ts";

type Verdict = Pick<GateRun, "ok" | "checks" | "agents" | "evidence" | "fatal">;

async function judge(o: GateOptions): Promise<Verdict & { unreachable: boolean }> {
  const checks: CheckResult[] = [];
  if (o.k6Outcome) checks.push(k6Smoke(o.k6Outcome));
  const sql = connect(o.dbUrl, "switchyard-gate");
  try {
    if (o.load) checks.push(await loadSmoke(o.apiUrl!, o.anonKey!, o.load.rate, o.load.seconds, await sloLimits(sql, o)));
    for (const [name, check] of Object.entries(SQL_CHECKS)) {
      try {
        checks.push(await check(sql, o));
      } catch (err) {
        const e = classify(err);
        if (e.exit === EXIT.connection) throw e;
        // A check that cannot run has not passed.
        checks.push({ name, ok: false, summary: `could not run: ${e.code}: ${e.message}`, threshold: "-", traces: [] });
      }
    }
    const failed = checks.filter((c) => !c.ok);
    if (failed.length === 0) return { ok: true, checks, agents: null, evidence: [], unreachable: false };
    const reason = `post-deploy gate failed: ${failed.map((c) => c.name).join(", ")} (report ${o.report})`;
    const agents = await disableAgents(sql, reason, newTraceId());
    return { ok: false, checks, agents, evidence: await gatherEvidence(sql, o.window), unreachable: false };
  } catch (err) {
    const e: OpsError = classify(err);
    return { ok: false, checks, agents: null, evidence: [], fatal: `${e.code}: ${e.message}`, unreachable: e.exit === EXIT.connection };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

export async function runGate(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(GATE_USAGE);
    return EXIT.ok;
  }
  let o: GateOptions;
  try {
    o = gateOptions(argv);
  } catch (err) {
    const e = classify(err);
    console.error(e.exit === EXIT.usage ? `${e.message}\n\n${GATE_USAGE}` : `gate: ${e.message}`);
    return e.exit;
  }
  const log = (line: string) => !o.json && console.log(line);
  const window = o.window.since ? `since ${o.window.since.toISOString()}` : `the last ${o.window.interval}`;
  log(`gate: load smoke ${o.load ? `against ${o.apiUrl}` : "skipped"}; SQL checks on ${redactUrl(o.dbUrl)}, ${window}`);
  const { unreachable, ...verdict } = await judge(o);
  const run: GateRun = { ...verdict, at: new Date(), target: { api: o.load ? o.apiUrl : null, db: redactUrl(o.dbUrl) }, window, consoleUrl: o.consoleUrl };
  writeFileSync(o.report, renderReport(run));

  for (const c of run.checks) log(`  ${c.ok ? "pass" : "FAIL"}  ${c.name.padEnd(12)} ${c.summary}`);
  const a = run.agents;
  log(run.ok
    ? `gate: all green (report: ${o.report})`
    : `gate: FAILED${run.fatal ? ` (${run.fatal})` : ""}; ` +
      (a?.disabled ? `agents.autonomousEnabled set false by ${a.by}` : "agents could NOT be disabled") + `; report: ${o.report}`);
  if (o.json) console.log(JSON.stringify({ ok: run.ok, checks: run.checks, agents: a, fatal: run.fatal, report: o.report }, null, 2));

  if (run.ok) return EXIT.ok;
  if (unreachable) return EXIT.connection;
  return a?.disabled ? EXIT.failure : 3;
}
