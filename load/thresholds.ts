/**
 * The charter's load thresholds (§8, k6 style) and the runs' scenarios, read from
 * k6/thresholds.json: the one file the k6 scripts open() too, so the k6 runs in users' CI
 * and the autocannon runs here cannot drift apart. The post-deploy gate takes its defaults
 * from it and judges by the live `slo.*` flags (scripts/gate/checks.ts).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export interface Sample {
  ms: number;
  ok: boolean;
}

const EXPR = /^(rate|p\((\d+(?:\.\d+)?)\))<(\d+(?:\.\d+)?)$/;
const stage = z.strictObject({ rate: z.number().nonnegative(), seconds: z.number().int().positive() });
const constantRate = z.strictObject({ rate: z.number().positive(), seconds: z.number().int().positive() });
const rampingRate = z.strictObject({ start_rate: z.number().nonnegative(), stages: z.array(stage).min(1) });
const scenario = z.union([constantRate, rampingRate]);
const run = z.strictObject({ health: scenario, price_one: scenario });

export const LoadFile = z.strictObject({
  $comment: z.string().optional(),
  thresholds: z.array(z.strictObject({
    /** a k6 metric, optionally one scenario's sub-metric: http_req_duration{scenario:price_one} */
    metric: z.string().regex(/^[a-z_]+(\{scenario:[a-z_]+\})?$/),
    /** k6's threshold syntax, the forms both runners evaluate: rate<x, p(n)<x */
    expr: z.string().regex(EXPR),
    /** the `slo.*` flag seeded with this value (the gate reads the live flag); null: none */
    flag: z.string().nullable(),
    means: z.string(),
  })).min(1),
  runs: z.strictObject({ smoke: run, load: run }),
});
export type LoadFile = z.infer<typeof LoadFile>;
export type ScenarioProfile = z.infer<typeof scenario>;
export type RunName = keyof LoadFile["runs"];

export const THRESHOLDS_FILE = fileURLToPath(new URL("../k6/thresholds.json", import.meta.url));
export const LOAD: LoadFile = LoadFile.parse(JSON.parse(readFileSync(THRESHOLDS_FILE, "utf8")));

/** `rate<0.02` -> { p: null, limit: 0.02 }; `p(95)<2500` -> { p: 95, limit: 2500 }. */
export function parseExpr(expr: string): { p: number | null; limit: number } {
  const m = EXPR.exec(expr);
  if (!m) throw new Error(`not a threshold this project evaluates: ${expr}`);
  return { p: m[2] === undefined ? null : Number(m[2]), limit: Number(m[3]) };
}

/** The file's limit for a metric (its first threshold). */
export function limitOf(metric: string): number {
  const t = LOAD.thresholds.find((x) => x.metric === metric);
  if (!t) throw new Error(`k6/thresholds.json has no threshold on ${metric}`);
  return parseExpr(t.expr).limit;
}

/** How long a scenario runs, in seconds. */
export const scenarioSeconds = (s: ScenarioProfile): number =>
  "seconds" in s ? s.seconds : s.stages.reduce((n, st) => n + st.seconds, 0);

/** The highest arrival rate a scenario reaches. */
export const peakRate = (s: ScenarioProfile): number =>
  "rate" in s ? s.rate : Math.max(s.start_rate, ...s.stages.map((st) => st.rate));

/**
 * A scenario as constant-rate slices (autocannon has no ramp): k6's linear ramp between
 * stage targets, approximated by `sliceSeconds` steps at the ramp's mean rate over each.
 */
export function rateSlices(s: ScenarioProfile, sliceSeconds = 5): { rate: number; seconds: number }[] {
  if ("rate" in s) return [{ rate: s.rate, seconds: s.seconds }];
  const out: { rate: number; seconds: number }[] = [];
  let from = s.start_rate;
  for (const st of s.stages) {
    for (let t = 0; t < st.seconds; t += sliceSeconds) {
      const len = Math.min(sliceSeconds, st.seconds - t);
      const mid = (t + len / 2) / st.seconds;
      out.push({ rate: Math.max(1, Math.round(from + (st.rate - from) * mid)), seconds: len });
    }
    from = st.rate;
  }
  return out;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export interface Threshold {
  metric: string;
  expr: string;
  value: number;
  limit: number;
  ok: boolean;
}

/**
 * Evaluates thresholds the way k6 does on the metrics of a run: http_req_failed and
 * http_req_duration over every request (or one scenario's, `{scenario:name}`), outbox_lag
 * over the lags. No samples is not a pass. A metric without an evaluator here is an error,
 * so a threshold added to the file cannot be skipped silently.
 */
export function judge(
  thresholds: { metric: string; expr: string }[],
  samples: Record<string, Sample[]>,
  lags: number[] = [],
): Threshold[] {
  return thresholds.map(({ metric, expr }) => {
    const { p, limit } = parseExpr(expr);
    const [, base, only] = /^([a-z_]+)(?:\{scenario:([a-z_]+)\})?$/.exec(metric) ?? [];
    if (only !== undefined && !(only in samples)) throw new Error(`${metric}: this run has no scenario ${only}`);
    const reqs = only === undefined ? Object.values(samples).flat() : samples[only];
    let values: number[];
    if (base === "http_req_failed" && p === null) {
      const failed = reqs.length ? reqs.filter((s) => !s.ok).length / reqs.length : 1;
      return { metric, expr, value: failed, limit, ok: reqs.length > 0 && failed < limit };
    } else if (base === "http_req_duration" && p !== null) values = reqs.map((s) => s.ms);
    else if (base === "outbox_lag" && p !== null) values = lags;
    else throw new Error(`no evaluator for ${metric} ${expr}`);
    const v = percentile([...values].sort((a, b) => a - b), p);
    return { metric, expr, value: v, limit, ok: values.length > 0 && v < limit };
  });
}

export function formatThresholds(ts: Threshold[]): string {
  const w = Math.max(20, ...ts.map((t) => t.metric.length));
  return ts.map((t) => `  ${t.ok ? "✓" : "✗"} ${t.metric.padEnd(w)} ${t.expr.padEnd(12)} actual ${Number.isFinite(t.value) ? t.value.toFixed(t.value < 1 ? 4 : 1) : "n/a"}`).join("\n");
}

/** README's thresholds table, generated from the file (tests/unit/k6.test.ts keeps README equal to it). */
export function thresholdsTable(file: LoadFile = LOAD): string {
  return [
    "| k6 metric | threshold | means | the post-deploy gate judges by |",
    "|---|---|---|---|",
    ...file.thresholds.map((t) =>
      `| \`${t.metric}\` | \`${t.expr}\` | ${t.means} | ${!t.flag ? "k6/thresholds.json (no flag)" : parseExpr(t.expr).p === null ? `the flag \`${t.flag}\` (= 1 - rate)` : `the flag \`${t.flag}\``} |`),
  ].join("\n");
}
