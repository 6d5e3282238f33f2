import { describe, expect, it } from "vitest";
import { complianceLapse, coveredUntil, suspensionNote } from "./compliance.ts";

const today = "2026-12-01";
const cert = (kind: string, effective_on: string, expires_on: string) => ({ kind, effective_on, expires_on });
const good = [cert("auto_liability", "2026-01-01", "2027-06-30"), cert("cargo", "2026-01-01", "2027-06-30")];

describe("coveredUntil", () => {
  it("follows back-to-back certificates (a renewal starting the day after) and stops at a gap", () => {
    const certs = [cert("cargo", "2026-01-01", "2026-12-05"), cert("cargo", "2026-12-06", "2027-12-05"), cert("cargo", "2028-01-01", "2028-12-31")];
    expect(coveredUntil(certs, "cargo", today)).toBe("2027-12-05");
  });
  it("is null when nothing covers today (lapsed, or only a future certificate)", () => {
    expect(coveredUntil([cert("cargo", "2025-01-01", "2026-11-30")], "cargo", today)).toBeNull();
    expect(coveredUntil([cert("cargo", "2026-12-02", "2027-12-01")], "cargo", today)).toBeNull();
  });
  it("counts only the kind asked for; the expiry day is covered", () => {
    expect(coveredUntil([cert("auto_liability", "2026-01-01", "2026-12-01")], "cargo", today)).toBeNull();
    expect(coveredUntil([cert("cargo", "2026-01-01", "2026-12-01")], "cargo", today)).toBe(today);
  });
});

describe("complianceLapse", () => {
  it("nothing to do for a carrier covered past the horizon", () => {
    expect(complianceLapse({ certificates: good, outOfService: false, today, horizonDays: 7 })).toBeNull();
  });
  it("suspends when coverage ends within the horizon (day 6 of 7), not on day 7", () => {
    const ending = (until: string) => [cert("auto_liability", "2026-01-01", until), good[1]];
    expect(complianceLapse({ certificates: ending("2026-12-07"), outOfService: false, today, horizonDays: 7 }))
      .toEqual({ reason: "insurance", kind: "auto_liability", covered_until: "2026-12-07" });
    expect(complianceLapse({ certificates: ending("2026-12-08"), outOfService: false, today, horizonDays: 7 })).toBeNull();
  });
  it("a renewal already on file keeps the carrier tenderable", () => {
    const certs = [...good.slice(0, 1), cert("cargo", "2026-01-01", "2026-12-03"), cert("cargo", "2026-12-04", "2027-12-03")];
    expect(complianceLapse({ certificates: certs, outOfService: false, today, horizonDays: 7 })).toBeNull();
  });
  it("missing cargo is a lapse with no coverage date; out of service comes first", () => {
    expect(complianceLapse({ certificates: good.slice(0, 1), outOfService: false, today, horizonDays: 7 }))
      .toEqual({ reason: "insurance", kind: "cargo", covered_until: null });
    expect(complianceLapse({ certificates: [], outOfService: true, today, horizonDays: 7 })).toEqual({ reason: "out_of_service" });
  });
  it("the notice says what lapsed and when, without names", () => {
    expect(suspensionNote({ reason: "insurance", kind: "cargo", covered_until: "2026-12-06" }))
      .toBe("Suspended from tendering: cargo insurance ends 2026-12-06; submit a renewed certificate");
    expect(suspensionNote({ reason: "out_of_service" })).toMatch(/out-of-service/);
  });
});
