import autocannon from "autocannon";
import { rateSlices, type Sample, type ScenarioProfile } from "./thresholds.ts";

export interface Scenario {
  name: string;
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Constant arrival rate (requests per second across all connections). */
  rate: number;
  seconds: number;
  connections?: number;
}

/** Runs one scenario at a constant arrival rate and returns every request's latency and outcome. */
export function runScenario(s: Scenario): Promise<Sample[]> {
  const samples: Sample[] = [];
  return new Promise((resolve, reject) => {
    const inst = autocannon({
      url: s.url,
      method: s.method ?? "GET",
      headers: s.headers,
      body: s.body,
      connections: s.connections ?? 10,
      overallRate: s.rate,
      duration: s.seconds,
      timeout: 10,
    }, (err) => (err ? reject(err) : resolve(samples)));
    inst.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      samples.push({ ms, ok: status >= 200 && status < 400 });
    });
    inst.on("reqError", () => samples.push({ ms: 10_000, ok: false }));
  });
}

/** Runs a scenario profile of k6/thresholds.json: constant, or a ramp as consecutive constant-rate slices. */
export async function runProfile(s: Omit<Scenario, "rate" | "seconds">, profile: ScenarioProfile): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const slice of rateSlices(profile)) samples.push(...await runScenario({ ...s, ...slice }));
  return samples;
}
