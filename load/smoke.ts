/**
 * Load smoke (run by npm test against the throwaway stack): a short constant-arrival-rate
 * run against the functions, judged by the charter's thresholds. Writes a JSON summary.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { runScenario } from "./run.ts";
import { evaluate, formatThresholds } from "./thresholds.ts";

const api = process.env.SWITCHYARD_API_URL;
const anon = process.env.SWITCHYARD_ANON_KEY;
if (!api || !anon) {
  console.error("SWITCHYARD_API_URL and SWITCHYARD_ANON_KEY are required (npm test sets them)");
  process.exit(2);
}

const scenarios = [
  { name: "health", url: `${api}/functions/v1/health`, headers: { authorization: `Bearer ${anon}` }, rate: 50, seconds: 5 },
];

let allOk = true;
const summary: Record<string, unknown> = {};
for (const s of scenarios) {
  const samples = await runScenario(s);
  const ts = evaluate(samples);
  allOk &&= ts.every((t) => t.ok);
  summary[s.name] = { requests: samples.length, thresholds: ts };
  console.log(`scenario ${s.name}: ${samples.length} requests at ${s.rate}/s for ${s.seconds}s\n${formatThresholds(ts)}`);
}
mkdirSync("test-results", { recursive: true });
writeFileSync("test-results/load-smoke.json", JSON.stringify(summary, null, 2));
console.log(allOk ? "load smoke: all thresholds green" : "load smoke: thresholds FAILED");
process.exit(allOk ? 0 : 1);
