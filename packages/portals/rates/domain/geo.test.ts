import { describe, expect, it } from "vitest";
import { greatCircleMiles, isKnownZip3, isRegion, locate, regionOfState, ROAD_CIRCUITY_FACTOR, roadMiles } from "./geo.ts";

describe("locate", () => {
  it("finds 5-digit ZIPs with city, state and region", () => {
    expect(locate("60601")).toMatchObject({ kind: "zip", zip3: "606", city: "Chicago", state: "IL", region: "east_north_central" });
    expect(locate(" 90210 ")).toMatchObject({ city: "Beverly Hills", state: "CA", region: "pacific" });
    expect(locate("30303")).toMatchObject({ state: "GA", region: "south_atlantic" });
  });

  it("places a ZIP3 at the centroid of its ZIPs", () => {
    const chicago = locate("606")!;
    expect(chicago).toMatchObject({ kind: "zip3", zip3: "606", state: "IL", region: "east_north_central" });
    expect(chicago.city).toBeUndefined();
    // The 606xx centroid lies within a few miles of the Loop.
    expect(greatCircleMiles(chicago, locate("60601")!)).toBeLessThan(15);
  });

  it("refuses malformed, unknown and unserved codes", () => {
    for (const code of ["6060", "606011", "ABC", "", "00000", "000", "00601" /* PR */, "09001" /* APO */]) {
      expect(locate(code), code).toBeNull();
    }
    expect(isKnownZip3("606")).toBe(true);
    expect(isKnownZip3("60601")).toBe(false);
  });
});

describe("distance", () => {
  it("measures Chicago -> Beverly Hills at ~1,750 great-circle and ~2,065 road miles", () => {
    const a = locate("60601")!;
    const b = locate("90210")!;
    expect(greatCircleMiles(a, b)).toBeGreaterThan(1730);
    expect(greatCircleMiles(a, b)).toBeLessThan(1770);
    expect(roadMiles(a, b)).toBeCloseTo(greatCircleMiles(a, b) * ROAD_CIRCUITY_FACTOR, 0);
    expect(roadMiles(a, b)).toBeGreaterThan(2000);
  });

  it("is symmetric and zero for the same place", () => {
    const a = locate("75201")!; // Dallas
    const b = locate("77002")!; // Houston
    expect(roadMiles(a, b)).toBe(roadMiles(b, a));
    expect(roadMiles(a, b)).toBeGreaterThan(250);
    expect(roadMiles(a, b)).toBeLessThan(300);
    expect(roadMiles(a, a)).toBe(0);
  });
});

describe("regions", () => {
  it("maps states to census divisions", () => {
    expect(regionOfState("tx")).toBe("west_south_central");
    expect(regionOfState("DC")).toBe("south_atlantic");
    expect(regionOfState("PR")).toBeNull();
    expect(isRegion("mountain")).toBe(true);
    expect(isRegion("midwest")).toBe(false);
  });
});
