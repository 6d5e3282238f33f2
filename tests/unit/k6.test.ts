/**
 * Issue 21: one source of thresholds. Each k6 script, bundled with esbuild (k6 modules
 * stubbed), exports the scenarios and thresholds of k6/thresholds.json; README's table is
 * the file's; the autocannon runs evaluate the file's thresholds the way k6 does; the
 * workflows pin every action by commit SHA and run the k6 smoke between deploy and gate.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { judge, LOAD, type RunName, rateSlices, type ScenarioProfile, thresholdsTable } from "../../load/thresholds.ts";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";
import { loadK6Script } from "../helpers/k6.ts";

/** What k6 must be given for one profile of the file (written out here, not by the script's code). */
function expectedScenario(name: string, p: ScenarioProfile) {
  return "rate" in p
    ? { executor: "constant-arrival-rate", exec: name, rate: p.rate, timeUnit: "1s", duration: `${p.seconds}s` }
    : { executor: "ramping-arrival-rate", exec: name, startRate: p.start_rate, timeUnit: "1s", stages: p.stages.map((s) => ({ target: s.rate, duration: `${s.seconds}s` })) };
}
const secondsOf = (d: string) => Number(/^(\d+)s$/.exec(d)![1]);
const peak = (p: ScenarioProfile) => ("rate" in p ? p.rate : Math.max(p.start_rate, ...p.stages.map((s) => s.rate)));

describe.each([["smoke.js", "smoke"], ["load.js", "load"]] as [string, RunName][])("k6/%s", (file, run) => {
  it(`exports k6/thresholds.json's thresholds and its "${run}" scenarios as options`, async () => {
    const mod = await loadK6Script(file);
    const thresholds: Record<string, string[]> = {};
    for (const t of LOAD.thresholds) (thresholds[t.metric] ??= []).push(t.expr);
    expect(mod.options.thresholds).toEqual(thresholds);

    const profiles = LOAD.runs[run];
    const { outbox_lag: lag, ...load } = mod.options.scenarios;
    expect(Object.keys(load).sort()).toEqual(Object.keys(profiles).sort());
    for (const [name, p] of Object.entries(profiles)) {
      expect(load[name]).toMatchObject(expectedScenario(name, p));
      expect(load[name].maxVUs).toBeGreaterThanOrEqual(peak(p));
      expect(typeof mod[name], `k6/${file} exports ${name}()`).toBe("function");
    }
    // the lag is read once, after every load scenario has ended
    const ends = Object.values(load).map((s: any) => s.duration ? secondsOf(s.duration) : s.stages.reduce((n: number, st: any) => n + secondsOf(st.duration), 0));
    expect(lag).toMatchObject({ executor: "per-vu-iterations", exec: "outbox_lag", vus: 1, iterations: 1 });
    expect(secondsOf(lag.startTime)).toBeGreaterThan(Math.max(...ends));
    expect(typeof mod.outbox_lag).toBe("function");
    expect(typeof mod.setup).toBe("function");
  });
});

describe("k6/thresholds.json", () => {
  it("is README's thresholds table (regenerate it with load/thresholds.ts thresholdsTable())", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    expect(readme).toContain(thresholdsTable());
  });

  it("holds the charter's thresholds (§8): failures < 2%, p95 < 2.5 s, portals < 1.5 s, outbox lag p95 < 5 s", () => {
    expect(LOAD.thresholds.map((t) => `${t.metric}: ${t.expr}`)).toEqual([
      "http_req_failed: rate<0.02",
      "http_req_duration: p(95)<2500",
      "http_req_duration{scenario:price_one}: p(95)<1500",
      "outbox_lag: p(95)<5000",
    ]);
  });

  it("the autocannon runs judge the file's thresholds as k6 does: all requests, one scenario's, the lags; no samples fail", () => {
    const ok = (ms: number) => ({ ms, ok: true });
    const health = Array.from({ length: 100 }, () => ok(2000)); // slow, but within the 2.5 s of all requests
    const price = [...Array.from({ length: 98 }, () => ok(100)), { ms: 10_000, ok: false }, { ms: 10_000, ok: false }];
    const r = Object.fromEntries(judge(LOAD.thresholds, { health, price_one: price }, [100, 200]).map((t) => [t.metric, t]));
    expect(r.http_req_failed).toMatchObject({ value: 0.01, ok: true }); // 2 of 200
    expect(r.http_req_duration).toMatchObject({ value: 2000, ok: true });
    expect(r["http_req_duration{scenario:price_one}"]).toMatchObject({ value: 100, ok: true });
    expect(r.outbox_lag).toMatchObject({ value: 200, ok: true });

    const slowPortal = judge(LOAD.thresholds, { health: [ok(10)], price_one: Array.from({ length: 20 }, () => ok(1600)) }, [1]);
    expect(slowPortal.filter((t) => !t.ok).map((t) => t.metric)).toEqual(["http_req_duration{scenario:price_one}"]);
    expect(judge(LOAD.thresholds, { health: [], price_one: [] }, []).every((t) => !t.ok)).toBe(true);
    expect(() => judge([{ metric: "http_req_duration{scenario:nope}", expr: "p(95)<1" }], { health: [] })).toThrow(/no scenario nope/);
    expect(() => judge([{ metric: "iterations", expr: "rate<1" }], { health: [] })).toThrow(/no evaluator/);
  });

  it("a ramp runs here as constant-rate slices that keep k6's duration and its mean rate", () => {
    const slices = rateSlices({ start_rate: 0, stages: [{ rate: 50, seconds: 20 }, { rate: 50, seconds: 10 }] });
    expect(slices.reduce((n, s) => n + s.seconds, 0)).toBe(30);
    expect(slices.map((s) => s.rate)).toEqual([6, 19, 31, 44, 50, 50]);
  });
});

describe(".github/workflows", () => {
  const wf = (name: string) => readFileSync(join(PROJECT_ROOT, ".github", "workflows", name), "utf8");

  it("every action is pinned by a commit SHA, with its release tag in a comment", () => {
    for (const name of ["deploy.yml", "dr-drill.yml", "k6-load.yml"]) {
      const uses = [...wf(name).matchAll(/uses:\s*(\S+)(.*)$/gm)];
      expect(uses.length, name).toBeGreaterThan(0);
      for (const [, ref, rest] of uses) {
        expect(ref, `${name}: ${ref}`).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(rest, `${name}: ${ref}`).toMatch(/^ # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("deploy runs the k6 smoke after the functions deploy and before the gate, which it feeds", () => {
    const d = wf("deploy.yml");
    const at = (s: string) => {
      const i = d.indexOf(s);
      expect(i, s).toBeGreaterThan(-1);
      return i;
    };
    expect(at("supabase functions deploy")).toBeLessThan(at("grafana/setup-k6-action@"));
    expect(at("grafana/setup-k6-action@")).toBeLessThan(at("grafana/run-k6-action@"));
    expect(at("path: k6/smoke.js")).toBeLessThan(at("npm run gate"));
    expect(d).toMatch(/GATE_K6_OUTCOME: \$\{\{ steps\.k6\.outcome \}\}/);
    expect(wf("k6-load.yml")).toMatch(/path: k6\/load\.js/);
  });
});
