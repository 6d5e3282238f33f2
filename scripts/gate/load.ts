/** The gate's load smoke: load/run.ts at a constant arrival rate, judged by load/thresholds.ts. */
import { runScenario } from "../../load/run.ts";
import { evaluate } from "../../load/thresholds.ts";
import type { CheckResult } from "./checks.ts";

export async function loadSmoke(apiUrl: string, anonKey: string, rate: number, seconds: number): Promise<CheckResult> {
  const samples = await runScenario({
    name: "health",
    url: `${apiUrl}/functions/v1/health`,
    headers: { authorization: `Bearer ${anonKey}`, apikey: anonKey },
    rate,
    seconds,
  });
  const ts = evaluate(samples);
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
