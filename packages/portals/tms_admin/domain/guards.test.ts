import { describe, expect, it } from "vitest";
import { centsToDollars, dollarsToCents, guardCents, guardRow, invertedLimits, setsALimit } from "./guards.ts";

describe("guard money", () => {
  it("converts cents to Rates' dollar columns and back exactly", () => {
    expect(centsToDollars(123456)).toBe("1234.56");
    expect(centsToDollars(5)).toBe("0.05");
    expect(centsToDollars(0)).toBe("0.00");
    expect(dollarsToCents("1234.56")).toBe(123456);
    expect(dollarsToCents("2.1500")).toBe(215);
    expect(dollarsToCents("7")).toBe(700);
    // 0.1 + 0.2 style float error never appears: the strings are decimal
    for (const c of [1, 10, 29, 99, 1005, 999_999_999_99]) expect(dollarsToCents(centsToDollars(c))).toBe(c);
  });

  it("refuses fractions of a cent and non-integer cents", () => {
    expect(() => dollarsToCents("2.155")).toThrow(/fraction of a cent/);
    expect(() => centsToDollars(10.5)).toThrow(RangeError);
    expect(() => centsToDollars(-1)).toThrow(RangeError);
  });

  it("maps a guard to its row and back", () => {
    const g = { min_margin_pct: 12.5, floor_total_cents: 50000, ceiling_per_mile_cents: 450 };
    const row = guardRow(g);
    expect(row).toEqual({ min_margin_pct: "12.5", max_index_deviation_pct: null, floor_total: "500.00", ceiling_total: null,
                          floor_per_mile: null, ceiling_per_mile: "4.50" });
    expect(guardCents({ ...row, ceiling_per_mile: "4.5000" })).toEqual({ min_margin_pct: 12.5, max_index_deviation_pct: null,
      floor_total_cents: 50000, ceiling_total_cents: null, floor_per_mile_cents: null, ceiling_per_mile_cents: 450 });
  });

  it("names floors above their ceilings, and a guard without limits", () => {
    expect(invertedLimits({ floor_total_cents: 2, ceiling_total_cents: 1, floor_per_mile_cents: 1, ceiling_per_mile_cents: 1 })).toEqual(["floor_total_cents"]);
    expect(setsALimit({})).toBe(false);
    expect(setsALimit({ max_index_deviation_pct: 0 })).toBe(true);
  });
});
