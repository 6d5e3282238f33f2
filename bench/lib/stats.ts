/** Percentiles, summaries, the progress line the bench prints while it runs, and its results files. */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";

/** The machine a run measured on: its load average says how much else was running. */
export interface Machine {
  cpus: number;
  model: string;
  loadavgStart: number[];
  loadavgEnd?: number[];
}
export const machineNow = (): Machine => ({ cpus: cpus().length, model: cpus()[0]?.model ?? "?", loadavgStart: loadavg() });
export const loadLine = () => `${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(1)).join(" ")}`;

/** Writes bench/results/<name>.json (the figures) and <name>.md (the printed report). */
export function writeResults(name: string, results: unknown, text: string): void {
  const dir = join(PROJECT_ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(results, null, 2));
  writeFileSync(join(dir, `${name}.md`), `${text}\n`);
}

export interface Latency {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

export function latency(values: number[]): Latency {
  const s = Float64Array.from(values).sort();
  const arr = Array.from(s);
  const mean = arr.length ? arr.reduce((a, b) => a + b, 0) / arr.length : NaN;
  return { n: arr.length, p50: percentile(arr, 50), p95: percentile(arr, 95), p99: percentile(arr, 99), mean };
}

export const round = (v: number, d = 1) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function fmtRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
  return v >= 100 ? Math.round(v).toLocaleString("en-US") : v.toFixed(1);
}

export const fmtPct = (v: number | null | undefined) =>
  v === null || v === undefined || !Number.isFinite(v) ? "n/a" : `${(v * 100).toFixed(0)}%`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const t0 = Date.now();
/** A progress line with the elapsed time: `[02:13] pipeline price_one 300/s ...`. */
export function progress(line: string): void {
  const s = Math.floor((Date.now() - t0) / 1000);
  const mm = String(Math.floor(s / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  console.log(`[${mm}:${ss}] ${line}`);
}

/** A plain-text table (also valid GitHub markdown). */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const w = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(" | ")} |`;
  return [line(cells[0]), `|${w.map((n, i) => (i === 0 ? ` ${"-".repeat(n)} ` : ` ${"-".repeat(n - 1)}: `)).join("|")}|`, ...cells.slice(1).map(line)].join("\n");
}
