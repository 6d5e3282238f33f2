import { describe, expect, it } from "vitest";
import { downshift, type GradientParams, type GradientState, gradientStep, p95FromBuckets } from "./throttle.ts";

const P: GradientParams = { tolerance: 1.5, smoothing: 0.2, longWindow: 20, minRttMs: 250, floor: 10, target: 150 };
const at = (estimated: number, longRttMs: number | null = 400, samples = 50): GradientState => ({ estimated, longRttMs, samples });
/** Runs the step over a series of p95 samples; the limit after each. */
function run(state: GradientState, samples: (number | null)[], p = P) {
  const limits: number[] = [];
  for (const s of samples) {
    const step = gradientStep(state, s, p);
    state = step.state;
    limits.push(step.limit);
  }
  return { state, limits };
}

describe("gradient (Gradient2 step)", () => {
  it("steady latency: gradient 1, the limit grows by sqrt(limit) up to the target and stays there", () => {
    const s = gradientStep(at(100), 400, P);
    expect(s.gradient).toBe(1);
    expect(s.state.estimated).toBeCloseTo(110, 5); // 100 + sqrt(100)
    expect(run(at(140), [400, 400, 400]).limits).toEqual([150, 150, 150]);
  });

  it("latency within the tolerance is not queueing: no shrink below 1.5x the long-term p95", () => {
    // The long-term p95 takes the sample first (EMA over 20 ticks), then the gradient is read.
    const long = (sample: number) => 400 + (sample - 400) * (2 / 21);
    expect(gradientStep(at(150), 600, P).gradient).toBe(1); // 1.5 * 419 / 600 > 1
    expect(gradientStep(at(150), 800, P).gradient).toBeCloseTo((1.5 * long(800)) / 800, 5);
  });

  it("a p95 rise shrinks the limit before any SLO breach, smoothed, at most halving per step", () => {
    const s = gradientStep(at(150), 1600, P); // 1.5 * 514 / 1600 < 0.5: clamped
    expect(s.gradient).toBe(0.5);
    // 150 * 0.8 + (150 * 0.5 + sqrt(150)) * 0.2
    expect(s.state.estimated).toBeCloseTo(150 * 0.8 + (75 + Math.sqrt(150)) * 0.2, 5);
    expect(s.limit).toBe(137);
    const spike = gradientStep(at(150), 100_000, P);
    expect(spike.gradient).toBe(0.5); // an outlier cannot do more than the clamp
  });

  it("a sustained rise keeps shrinking the limit while the long-term p95 lags, until it is the new baseline", () => {
    const { state, limits } = run(at(150), Array(15).fill(1500));
    expect(limits.slice(0, 5)).toEqual([137, 128, 123, 119, 117]);
    expect(state.longRttMs!).toBeGreaterThan(1200); // the baseline moved: 1.5 s is normal now
    expect(limits.at(-1)).toBe(150);
    // The SLO gate, not the gradient, answers a latency that stays over its target (downshift).
  });

  it("cuts a long-term p95 more than twice the sample by 10% (latency back to normal)", () => {
    const s = gradientStep(at(100, 2000), 400, P);
    // EMA first: 2000 + (400 - 2000) * 2/21, then * 0.9
    expect(s.state.longRttMs).toBeCloseTo((2000 + (400 - 2000) * (2 / 21)) * 0.9, 5);
    expect(s.gradient).toBe(1);
  });

  it("warms up: the first sample is the baseline, the next few are averaged", () => {
    const first = gradientStep({ estimated: 150, longRttMs: null, samples: 0 }, 600, P);
    expect(first.state).toMatchObject({ longRttMs: 600, samples: 1 });
    expect(gradientStep(first.state, 900, P).state.longRttMs).toBeCloseTo(750, 5);
  });

  it("floors samples at minRttMs: bucket noise under 250 ms never reads as queueing", () => {
    // A fast baseline (every sample floored: 250) and a p95 from 40 to 240 ms: no gradient.
    const { state } = run({ estimated: 150, longRttMs: null, samples: 0 }, [40, 60, 50]);
    expect(state.longRttMs).toBe(250);
    const s = gradientStep(state, 240, P);
    expect(s).toMatchObject({ shortRttMs: 250, gradient: 1, limit: 150 });
  });

  it("no sample (too few requests): nothing queues, the limit grows back towards the target", () => {
    const s = gradientStep(at(64, 400, 7), null, P);
    expect(s).toMatchObject({ gradient: 1, shortRttMs: null, limit: 72, state: { longRttMs: 400, samples: 7 } });
  });

  it("never leaves [floor, target]", () => {
    expect(run(at(12), Array(4).fill(100_000)).limits).toEqual([11, 11, 10, 10]);
    expect(gradientStep(at(400), 400, P).limit).toBe(150);
  });
});

describe("breach downshift", () => {
  it("halves on errors, follows the latency overshoot, never below the floor", () => {
    expect(downshift(150, [{ scope: "x", metric: "success", short: 0.9, long: 0.95, threshold: 0.98 }], 10)).toBe(75);
    expect(downshift(100, [{ scope: "x", metric: "p95", short: 1875, long: 1600, threshold: 1500 }], 10)).toBe(80);
    expect(downshift(12, [{ scope: "x", metric: "uptime", short: 0.9, long: 0.9, threshold: 0.9995 }], 10)).toBe(10);
    expect(downshift(40, [], 10)).toBe(40);
  });
});

describe("p95 from the histogram", () => {
  it("interpolates inside the bucket that holds the 95th percentile", () => {
    // 100 requests: 90 <= 250 ms, 100 <= 500 ms: the 95th is halfway through 250..500
    expect(p95FromBuckets(100, [50, 90, 100, 100, 100, 100, 100, 100])).toBeCloseTo(375, 5);
    expect(p95FromBuckets(100, [95, 100, 100, 100, 100, 100, 100, 100])).toBeCloseTo(100, 5);
    expect(p95FromBuckets(100, [0, 0, 0, 0, 0, 0, 0, 0])).toBe(10_000); // beyond the last bound
    expect(p95FromBuckets(0, [0, 0, 0, 0, 0, 0, 0, 0])).toBeNull();
  });
});
