import type { Breach } from "./gates.ts";

/**
 * Adaptive downshift of budget.agents.maxConcurrent, in the spirit of Netflix's Gradient2:
 * the limit is multiplied by a gradient — how far latency is over its target (at most
 * halving), or one half for errors and lost uptime — and never goes below the floor. When
 * healthy it grows back by a quarter of itself (at least 1) per tick, up to the target.
 */
export interface ThrottleBand {
  floor: number;
  target: number;
}

export function gradient(breaches: Breach[]): number {
  let g = 1;
  for (const b of breaches) {
    const step = b.metric === "p95" && Number.isFinite(b.short) ? b.threshold / b.short : 0.5;
    g = Math.min(g, Math.max(0.5, Math.min(0.9, step)));
  }
  return g;
}

export function nextLimit(current: number, breaches: Breach[], band: ThrottleBand): number {
  if (breaches.length > 0) return Math.max(band.floor, Math.floor(current * gradient(breaches)));
  if (current >= band.target) return current;
  return Math.min(band.target, current + Math.max(1, Math.ceil(current / 4)));
}
