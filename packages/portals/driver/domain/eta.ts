import zipcodes from "zipcodes";

/**
 * ETA from a driver's pings: remaining distance / recent speed. Distance: the great circle
 * from the last ping to the stop facility's ZIP centroid (the US Census ZCTA geography the
 * Rates portal prices with: the `zipcodes` package) times the road circuity factor Rates
 * uses (1.18). Recent speed: the mean reported speed of the recent pings, else the distance
 * between the first and last of them over their time. Pure: the agent feeds it rows.
 */
export interface Ping {
  at: Date;
  lat: number;
  lon: number;
  speed_mph: number | null;
}

export const ROAD_CIRCUITY_FACTOR = 1.18;
/** Below this a truck is stopped (fuel, rest, traffic): no speed to project. */
export const MIN_SPEED_MPH = 5;

const rad = (d: number) => (d * Math.PI) / 180;
export function greatCircleMiles(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const h = Math.sin(rad(b.lat - a.lat) / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(rad(b.lon - a.lon) / 2) ** 2;
  return 2 * 3958.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The centroid of a 5-digit US ZIP (ZIP+4 accepted), or null. */
export function zipCentroid(postal: string | null): { lat: number; lon: number } | null {
  const m = /^(\d{5})(-\d{4})?$/.exec((postal ?? "").trim());
  const r = m ? (zipcodes as { codes: Record<string, { latitude: number; longitude: number }> }).codes[m[1]] : undefined;
  return r ? { lat: r.latitude, lon: r.longitude } : null;
}

/** Recent speed in mph from pings (any order), or null when unknown or stopped. */
export function recentSpeed(pings: Ping[]): number | null {
  const reported = pings.map((p) => p.speed_mph).filter((s): s is number => s !== null);
  let speed: number | null = reported.length ? reported.reduce((a, b) => a + b, 0) / reported.length : null;
  if (speed === null && pings.length >= 2) {
    const sorted = [...pings].sort((a, b) => a.at.getTime() - b.at.getTime());
    const hours = (sorted.at(-1)!.at.getTime() - sorted[0].at.getTime()) / 3_600_000;
    if (hours > 0) speed = (greatCircleMiles(sorted[0], sorted.at(-1)!) * ROAD_CIRCUITY_FACTOR) / hours;
  }
  return speed !== null && speed >= MIN_SPEED_MPH ? speed : null;
}

export interface EtaInput {
  pings: Ping[];
  destination: { lat: number; lon: number };
  windowEnd: Date;
  marginMinutes: number;
}

export interface Eta {
  eta: Date;
  miles: number;
  speedMph: number;
  /** ETA later than the window end minus the margin. */
  atRisk: boolean;
}

/** The ETA at the stop from the latest ping, or null without a usable speed or ping. */
export function estimate(input: EtaInput): Eta | null {
  if (input.pings.length === 0) return null;
  const speed = recentSpeed(input.pings);
  if (speed === null) return null;
  const last = input.pings.reduce((a, b) => (b.at > a.at ? b : a));
  const miles = Math.round(greatCircleMiles(last, input.destination) * ROAD_CIRCUITY_FACTOR * 10) / 10;
  const eta = new Date(last.at.getTime() + (miles / speed) * 3_600_000);
  return { eta, miles, speedMph: Math.round(speed * 10) / 10, atRisk: eta.getTime() > input.windowEnd.getTime() - input.marginMinutes * 60_000 };
}

/** The exception reason (also the undo's check that the flag is still this one's). */
export const etaReason = (sequence: number, eta: Date, windowEnd: Date) =>
  `ETA slipping: stop ${sequence} expected ${eta.toISOString().slice(0, 16)}Z, window ends ${windowEnd.toISOString().slice(0, 16)}Z`;
