import { describe, expect, it } from "vitest";
import { estimate, recentSpeed, zipCentroid } from "./eta.ts";

const at = (min: number) => new Date(Date.UTC(2026, 11, 2, 12, min));
const dallas = zipCentroid("75202")!;

describe("ETA = remaining distance / recent speed", () => {
  it("locates a facility by ZIP (ZIP+4 too) and refuses what is not one", () => {
    expect(dallas.lat).toBeCloseTo(32.78, 1);
    expect(zipCentroid("75202-1234")).toEqual(dallas);
    expect(zipCentroid("ABC")).toBeNull();
    expect(zipCentroid(null)).toBeNull();
  });

  it("uses the reported speeds, else the distance between the pings over their time; a stopped truck has none", () => {
    expect(recentSpeed([{ at: at(0), lat: 35, lon: -97, speed_mph: 60 }, { at: at(10), lat: 35.1, lon: -97, speed_mph: 50 }])).toBe(55);
    // 0.1 degree of latitude (6.9 mi great circle, 8.1 road) in 10 minutes: about 49 mph
    expect(recentSpeed([{ at: at(10), lat: 35.1, lon: -97, speed_mph: null }, { at: at(0), lat: 35, lon: -97, speed_mph: null }])).toBeCloseTo(48.9, 0);
    expect(recentSpeed([{ at: at(0), lat: 35, lon: -97, speed_mph: 2 }])).toBeNull();
    expect(recentSpeed([{ at: at(0), lat: 35, lon: -97, speed_mph: null }])).toBeNull();
  });

  it("is at risk when the ETA is later than the window end minus the margin, not before", () => {
    // ~200 road miles out at 50 mph: about 4 hours from the last ping (12:10)
    const pings = [{ at: at(0), lat: 35.0, lon: -97.0, speed_mph: 50 }, { at: at(10), lat: 35.0, lon: -97.0, speed_mph: 50 }];
    const e = estimate({ pings, destination: { lat: 32.78, lon: -96.8 }, windowEnd: new Date(Date.UTC(2026, 11, 2, 18, 0)), marginMinutes: 30 })!;
    expect(e.miles).toBeGreaterThan(150);
    expect(e.eta.getTime()).toBe(at(10).getTime() + (e.miles / 50) * 3_600_000);
    expect(e.atRisk).toBe(false);
    const late = estimate({ pings, destination: { lat: 32.78, lon: -96.8 }, windowEnd: new Date(e.eta.getTime() + 20 * 60_000), marginMinutes: 30 })!;
    expect(late.atRisk).toBe(true);
    expect(estimate({ pings: [], destination: dallas, windowEnd: at(0), marginMinutes: 0 })).toBeNull();
  });
});
