import { describe, expect, it } from "vitest";
import { money, type RateConfirmation, renderRateConfirmation } from "./rate-confirmation.ts";
import { pdfText } from "../../../../tests/helpers/pdf.ts";

const rc: RateConfirmation = {
  brokerage: "Demo Freight Co",
  load_reference: "LD-1001",
  tender_id: "9c1e6c8e-0000-4000-8000-000000000001",
  issued_at: new Date("2026-11-30T15:00:00Z"),
  accept_by: new Date("2026-11-30T15:30:00Z"),
  carrier: { name: "Prairie Haulers", mc_number: "100011", dot_number: "2000011", scac: "PRHL" },
  equipment_type: "van",
  weight_lbs: 38000,
  commodity: "Canned goods",
  rate_cents: 196050,
  currency: "USD",
  stops: [
    { sequence: 1, kind: "pickup", facility: "Acme DC Chicago", address: "1200 W Fulton St", city: "Chicago", region: "IL", postal_code: "60607", time_zone: "America/Chicago", window_start_local: "2026-12-01 08:00", window_end_local: "2026-12-01 10:00" },
    { sequence: 2, kind: "delivery", facility: "Acme Dallas → Dock 4", address: null, city: "Dallas", region: "TX", postal_code: null, time_zone: "America/Chicago", window_start_local: "2026-12-03 13:00", window_end_local: "2026-12-03 15:00" },
  ],
};

describe("the rate confirmation PDF", () => {
  it("prints money from integer cents", () => {
    expect(money(196050, "USD")).toBe("$1,960.50");
    expect(money(5, "USD")).toBe("$0.05");
    expect(money(12345600, "CAD")).toBe("123,456.00 CAD");
  });

  it("carries the rate, the carrier and every stop with its window in facility time (read back with pdfjs)", async () => {
    const bytes = await renderRateConfirmation(rc);
    expect(new TextDecoder().decode(bytes.slice(0, 5))).toBe("%PDF-");
    const text = await pdfText(bytes);
    expect(text).toContain("RATE CONFIRMATION LD-1001");
    expect(text).toContain("Carrier: Prairie Haulers (MC 100011, DOT 2000011, SCAC PRHL)");
    expect(text).toContain("Rate: $1,960.50 all-in linehaul (USD)");
    expect(text).toContain("Accept by: 2026-11-30 15:30 UTC");
    expect(text).toContain("1. Pickup: Acme DC Chicago | 1200 W Fulton St Chicago, IL 60607");
    expect(text).toContain("Window: 2026-12-01 08:00 to 2026-12-01 10:00 (America/Chicago)");
    // a character the standard font cannot encode is replaced, not a crash
    expect(text).toContain("2. Delivery: Acme Dallas ? Dock 4 | Dallas, TX");
  });
});
