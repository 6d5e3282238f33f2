/**
 * npm run faults [-- --only a,b] [-- --rate 50] [-- --quick]
 *
 * The fault suite (issue 12 "Must show"): on its own throwaway stack (free ports, destroyed at
 * the end, pass or fail, Ctrl-C too), price_one at a fixed rate with a retrying client and an
 * outbox subscription per scenario to a receiver it controls; Postgres restarted and killed,
 * the runtime SIGKILLed, connections exhausted, receivers failing, an SLO rollback, 100/s on
 * the fresh stack, a failing tenant. Prints every figure and each target pass / SHORT, writes
 * bench/results/faults-latest.{json,md} and, after a full run, the "Fault suite" section of
 * bench/README.md. Exit 0 unless the suite itself broke (figures are not assertions).
 *
 * --quick (the step in npm test, SWITCHYARD_FAULTS_QUICK=1): one Postgres restart under 20
 * price_one/s; exit 1 unless lost = 0, the runtime stayed alive, and clients saw 503 with
 * Retry-After during the outage.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { benchFlags, ensureTenants } from "../../bench/lib/fixtures.ts";
import { loadLine, type Machine, machineNow, progress, writeResults } from "../../bench/lib/stats.ts";
import { PROJECT_ROOT } from "../stack/instance.ts";
import { report, README_BEGIN, README_END } from "./report.ts";
import {
  connectionsExhausted,
  type Ctx,
  freshRate,
  pgKill9,
  pgRestart,
  quarantine,
  receiverFault,
  resetBetween,
  runtimeKill,
  type ScenarioResult,
  sloRollback,
} from "./scenarios.ts";
import { ensurePgUp, startFaultStack } from "./stack.ts";

/** In order: the 100/s run first, while the stack is fresh. */
const SCENARIOS: Record<string, (ctx: Ctx) => Promise<ScenarioResult>> = {
  "fresh-100": (ctx) => freshRate(ctx),
  "pg-restart": (ctx) => pgRestart(ctx, 1, ctx.quick ? 12_000 : 20_000),
  "pg-restart-x10": (ctx) => pgRestart(ctx, 10),
  "pg-kill9": (ctx) => pgKill9(ctx),
  "runtime-sigkill": (ctx) => runtimeKill(ctx),
  "conn-exhausted": (ctx) => connectionsExhausted(ctx),
  "receiver-500": (ctx) => receiverFault(ctx, "500", 20_000),
  "receiver-hang": (ctx) => receiverFault(ctx, "hang", 35_000),
  "receiver-429": (ctx) => receiverFault(ctx, "429", 20_000),
  "receiver-410": (ctx) => receiverFault(ctx, "410", 10_000),
  "slo-rollback": (ctx) => sloRollback(ctx),
  quarantine: (ctx) => quarantine(ctx),
};

export interface FaultResults {
  startedAt: string;
  seconds?: number;
  quick: boolean;
  rate: number;
  machine: Machine;
  scenarios: ScenarioResult[];
}

function parseArgs(argv: string[]) {
  const val = (name: string) => {
    const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
    return i < 0 ? null : argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
  };
  const quick = argv.includes("--quick");
  const only = val("--only")?.split(",").map((s) => s.trim()) ?? null;
  const bad = (only ?? []).filter((s) => !(s in SCENARIOS));
  if (bad.length) {
    console.error(`unknown scenario(s): ${bad.join(", ")} (expected ${Object.keys(SCENARIOS).join(", ")})`);
    process.exit(2);
  }
  return { quick, only, rate: Number(val("--rate") ?? (quick ? 20 : 50)) };
}

