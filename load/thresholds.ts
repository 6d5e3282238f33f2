/**
 * The charter's load thresholds (§8, k6 style): http_req_failed rate<0.02,
 * http_req_duration p(95)<2500, outbox lag p(95)<5000 ms.
 */
export interface Sample {
  ms: number;
  ok: boolean;
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

export function evaluate(samples: Sample[], limits = { failedRate: 0.02, p95Ms: 2500 }): Threshold[] {
  const lat = samples.map((s) => s.ms).sort((a, b) => a - b);
  const failed = samples.length ? samples.filter((s) => !s.ok).length / samples.length : 1;
  const p95 = percentile(lat, 95);
  return [
    { metric: "http_req_failed", expr: `rate<${limits.failedRate}`, value: failed, limit: limits.failedRate, ok: samples.length > 0 && failed < limits.failedRate },
    { metric: "http_req_duration", expr: `p(95)<${limits.p95Ms}`, value: p95, limit: limits.p95Ms, ok: p95 < limits.p95Ms },
  ];
}

export function formatThresholds(ts: Threshold[]): string {
  return ts.map((t) => `  ${t.ok ? "✓" : "✗"} ${t.metric.padEnd(20)} ${t.expr.padEnd(12)} actual ${Number.isFinite(t.value) ? t.value.toFixed(t.value < 1 ? 4 : 1) : "n/a"}`).join("\n");
}

/** A k6-style Trend threshold, e.g. outbox_lag p(95)<5000 (no samples: not met). */
export function trendThreshold(metric: string, values: number[], p: number, limit: number): Threshold {
  const v = percentile([...values].sort((a, b) => a - b), p);
  return { metric, expr: `p(${p})<${limit}`, value: v, limit, ok: values.length > 0 && v < limit };
}
