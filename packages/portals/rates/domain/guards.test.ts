import { describe, expect, it } from "vitest";
import { checkGuards, type GuardRule, type LaneKey, resolveGuards } from "./guards.ts";

const LANE: LaneKey = {
  origin: { zip3: "606", region: "east_north_central" },
  destination: { zip3: "902", region: "pacific" },
  equipment: "van",
};

const RULES: GuardRule[] = [
  { id: "default", min_margin_pct: 10, max_index_deviation_pct: 25, floor_total: 350 },
  { id: "reefer", equipment: "reefer", min_margin_pct: 14 },
  { id: "van", equipment: "van", ceiling_per_mile: 6 },
  { id: "enc->pacific", origin: "east_north_central", destination: "pacific", min_margin_pct: 12 },
  { id: "606->902 van", origin: "606", destination: "902", equipment: "van", floor_total: 3000 },
  { id: "other lane", origin: "300", destination: "902", floor_total: 99999 },
];

describe("resolveGuards", () => {
  it("takes each limit from the most specific matching rule", () => {
    const r = resolveGuards(RULES, LANE);
    expect(r.limits).toEqual({ min_margin_pct: 12, max_index_deviation_pct: 25, floor_total: 3000, ceiling_per_mile: 6 });
    expect(r.sources).toEqual({
      min_margin_pct: "enc->pacific",
      max_index_deviation_pct: "default",
      floor_total: "606->902 van",
      ceiling_per_mile: "van",
    });
  });

  it("ignores rules for other lanes and other equipment", () => {
    const r = resolveGuards(RULES, { ...LANE, origin: { zip3: "752", region: "west_south_central" }, equipment: "reefer" });
    expect(r.limits).toEqual({ min_margin_pct: 14, max_index_deviation_pct: 25, floor_total: 350 });
  });
});

describe("checkGuards", () => {
  const resolved = resolveGuards(RULES, LANE);
  const ok = { sell_per_mile: 2.6, cost_per_mile: 2.24, index_per_mile: 2.4, total: 6265.2 };

  it("passes a quote inside every guard", () => {
    expect(checkGuards(ok, resolved)).toEqual({ needs_approval: false, breaches: [], skipped: [] });
  });

  it("flags (never clamps) a thin-margin contract price and names the guard and rule", () => {
    const r = checkGuards({ ...ok, sell_per_mile: 2.4 }, resolved);
    expect(r.needs_approval).toBe(true);
    expect(r.breaches).toEqual([
      { guard: "min_margin_pct", limit: 12, actual: 6.6667, rule: "enc->pacific", message: "Margin 6.7% is below the minimum 12%." },
    ]);
  });

  it("reports every broken guard at once", () => {
    const r = checkGuards({ sell_per_mile: 6.5, cost_per_mile: 2.24, index_per_mile: 2.4, total: 2900 }, resolved);
    expect(r.breaches.map((b) => b.guard)).toEqual(["max_index_deviation_pct", "floor_total", "ceiling_per_mile"]);
    expect(r.breaches[0].message).toBe("Linehaul $6.50/mi deviates 170.8% from the index $2.40/mi (max 25%).");
    expect(r.breaches[1].message).toBe("Total $2,900.00 is below the floor $3,000.00.");
  });

  it("skips guards it cannot evaluate and says why", () => {
    const r = checkGuards({ ...ok, cost_per_mile: null, index_per_mile: null }, resolved);
    expect(r.needs_approval).toBe(false);
    expect(r.skipped.map((s) => s.guard)).toEqual(["min_margin_pct", "max_index_deviation_pct"]);
  });

  it("checks the total ceiling too", () => {
    const r = checkGuards(ok, { limits: { ceiling_total: 5000 }, sources: {} });
    expect(r.breaches).toMatchObject([{ guard: "ceiling_total", limit: 5000, actual: 6265.2 }]);
  });
});
