/**
 * npm run bench [-- --quick] [-- --only pipeline,outbox,killswitch,growth]
 *
 * Builds its own throwaway stack on free ports, runs each measure, prints a table with every
 * figure, its ratio to the machine's own ceilings and the targets (pass / short), writes
 * bench/results/latest.json, and destroys the stack at the end, pass or fail. Never part of
 * CI's pass/fail: the exit code is 0 unless the bench itself broke.
 */
import { loadavg } from "node:os";
import type { BenchContext } from "./lib/context.ts";
import { benchFlags, benchTenant, ensureTenants, opsToken, priceOneBody } from "./lib/fixtures.ts";
import { loadLine, type Machine, machineNow, progress, writeResults } from "./lib/stats.ts";
import { startBenchStack } from "./lib/stack.ts";
import { measurePipeline, type PipelineFigures } from "./pipeline.ts";
import { measureOutbox, type OutboxFigures } from "./outbox.ts";
import { measureKillSwitch, type KillSwitchFigures } from "./killswitch.ts";
import { measureGrowth, type GrowthFigures } from "./growth.ts";
import { report } from "./report.ts";

const MEASURES = ["pipeline", "outbox", "killswitch", "growth"] as const;
type Measure = (typeof MEASURES)[number];

function parseArgs(argv: string[]) {
  const quick = argv.includes("--quick");
  const i = argv.findIndex((a) => a === "--only" || a.startsWith("--only="));
  const list = i < 0 ? null : argv[i].includes("=") ? argv[i].split("=")[1] : argv[i + 1];
  const only = list ? list.split(",").map((s) => s.trim()) : [...MEASURES];
  const bad = only.filter((m) => !MEASURES.includes(m as Measure));
  if (bad.length) {
    console.error(`unknown measure(s): ${bad.join(", ")} (expected ${MEASURES.join(", ")})`);
    process.exit(2);
  }
  return { quick, only: only as Measure[] };
}

export interface BenchResults {
  startedAt: string;
  finishedAt?: string;
  seconds?: number;
  quick: boolean;
  machine: Machine;
  pipeline?: PipelineFigures;
  outbox?: OutboxFigures;
  killswitch?: KillSwitchFigures;
  growth?: GrowthFigures;
  errors: { measure: string; error: string }[];
}

async function main(): Promise<number> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const results: BenchResults = {
    startedAt: new Date(started).toISOString(),
    quick,
    machine: machineNow(),
    errors: [],
  };
  progress(`switchyard bench (${quick ? "quick" : "full"}): ${only.join(", ")}; ${loadLine()}`);
  const stack = await startBenchStack((s) => progress(s));
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    progress("interrupted: destroying the bench stack");
    void stack.destroy().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await benchFlags(stack.admin);
    await ensureTenants(stack.admin, 1);
    // A real price_one response: its request, quote and event payload feed the pgbench script.
    const token = await opsToken(stack.inst.jwtSecret, benchTenant(1));
    const body = priceOneBody();
    const res = await fetch(`${stack.apiUrl}/functions/v1/rates/price_one`, {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body,
    });
    if (res.status !== 200) throw new Error(`price_one smoke call answered ${res.status}: ${await res.text()}`);
    const { data } = await res.json() as { data: { quote_id: string; status: string; total: number; quote: Record<string, any> } };
    const q = data.quote;
    const ctx: BenchContext = {
      stack,
      quick,
      stepSeconds: quick ? 2 : 5,
      fixedSeconds: quick ? 3 : 8,
      sample: {
        request: body,
        quote: JSON.stringify(q),
        payload: JSON.stringify({
          quote_id: data.quote_id, status: data.status, total: data.total, currency: "USD", equipment: q.equipment,
          origin: q.origin.zip3, destination: q.destination.zip3, pickup_date: q.pickup_date, guards_breached: [],
        }),
      },
    };
    const run = async <T>(m: Measure, fn: () => Promise<T>): Promise<T | undefined> => {
      if (!only.includes(m)) return undefined;
      progress(`== ${m} ==`);
      try {
        return await fn();
      } catch (err) {
        const msg = err instanceof Error ? err.stack ?? err.message : String(err);
        progress(`${m} failed: ${msg}`);
        results.errors.push({ measure: m, error: msg });
        return undefined;
      }
    };
    results.pipeline = await run("pipeline", () => measurePipeline(ctx));
    results.outbox = await run("outbox", () => measureOutbox(ctx));
    results.killswitch = await run("killswitch", () => measureKillSwitch(ctx));
    results.growth = await run("growth", () => measureGrowth(ctx, results.pipeline));
  } finally {
    progress("destroying the bench stack");
    await stack.destroy();
  }
  results.finishedAt = new Date().toISOString();
  results.seconds = (Date.now() - started) / 1000;
  results.machine.loadavgEnd = loadavg();
  const text = report(results);
  console.log(`\n${text}`);
  writeResults("latest", results, text);
  progress(`wrote bench/results/latest.json and latest.md (${results.seconds.toFixed(0)} s)`);
  return results.errors.length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
