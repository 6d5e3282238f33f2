import { describe, expect, it } from "vitest";
import type { Contract } from "./contracts.ts";
import type { GuardRule } from "./guards.ts";
import { priceQuote, type QuoteInputs, quoteLane } from "./quote.ts";

// n loads spread ±5¢ around `rate` (n even: the mean is `rate`).
const repeat = (n: number, rate: number) => Array.from({ length: n }, (_, i) => rate + (i % 2 ? 0.05 : -0.05));
const DIESEL = [
  { week_of: "2026-02-23", price: 3.779 },
  { week_of: "2026-03-02", price: 3.851 },
];
const GUARDS: GuardRule[] = [
  { id: "tenant default", min_margin_pct: 10, max_index_deviation_pct: 30, floor_total: 400 },
  { id: "van ceiling", equipment: "van", ceiling_per_mile: 5 },
];
const inputs = (over: Partial<QuoteInputs> = {}): QuoteInputs => ({
  request: { origin: "60601", destination: "90210", equipment: "van", pickup_date: "2026-03-06" },
  evidence: {
    zip3: { history: repeat(40, 2.2), index: [{ rate_per_mile: 2.4, sample_size: 1240, source: "dat" }] },
    region: { history: repeat(180, 2.3), index: [] },
  },
  diesel: DIESEL,
  guards: GUARDS,
  ...over,
});

describe("quoteLane", () => {
  it("resolves places and lane labels for the DB lookups", () => {
    expect(quoteLane({ origin: "60601", destination: "902", equipment: "van" })).toMatchObject({
      zip3Lane: "606 → 902",
      regionLane: "east_north_central → pacific",
      origin: { city: "Chicago" },
    });
    expect(quoteLane({ origin: "00000", destination: "902", equipment: "van" })).toBeNull();
  });
});

describe("priceQuote", () => {
  it("prices Chicago -> Beverly Hills van from the blend, with fuel, guards and an explanation", () => {
    const r = priceQuote(inputs());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const q = r.value;
    expect(q.miles).toBeGreaterThan(2000);
    expect(q.miles).toBeLessThan(2150);
    expect(q.basis).toBe("spot");
    // cost: Z = 40/50 = 0.8 -> 0.8 * 2.20 + 0.2 * 2.40 = 2.24; sell = 2.24 * 1.15 = 2.576
    expect(q.cost_per_mile).toBeCloseTo(2.24, 3);
    expect(q.linehaul.per_mile).toBe(2.576);
    expect(q.linehaul.total).toBeCloseTo(2.576 * q.miles, 2);
    expect(q.fuel).toEqual({ week_of: "2026-03-02", diesel_price: 3.851, per_mile: 0.434, total: expect.closeTo(0.434 * q.miles, 2) });
    expect(q.total).toBeCloseTo(q.linehaul.total + q.fuel.total, 2);
    expect(q.total).toBeGreaterThan(6000);
    expect(q.margin_pct).toBeCloseTo(13.04, 1);
    expect(q.status).toBe("priced");
    expect(q.guards.needs_approval).toBe(false);
    expect(q.blend).toMatchObject({ credibility: 0.8, history: { level: "zip3", loads: 40 }, index: { rate: 2.4 } });
    expect(q.explanation[0]).toMatch(/^Route 60601 Chicago, IL → 90210 Beverly Hills, CA: 1,7\d\d great-circle miles × 1.18 circuity = 2,0\d\d road miles\.$/);
    expect(q.explanation).toContain("Credibility Z = n/(n+k) = 40/(40+10) = 0.80; linehaul cost = 0.80 × $2.20/mi + 0.20 × $2.40/mi.");
    expect(q.explanation).toContain("Spot linehaul: cost $2.24/mi + 15% markup = $2.576/mi.");
    expect(q.explanation.at(-1)).toBe("Guards passed: min_margin_pct, max_index_deviation_pct, floor_total, ceiling_per_mile.");
  });

  it("lets a contract in force beat the blend, and flags it when it breaks margin (never clamped)", () => {
    const contracts: Contract[] = [
      { id: "C-1001", origin: "606", destination: "pacific", equipment: "van", rate: { kind: "per_mile", per_mile: 2.35 }, valid_from: "2026-01-01", valid_to: "2026-12-31" },
    ];
    const r = priceQuote(inputs({ contracts }));
    if (!r.ok) throw new Error(r.code);
    const q = r.value;
    expect(q).toMatchObject({ basis: "contract", contract_id: "C-1001", status: "needs_approval" });
    expect(q.linehaul.per_mile).toBe(2.35); // the contract rate, as agreed
    expect(q.guards.breaches).toMatchObject([{ guard: "min_margin_pct", limit: 10, rule: "tenant default" }]);
    expect(q.explanation).toContain("Contract C-1001 (2026-01-01 to 2026-12-31) applies: $2.35/mi; it beats the spot blend.");
    expect(q.explanation.some((l) => l.startsWith("Needs approval: min_margin_pct — Margin 4.7% is below the minimum 10%."))).toBe(true);
  });

  it("prices a flat contract with no market evidence, skipping the margin guard", () => {
    const contracts: Contract[] = [
      { id: "C-2", origin: "east_north_central", destination: "pacific", equipment: "van", rate: { kind: "flat", amount: 5400 }, valid_from: "2026-03-01", valid_to: "2026-03-31" },
    ];
    const r = priceQuote(inputs({ contracts, evidence: { zip3: { history: [], index: [] }, region: { history: [], index: [] } } }));
    if (!r.ok) throw new Error(r.code);
    expect(r.value).toMatchObject({ basis: "contract", linehaul: { total: 5400 }, margin_pct: null, cost_per_mile: null, blend: null });
    expect(r.value.guards.skipped.map((s) => s.guard)).toEqual(["min_margin_pct", "max_index_deviation_pct"]);
  });

  it("widens to the region lane when ZIP3 history is thin", () => {
    const r = priceQuote(inputs({ evidence: { zip3: { history: [2.9, 3.1], index: [] }, region: { history: repeat(180, 2.3), index: [{ rate_per_mile: 2.45 }] } } }));
    if (!r.ok) throw new Error(r.code);
    expect(r.value.blend).toMatchObject({ history: { level: "region", loads: 180 }, index: { level: "region" } });
    expect(r.value.explanation).toContain("Lane history 606 → 902: 2 loads, below 5; widened to east_north_central → pacific: 180 loads.");
  });

  it("flags a floor breach on a short haul", () => {
    const r = priceQuote(inputs({ request: { origin: "60601", destination: "60007", equipment: "van", pickup_date: "2026-03-06" } }));
    if (!r.ok) throw new Error(r.code);
    expect(r.value.miles).toBeLessThan(40);
    expect(r.value.status).toBe("needs_approval");
    expect(r.value.guards.breaches.map((b) => b.guard)).toEqual(["floor_total"]);
  });

  it("refuses with rate_unavailable without any basis or without a diesel price", () => {
    const empty = { zip3: { history: [], index: [] }, region: { history: [], index: [] } };
    expect(priceQuote(inputs({ evidence: empty }))).toMatchObject({ ok: false, code: "rate_unavailable", problem: { status: 422 } });
    expect(priceQuote(inputs({ diesel: [] }))).toMatchObject({ ok: false, code: "rate_unavailable", problem: { detail: "No diesel price on or before 2026-03-06" } });
  });
});
