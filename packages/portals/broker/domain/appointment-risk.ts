/**
 * Whether a load's next stop is at risk, and why (null: not at risk). Pure.
 * - its window has closed without an arrival: the ETA is past the window;
 * - no check call since it was due, and the window opens within the horizon: nobody knows
 *   where the truck is right before it is expected.
 */
export interface RiskFacts {
  now: Date;
  sequence: number;
  facility: string;
  opens: Date;
  closes: Date;
  /** When the next check call was due (null: the load is not on its trip). */
  checkCallDue: Date | null;
  horizonMinutes: number;
}

export function appointmentRiskReason(f: RiskFacts): string | null {
  const now = f.now.getTime();
  if (now > new Date(f.closes).getTime()) {
    return `stop ${f.sequence} (${f.facility}): its window closed at ${new Date(f.closes).toISOString()} without an arrival`;
  }
  const silent = f.checkCallDue !== null && now > new Date(f.checkCallDue).getTime();
  const soon = new Date(f.opens).getTime() - now <= f.horizonMinutes * 60_000;
  if (silent && soon) {
    return `stop ${f.sequence} (${f.facility}): no check call since ${new Date(f.checkCallDue!).toISOString()}, its window opens at ${new Date(f.opens).toISOString()}`;
  }
  return null;
}
