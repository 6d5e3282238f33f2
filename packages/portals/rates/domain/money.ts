/** Rounding and display of USD figures; binary floats are rounded once, at the edges. */

/** Rounds half away from zero to `decimals` places (EPSILON absorbs 1.005-style float error). */
export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return (Math.sign(value) * Math.round((Math.abs(value) + Number.EPSILON) * f)) / f;
}

export const cents = (value: number): number => roundTo(value, 2);

const USD = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const USD3 = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 3 });

/** "$2,145.50" */
export const usd = (value: number): string => USD.format(value);
/** "$3.851": unit prices (per mile, per gallon) keep a tenth of a cent. */
export const usdUnit = (value: number): string => USD3.format(value);
/** "$2.415/mi" */
export const usdPerMile = (value: number): string => `${usdUnit(value)}/mi`;
/** "1,234" */
export const count = (value: number): string => value.toLocaleString("en-US");
/** "1 row", "1,240 loads" */
export const plural = (n: number, noun: string): string => `${count(n)} ${noun}${n === 1 ? "" : "s"}`;
