/**
 * Pricing guards as TMS Admin edits them: money in integer cents at the API, Rates' own
 * columns (rates_guards: dollars, numeric(12,2) / numeric(8,4)) in the database. The
 * conversion is exact (decimal strings, no float arithmetic), both ways.
 */

/** The limits a guard may set: percentages and cents. */
export interface GuardLimitsCents {
  min_margin_pct?: number | null;
  max_index_deviation_pct?: number | null;
  floor_total_cents?: number | null;
  ceiling_total_cents?: number | null;
  floor_per_mile_cents?: number | null;
  ceiling_per_mile_cents?: number | null;
}

/** The same limits as rates_guards stores them (dollars as exact decimal strings). */
export interface GuardLimitsRow {
  min_margin_pct: string | null;
  max_index_deviation_pct: string | null;
  floor_total: string | null;
  ceiling_total: string | null;
  floor_per_mile: string | null;
  ceiling_per_mile: string | null;
}

const MONEY = [
  ["floor_total_cents", "floor_total"],
  ["ceiling_total_cents", "ceiling_total"],
  ["floor_per_mile_cents", "floor_per_mile"],
  ["ceiling_per_mile_cents", "ceiling_per_mile"],
] as const;

/** 123456 -> "1234.56", 5 -> "0.05" (integer cents only). */
export function centsToDollars(cents: number): string {
  if (!Number.isSafeInteger(cents) || cents < 0) throw new RangeError(`not non-negative integer cents: ${cents}`);
  const s = String(cents).padStart(3, "0");
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** "1234.56" / "2.1500" / 2.15 -> cents; a value with a fraction of a cent is refused. */
export function dollarsToCents(value: string | number): number {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(String(value));
  if (!m) throw new RangeError(`not a dollar amount: ${value}`);
  const frac = (m[2] ?? "").padEnd(2, "0");
  if (/[1-9]/.test(frac.slice(2))) throw new RangeError(`a fraction of a cent: ${value}`);
  return Number(m[1]) * 100 + Number(frac.slice(0, 2));
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? null : String(v));

/** The row's limit columns for a guard given in cents. */
export function guardRow(g: GuardLimitsCents): GuardLimitsRow {
  const row: GuardLimitsRow = {
    min_margin_pct: pct(g.min_margin_pct), max_index_deviation_pct: pct(g.max_index_deviation_pct),
    floor_total: null, ceiling_total: null, floor_per_mile: null, ceiling_per_mile: null,
  };
  for (const [from, to] of MONEY) {
    const v = g[from];
    row[to] = v === null || v === undefined ? null : centsToDollars(v);
  }
  return row;
}

/** A stored row's limits in cents (what the portal answers). */
export function guardCents(row: Partial<Record<keyof GuardLimitsRow, string | number | null>>): Required<GuardLimitsCents> {
  const num = (v: string | number | null | undefined) => (v === null || v === undefined ? null : Number(v));
  const money = (v: string | number | null | undefined) => (v === null || v === undefined ? null : dollarsToCents(v));
  return {
    min_margin_pct: num(row.min_margin_pct), max_index_deviation_pct: num(row.max_index_deviation_pct),
    floor_total_cents: money(row.floor_total), ceiling_total_cents: money(row.ceiling_total),
    floor_per_mile_cents: money(row.floor_per_mile), ceiling_per_mile_cents: money(row.ceiling_per_mile),
  };
}

/** Pairs whose floor is above its ceiling (the database refuses them too). */
export function invertedLimits(g: GuardLimitsCents): string[] {
  const bad: string[] = [];
  if (g.floor_total_cents != null && g.ceiling_total_cents != null && g.floor_total_cents > g.ceiling_total_cents) bad.push("floor_total_cents");
  if (g.floor_per_mile_cents != null && g.ceiling_per_mile_cents != null && g.floor_per_mile_cents > g.ceiling_per_mile_cents) bad.push("floor_per_mile_cents");
  return bad;
}

/** A guard sets at least one limit (a rule without one guards nothing). */
export const setsALimit = (g: GuardLimitsCents): boolean =>
  (["min_margin_pct", "max_index_deviation_pct", ...MONEY.map(([c]) => c)] as (keyof GuardLimitsCents)[]).some((k) => g[k] != null);
