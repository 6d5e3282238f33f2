import { describe, expect, it } from "vitest";
import { dieselWeekFor, fuelPerMile, fuelSurcharge } from "./fuel.ts";

// EIA-style weekly retail diesel, $/gal (Mondays).
const DIESEL = [
  { week_of: "2026-02-16", price: 3.712 },
  { week_of: "2026-03-02", price: 3.851 },
  { week_of: "2026-02-23", price: 3.779 },
  { week_of: "2026-03-09", price: 3.904 },
];

describe("dieselWeekFor", () => {
  it("picks the latest week on or before the date, whatever the table order", () => {
    expect(dieselWeekFor(DIESEL, "2026-03-06")?.week_of).toBe("2026-03-02");
    expect(dieselWeekFor(DIESEL, "2026-03-09")?.week_of).toBe("2026-03-09");
    expect(dieselWeekFor(DIESEL, "2026-12-31")?.week_of).toBe("2026-03-09");
    expect(dieselWeekFor(DIESEL, "2026-02-15")).toBeNull();
  });
});

describe("fuel surcharge", () => {
  it("computes (price - base) / MPG per mile", () => {
    expect(fuelPerMile(3.851)).toBe(0.434); // (3.851 - 1.25) / 6 = 0.43350
    expect(fuelPerMile(4.25, { base_price: 1.2, mpg: 6.5 })).toBe(0.469);
  });

  it("never goes negative when diesel is below the base", () => {
    expect(fuelPerMile(1.1)).toBe(0);
  });

  it("totals over the miles and explains itself", () => {
    const f = fuelSurcharge(DIESEL, "2026-03-06", 2065)!;
    expect(f).toMatchObject({ week_of: "2026-03-02", diesel_price: 3.851, per_mile: 0.434, total: 896.21 });
    expect(f.explanation).toEqual([
      "Fuel: diesel $3.851/gal (week of 2026-03-02); ($3.851 - $1.25 base) / 6 MPG = $0.434/mi × 2,065 mi = $896.21.",
    ]);
  });

  it("flags a stale week and returns null without any week", () => {
    expect(fuelSurcharge(DIESEL, "2026-04-15", 500)!.explanation[1]).toBe("Fuel price is 37 days older than the pickup date.");
    expect(fuelSurcharge([], "2026-03-06", 500)).toBeNull();
  });
});
