import { describe, expect, it } from "vitest";
import { money, perMile, renderStatement } from "./statement.ts";

describe("money", () => {
  it("lays out integer cents with separators, no float rounding", () => {
    expect(money(0)).toBe("0.00");
    expect(money(5)).toBe("0.05");
    expect(money(123456789)).toBe("1,234,567.89");
    expect(money(-8333)).toBe("-83.33");
  });
});

describe("perMile", () => {
  it("rounds half up to whole cents, null without miles", () => {
    expect(perMile(250000, 1000)).toBe(250);
    expect(perMile(100, 3)).toBe(33);
    expect(perMile(101, 2)).toBe(51);
    expect(perMile(1000, 0)).toBeNull();
  });
});

describe("renderStatement", () => {
  it("states every load and deduction and the net, to the cent", () => {
    const text = renderStatement({
      number: "OOS-1", carrier_party_id: "p", currency: "USD",
      loads: [{ load_id: "a", reference: "L-1", pay_cents: 250000, loaded_miles: 900, empty_miles: 100 }, { load_id: "b", reference: "L-2", pay_cents: 187550, loaded_miles: null, empty_miles: null }],
      deductions: { fuel_advance_cents: 52525, escrow_cents: 10000, lease_cents: 35000, insurance_cents: 8333 },
      gross_cents: 437550, deductions_cents: 105858, net_cents: 331692,
    }, "2026-12-02", "Ann Trucking");
    expect(text).toContain("PAY STATEMENT OOS-1");
    expect(text).toMatch(/L-1 \(1000 mi\)\s+2,500.00/);
    expect(text).toMatch(/Fuel advances\s+-525.25/);
    expect(text).toMatch(/Insurance\s+-83.33/);
    expect(text).toMatch(/NET PAY\s+3,316.92\n$/);
  });
});
