import zipcodes from "zipcodes";

/**
 * US ZIP geography for pricing: ZIP (5 digits) or ZIP3 (3 digits) -> coordinates, state
 * and region, and the road miles between two places. Data: the `zipcodes` npm package
 * (US Census ZCTA-based centroids). Served area: the 50 states and DC; territories and
 * military ZIPs (PR, GU, AA/AE/AP, ...) are not truck-served lanes and are unknown here.
 */

interface ZipRecord {
  zip: string;
  latitude: number;
  longitude: number;
  city: string;
  state: string;
  country: string;
}
const CODES: Record<string, ZipRecord> = zipcodes.codes;

/** The nine US Census divisions: the "region" level a thin ZIP3 lane widens to. */
export const REGIONS = [
  "new_england",
  "middle_atlantic",
  "east_north_central",
  "west_north_central",
  "south_atlantic",
  "east_south_central",
  "west_south_central",
  "mountain",
  "pacific",
] as const;
export type Region = typeof REGIONS[number];

const DIVISION_STATES: Record<Region, string[]> = {
  new_england: ["CT", "ME", "MA", "NH", "RI", "VT"],
  middle_atlantic: ["NJ", "NY", "PA"],
  east_north_central: ["IL", "IN", "MI", "OH", "WI"],
  west_north_central: ["IA", "KS", "MN", "MO", "NE", "ND", "SD"],
  south_atlantic: ["DE", "DC", "FL", "GA", "MD", "NC", "SC", "VA", "WV"],
  east_south_central: ["AL", "KY", "MS", "TN"],
  west_south_central: ["AR", "LA", "OK", "TX"],
  mountain: ["AZ", "CO", "ID", "MT", "NV", "NM", "UT", "WY"],
  pacific: ["AK", "CA", "HI", "OR", "WA"],
};
const STATE_REGION = new Map<string, Region>(
  REGIONS.flatMap((region) => DIVISION_STATES[region].map((state) => [state, region] as const)),
);

export function regionOfState(state: string): Region | null {
  return STATE_REGION.get(state.toUpperCase()) ?? null;
}

export function isRegion(value: string): value is Region {
  return (REGIONS as readonly string[]).includes(value);
}

export interface LatLon {
  lat: number;
  lon: number;
}

export interface Place extends LatLon {
  /** The code as given (5-digit ZIP or ZIP3). */
  code: string;
  kind: "zip" | "zip3";
  zip3: string;
  state: string;
  region: Region;
  /** City of a 5-digit ZIP (a ZIP3 spans several). */
  city?: string;
}

const served = (r: ZipRecord | undefined): r is ZipRecord =>
  !!r && r.country === "US" && /^\d{5}$/.test(r.zip) && !!r.latitude && !!r.longitude && STATE_REGION.has(r.state);

// ZIP3 -> centroid of its ZIPs and its majority state, built on first use (~40k records).
let zip3Index: Map<string, { lat: number; lon: number; state: string }> | null = null;

function zip3Centroids() {
  if (zip3Index) return zip3Index;
  const acc = new Map<string, { lat: number; lon: number; n: number; states: Map<string, number> }>();
  for (const r of Object.values(CODES)) {
    if (!served(r)) continue;
    const key = r.zip.slice(0, 3);
    const a = acc.get(key) ?? { lat: 0, lon: 0, n: 0, states: new Map<string, number>() };
    a.lat += r.latitude;
    a.lon += r.longitude;
    a.n += 1;
    a.states.set(r.state, (a.states.get(r.state) ?? 0) + 1);
    acc.set(key, a);
  }
  zip3Index = new Map(
    [...acc].map(([key, a]) => {
      const state = [...a.states].sort((x, y) => y[1] - x[1])[0][0];
      return [key, { lat: a.lat / a.n, lon: a.lon / a.n, state }];
    }),
  );
  return zip3Index;
}

/** A served 5-digit ZIP or ZIP3, or null when malformed or unknown. */
export function locate(code: string): Place | null {
  const c = code.trim();
  if (/^\d{5}$/.test(c)) {
    const r = CODES[c];
    if (!served(r)) return null;
    return {
      code: c,
      kind: "zip",
      zip3: c.slice(0, 3),
      lat: r.latitude,
      lon: r.longitude,
      state: r.state,
      region: STATE_REGION.get(r.state)!,
      city: r.city,
    };
  }
  if (/^\d{3}$/.test(c)) {
    const z = zip3Centroids().get(c);
    if (!z) return null;
    return { code: c, kind: "zip3", zip3: c, lat: z.lat, lon: z.lon, state: z.state, region: STATE_REGION.get(z.state)! };
  }
  return null;
}

export const isKnownZip3 = (code: string): boolean => /^\d{3}$/.test(code) && locate(code) !== null;

const EARTH_RADIUS_MILES = 3958.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Haversine distance in statute miles. */
export function greatCircleMiles(a: LatLon, b: LatLon): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_MILES * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Road miles are longer than the great circle: US truck routes average about 1.18x
 * (circuity studies put the national average at 1.17-1.21; short hauls run higher, long
 * interstate hauls lower). One documented factor keeps quotes explainable; a routing
 * engine can replace this function later.
 */
export const ROAD_CIRCUITY_FACTOR = 1.18;

/** Estimated road miles, to one decimal. */
export function roadMiles(a: LatLon, b: LatLon): number {
  return Math.round(greatCircleMiles(a, b) * ROAD_CIRCUITY_FACTOR * 10) / 10;
}