async function main(): Promise<number> {
  const { quick, only, rate } = parseArgs(process.argv.slice(2));
  const ids = quick ? ["pg-restart"] : only ?? Object.keys(SCENARIOS);
  const started = Date.now();
  const results: FaultResults = {
    startedAt: new Date(started).toISOString(), quick, rate, scenarios: [],
    machine: machineNow(),
  };
  progress(`switchyard fault suite (${quick ? "quick" : ids.length === Object.keys(SCENARIOS).length ? "full" : ids.join(", ")}), ` +
    `price_one at ${rate}/s; ${loadLine()}`);
  const stack = await startFaultStack(`faults-${process.pid}`, (s) => progress(s));
  const ctx: Ctx = { stack, rate, quick, tenants: [], open: { receivers: new Set(), loads: new Set() } };
  const logDir = join(PROJECT_ROOT, "bench", "results", "faults-logs");
  const cleanup = async () => {
    // The runtime's and Postgres' logs outlive the stack, for reading what a SHORT row did.
    mkdirSync(logDir, { recursive: true });
    for (const [from, to] of [[join(stack.inst.stateDir, "runtime.log"), "runtime.log"], [join(stack.inst.dataDir, "..", "postgres.log"), "postgres.log"]]) {
      if (existsSync(from)) copyFileSync(from, join(logDir, to));
    }
    await Promise.allSettled([...ctx.open.loads].map((l) => l.stop()));
    await Promise.allSettled([...ctx.open.receivers].map((r) => r.close()));
    await stack.destroy();
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    progress("interrupted: destroying the fault-suite stack");
    cleanup().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await benchFlags(stack.admin); // the per-caller rate limit out of the way: the suite measures faults
    ctx.tenants = await ensureTenants(stack.admin, 16);
    for (const [n, id] of ids.entries()) {
      progress(`== ${n + 1}/${ids.length} ${id} ==`);
      const t = Date.now();
      let r: ScenarioResult;
      try {
        r = await SCENARIOS[id](ctx);
      } catch (err) {
        const msg = err instanceof Error ? err.stack ?? err.message : String(err);
        progress(`${id} broke: ${msg}`);
        r = { id, title: id, seconds: (Date.now() - t) / 1000, recover: "n/a", runtime: "n/a", notes: [], checks: [], error: msg.split("\n")[0] };
        // What the broken scenario left running (or down) must not spoil the next one.
        ensurePgUp(stack.inst);
        await Promise.allSettled([...ctx.open.loads].map((l) => l.stop()));
        await Promise.allSettled([...ctx.open.receivers].map((x) => x.close()));
        ctx.open.loads.clear();
        ctx.open.receivers.clear();
      }
      // A rollback the autopilot made during the scenario explains stopped deliveries: say so.
      const rollbacks = await stack.admin`select summary from public.alerts where source = 'slo.breach' and created_at >= ${new Date(t)} order by created_at`
        .catch(() => []);
      if (rollbacks.length) r.notes.push(`the autopilot rolled back ${rollbacks.length}x during it (${rollbacks[0].summary})`);
      results.scenarios.push(r);
      const short = r.checks.filter((c) => !c.pass).map((c) => c.figure);
      progress(`${id}: ${r.error ? "BROKE" : short.length ? `SHORT on ${short.join("; ")}` : "pass"} (${r.seconds.toFixed(0)} s)`);
      await resetBetween(ctx).catch((err) => progress(`reset after ${id} failed: ${err}`));
    }
  } finally {
    progress("destroying the fault-suite stack");
    await cleanup();
  }
  results.seconds = (Date.now() - started) / 1000;
  results.machine.loadavgEnd = loadavg();
  const text = report(results);
  console.log(`\n${text}`);
  writeResults("faults-latest", results, text);
  if (!quick && !only) {
    const readme = join(PROJECT_ROOT, "bench", "README.md");
    const body = readFileSync(readme, "utf8");
    const a = body.indexOf(README_BEGIN), b = body.indexOf(README_END);
    if (a >= 0 && b > a) {
      writeFileSync(readme, `${body.slice(0, a + README_BEGIN.length)}\n\`\`\`\n${text}\n\`\`\`\n${body.slice(b)}`);
      progress("wrote the latest run into bench/README.md (Fault suite)");
    }
  }
  progress(`wrote bench/results/faults-latest.json and faults-latest.md (${results.seconds.toFixed(0)} s)`);
  if (results.scenarios.some((s) => s.error)) return 1;
  if (quick) return quickVerdict(results.scenarios[0]);
  return 0;
}

/** The quick form's three assertions (npm test): lost = 0, the runtime alive, 503 + Retry-After seen. */
function quickVerdict(r: ScenarioResult): number {
  const want = ["lost", "runtime never exits", "503 with Retry-After while the database is away"];
  const checks = r.checks.filter((c) => want.includes(c.figure));
  for (const c of checks) console.log(`  ${c.pass ? "PASS" : "FAIL"}  ${c.figure}: ${c.measured} (want ${c.target})`);
  const failed = checks.filter((c) => !c.pass).length + (checks.length === want.length ? 0 : 1);
  console.log(`faults quick: ${want.length - failed} of ${want.length} assertions held`);
  return failed === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
