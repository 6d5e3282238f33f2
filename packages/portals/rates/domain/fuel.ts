import { count, roundTo, usd, usdPerMile, usdUnit } from "./money.ts";

/**
 * Fuel surcharge from a DOE-style weekly diesel table (EIA "U.S. No 2 Diesel Retail Prices",
 * published Mondays, $/gallon):
 *
 *   surcharge per mile = max(0, (diesel price - base price) / MPG)
 *
 * The week used is the latest one on or before the pickup date. Base price and MPG are the
 * tenant's fuel policy; $1.25/gal and 6.0 MPG are common broker defaults for dry van.
 */

export interface DieselWeek {
  /** ISO date of the week's publication (a Monday). */
  week_of: string;
  /** $/gallon. */
  price: number;
}

export interface FuelPolicy {
  base_price: number;
  mpg: number;
}

export const DEFAULT_FUEL_POLICY: FuelPolicy = { base_price: 1.25, mpg: 6 };

/** Weeks older than this before the pickup date are flagged in the explanation as stale. */
const STALE_AFTER_DAYS = 14;

/** The latest week on or before `date` (ISO dates compare as strings), or null. */
export function dieselWeekFor(table: readonly DieselWeek[], date: string): DieselWeek | null {
  let best: DieselWeek | null = null;
  for (const w of table) if (w.week_of <= date && (!best || w.week_of > best.week_of)) best = w;
  return best;
}

/** $/mile to a tenth of a cent, never negative. */
export function fuelPerMile(dieselPrice: number, policy: FuelPolicy = DEFAULT_FUEL_POLICY): number {
  return roundTo(Math.max(0, (dieselPrice - policy.base_price) / policy.mpg), 3);
}

export interface FuelCharge {
  week_of: string;
  diesel_price: number;
  per_mile: number;
  total: number;
  explanation: string[];
}

export function fuelSurcharge(
  table: readonly DieselWeek[],
  pickupDate: string,
  miles: number,
  policy: FuelPolicy = DEFAULT_FUEL_POLICY,
): FuelCharge | null {
  const week = dieselWeekFor(table, pickupDate);
  if (!week) return null;
  const perMile = fuelPerMile(week.price, policy);
  const total = roundTo(perMile * miles, 2);
  const age = Math.round((Date.parse(pickupDate) - Date.parse(week.week_of)) / 86_400_000);
  const explanation = [
    `Fuel: diesel ${usdUnit(week.price)}/gal (week of ${week.week_of}); (${usdUnit(week.price)} - ${usdUnit(policy.base_price)} base) / ${policy.mpg} MPG = ${usdPerMile(perMile)} × ${count(miles)} mi = ${usd(total)}.`,
  ];
  if (age > STALE_AFTER_DAYS) explanation.push(`Fuel price is ${age} days older than the pickup date.`);
  return { week_of: week.week_of, diesel_price: week.price, per_mile: perMile, total, explanation };
}
