/**
 * The gate's load smoke: load/run.ts at a constant arrival rate on health, judged like k6
 * judges k6/smoke.js but by the live SLO flags (http_req_failed < 1 - slo.successMin,
 * p95 < slo.p95MaxMs).
 */
import { runScenario } from "../../load/run.ts";
import { judge } from "../../load/thresholds.ts";
import type { CheckResult, SloLimits } from "./checks.ts";

export async function loadSmoke(apiUrl: string, anonKey: string, rate: number, seconds: number, l: SloLimits): Promise<CheckResult> {
  const samples = await runScenario({
    name: "health",
    url: `${apiUrl}/functions/v1/health`,
    headers: { authorization: `Bearer ${anonKey}`, apikey: anonKey },
    rate,
    seconds,
  });
  const ts = judge([
    { metric: "http_req_failed", expr: `rate<${Number((1 - l.successMin).toFixed(6))}` },
    { metric: "http_req_duration", expr: `p(95)<${l.p95Ms}` },
  ], { health: samples });
  const fmt = (v: number, ms: boolean) => (Number.isFinite(v) ? (ms ? `${Math.round(v)} ms` : `${(v * 100).toFixed(2)}%`) : "n/a");
  return {
    name: "load_smoke",
    ok: ts.every((t) => t.ok),
    summary: `${samples.length} requests to /functions/v1/health at ${rate}/s for ${seconds} s: ` +
      ts.map((t) => `${t.metric} ${fmt(t.value, t.metric === "http_req_duration")}`).join(", "),
    threshold: ts.map((t) => `${t.metric} ${t.expr}`).join(", "),
    rows: ts.map((t) => ({ ...t })),
    traces: [],
  };
}
