import { BUCKETS_MS, type Breach } from "./gates.ts";

/**
 * Adaptive concurrency of budget.agents.maxConcurrent, after Netflix concurrency-limits'
 * Gradient2, one step per autopilot tick (the state lives in ops.concurrency_state):
 *
 *   long     = exponential moving average of the p95 samples over `longWindow` ticks (the
 *              first few samples are averaged: warm-up), cut by 10% while it is more than
 *              twice the sample (latency is back to normal after a long spell of load)
 *   gradient = clamp(tolerance * long / short, 0.5, 1)     short: this tick's p95 sample
 *   limit    = limit * gradient + queue                      queue: sqrt(limit)
 *              (a shrink is smoothed: limit * (1 - smoothing) + new * smoothing)
 *   limit    = clamp(limit, floor, target)
 *
 * It follows the gradient continuously, before any SLO is breached: latency rising past
 * `tolerance` times its baseline is queueing, and the limit backs off. A confirmed breach
 * still downshifts at once (downshift). Netflix's "app-limited" guard (no growth while less
 * than half the limit is in use) is left out: the limit is bounded by the target, so it cannot
 * grow without bound, and with no latency signal (an idle system: no sample) nothing queues,
 * so the limit grows back towards the target.
 */
export interface GradientParams {
  tolerance: number;
  smoothing: number;
  longWindow: number;
  /** Samples are floored here: below it latency differences are histogram noise. */
  minRttMs: number;
  floor: number;
  target: number;
}

export interface GradientState {
  /** The limit as a real number (the flag holds its floor). */
  estimated: number;
  longRttMs: number | null;
  samples: number;
}

export interface GradientStep {
  state: GradientState;
  gradient: number;
  shortRttMs: number | null;
  limit: number;
}

const WARMUP = 5;
const clamp = (x: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, x));

export function gradientStep(prev: GradientState, sampleMs: number | null, p: GradientParams): GradientStep {
  const queue = Math.sqrt(Math.max(prev.estimated, 1));
  if (sampleMs === null) {
    const estimated = clamp(prev.estimated + queue, p.floor, p.target);
    return { state: { ...prev, estimated }, gradient: 1, shortRttMs: null, limit: Math.floor(estimated) };
  }
  const short = Math.max(sampleMs, p.minRttMs);
  const n = prev.samples + 1;
  let long = prev.longRttMs === null || prev.samples === 0
    ? short
    : n <= WARMUP
    ? prev.longRttMs + (short - prev.longRttMs) / n
    : prev.longRttMs + (short - prev.longRttMs) * (2 / (p.longWindow + 1));
  if (long / short > 2) long *= 0.9;
  const gradient = clamp((p.tolerance * long) / short, 0.5, 1);
  const next = prev.estimated * gradient + queue;
  const estimated = clamp(gradient < 1 ? prev.estimated * (1 - p.smoothing) + next * p.smoothing : next, p.floor, p.target);
  return { state: { estimated, longRttMs: long, samples: n }, gradient, shortRttMs: short, limit: Math.floor(estimated) };
}

/** A confirmed breach's multiplier: how far latency is over its target (at most halving), one half for errors and lost uptime. */
export function breachGradient(breaches: Breach[]): number {
  let g = 1;
  for (const b of breaches) {
    const step = b.metric === "p95" && Number.isFinite(b.short) ? b.threshold / b.short : 0.5;
    g = Math.min(g, clamp(step, 0.5, 0.9));
  }
  return g;
}

/** The limit after a confirmed breach: multiplied by its gradient, never below the floor. */
export function downshift(current: number, breaches: Breach[], floor: number): number {
  return breaches.length > 0 ? Math.max(floor, Math.floor(current * breachGradient(breaches))) : current;
}

/**
 * p95 from cumulative latency buckets (BUCKETS_MS), interpolated linearly inside the bucket
 * that holds it (Prometheus' histogram_quantile does the same). Null without requests; the
 * last bound when p95 lies beyond it.
 */
export function p95FromBuckets(requests: number, buckets: number[]): number | null {
  if (requests <= 0) return null;
  const rank = 0.95 * requests;
  let lowerBound = 0, lowerCount = 0;
  for (let i = 0; i < BUCKETS_MS.length; i++) {
    if (buckets[i] >= rank) {
      const inBucket = buckets[i] - lowerCount;
      return inBucket <= 0 ? BUCKETS_MS[i] : lowerBound + (BUCKETS_MS[i] - lowerBound) * ((rank - lowerCount) / inBucket);
    }
    lowerBound = BUCKETS_MS[i];
    lowerCount = buckets[i];
  }
  return BUCKETS_MS[BUCKETS_MS.length - 1];
}
