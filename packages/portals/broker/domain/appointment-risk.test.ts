import { describe, expect, it } from "vitest";
import { appointmentRiskReason, type RiskFacts } from "./appointment-risk.ts";

const at = (iso: string) => new Date(iso);
const facts = (f: Partial<RiskFacts>): RiskFacts => ({
  now: at("2026-12-01T12:00:00Z"), sequence: 2, facility: "Acme Dallas", opens: at("2026-12-01T13:00:00Z"), closes: at("2026-12-01T15:00:00Z"),
  checkCallDue: at("2026-12-01T13:30:00Z"), horizonMinutes: 120, ...f,
});

describe("appointment at risk", () => {
  it("is not at risk while check calls come and the window is open ahead", () => {
    expect(appointmentRiskReason(facts({}))).toBeNull();
  });
  it("is at risk once the window closed without an arrival (the ETA is past it)", () => {
    expect(appointmentRiskReason(facts({ now: at("2026-12-01T15:01:00Z"), checkCallDue: at("2026-12-01T18:00:00Z") })))
      .toBe("stop 2 (Acme Dallas): its window closed at 2026-12-01T15:00:00.000Z without an arrival");
  });
  it("is at risk when the check call is overdue and the window opens within the horizon", () => {
    expect(appointmentRiskReason(facts({ checkCallDue: at("2026-12-01T11:00:00Z") })))
      .toBe("stop 2 (Acme Dallas): no check call since 2026-12-01T11:00:00.000Z, its window opens at 2026-12-01T13:00:00.000Z");
  });
  it("a silent load whose window is still far off is not at risk yet", () => {
    expect(appointmentRiskReason(facts({ checkCallDue: at("2026-12-01T11:00:00Z"), opens: at("2026-12-02T13:00:00Z"), closes: at("2026-12-02T15:00:00Z") }))).toBeNull();
  });
});
