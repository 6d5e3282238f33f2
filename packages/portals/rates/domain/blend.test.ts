import { describe, expect, it } from "vitest";
import { blendLinehaul, type LaneEvidence } from "./blend.ts";

const repeat = (n: number, rate: number) => Array.from({ length: n }, () => rate);
const zip3 = (history: number[], index: LaneEvidence["index"] = []): LaneEvidence => ({ lane: "606 → 902", history, index });
const region = (history: number[], index: LaneEvidence["index"] = []): LaneEvidence => ({
  lane: "east_north_central → pacific",
  history,
  index,
});
const DAT = [{ rate_per_mile: 2.4, sample_size: 1200, effective_date: "2026-03-02", source: "dat" }];

describe("blendLinehaul", () => {
  it("weights history by credibility n/(n+k) against the index", () => {
    // 40 loads at $2.20 vs index $2.40: Z = 40/50 = 0.8 -> 0.8*2.20 + 0.2*2.40 = 2.24
    const b = blendLinehaul(zip3(repeat(40, 2.2), DAT), region([]))!;
    expect(b.credibility).toBe(0.8);
    expect(b.per_mile).toBeCloseTo(2.24, 4);
    expect(b.history).toEqual({ level: "zip3", lane: "606 → 902", loads: 40, mean: 2.2 });
    expect(b.index).toMatchObject({ level: "zip3", rate: 2.4, rows: 1, sample_size: 1200 });
    expect(b.explanation).toContain("Credibility Z = n/(n+k) = 40/(40+10) = 0.80; linehaul cost = 0.80 × $2.20/mi + 0.20 × $2.40/mi.");
    expect(b.explanation.at(-1)).toBe("Blended linehaul cost: $2.24/mi.");
  });

  it("gives history and index equal weight at n = k", () => {
    const b = blendLinehaul(zip3(repeat(10, 2.0), DAT), region([]), { credibilityK: 10 })!;
    expect(b.per_mile).toBeCloseTo(2.2, 4);
  });

  it("widens thin ZIP3 history to the region lane and says so", () => {
    const b = blendLinehaul(zip3([3.1, 2.9], DAT), region(repeat(30, 2.3)))!;
    expect(b.history).toMatchObject({ level: "region", loads: 30, mean: 2.3 });
    expect(b.credibility).toBe(0.75);
    expect(b.per_mile).toBeCloseTo(0.75 * 2.3 + 0.25 * 2.4, 4);
    expect(b.explanation[0]).toBe("Lane history 606 → 902: 2 loads, below 5; widened to east_north_central → pacific: 30 loads.");
  });

  it("keeps thin ZIP3 history when the region has no more", () => {
    const b = blendLinehaul(zip3([2.5, 2.7], DAT), region([2.5, 2.7]))!;
    expect(b.history).toMatchObject({ level: "zip3", loads: 2, mean: 2.6 });
    expect(b.credibility).toBeCloseTo(2 / 12, 4);
  });

  it("weights index rows by their sample size and falls back to the region index", () => {
    const rows = [
      { rate_per_mile: 2.0, sample_size: 100 },
      { rate_per_mile: 3.0, sample_size: 300 },
    ];
    const b = blendLinehaul(zip3([]), region([], rows))!;
    expect(b.index).toMatchObject({ level: "region", rate: 2.75, rows: 2, sample_size: 400 });
    expect(b.credibility).toBe(0);
    expect(b.per_mile).toBe(2.75);
    expect(b.explanation).toContain("No market index for 606 → 902; using east_north_central → pacific.");
  });

  it("uses history alone without an index, and returns null with nothing at all", () => {
    const b = blendLinehaul(zip3(repeat(6, 2.1)), region([]))!;
    expect(b).toMatchObject({ per_mile: 2.1, credibility: 1, index: null });
    expect(blendLinehaul(zip3([]), region([]))).toBeNull();
  });
});
