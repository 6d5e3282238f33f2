/**
 * The compliance agent's rule (pure): a carrier is suspended from tendering when it is out
 * of service, or when its auto liability or cargo coverage (what tendering requires) ends
 * within the horizon. Coverage is followed across back-to-back certificates: a renewal that
 * starts the day after the old one ends keeps the carrier covered.
 */

/** An insurance certificate's kind and validity (YYYY-MM-DD, both days included). */
export interface Certificate {
  kind: string;
  effective_on: string;
  expires_on: string;
}

export type Lapse =
  | { reason: "out_of_service" }
  | { reason: "insurance"; kind: string; covered_until: string | null };

/** The coverage tendering requires (app_private.freight_party_refusal). */
export const REQUIRED_KINDS = ["auto_liability", "cargo"] as const;

const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/** The last day `kind` is continuously covered from `today` on, or null when it is not covered today. */
export function coveredUntil(certs: Certificate[], kind: string, today: string): string | null {
  const mine = certs.filter((c) => c.kind === kind);
  let until: string | null = null;
  let cursor = today;
  for (;;) {
    const reach = mine.filter((c) => c.effective_on <= cursor && c.expires_on >= cursor).map((c) => c.expires_on).sort().at(-1);
    if (!reach) return until;
    until = reach;
    cursor = addDays(reach, 1);
  }
}

/**
 * Why the carrier is to be suspended (null: it is not): out of service first, else the
 * first required coverage ending before `today + horizonDays` (or already lapsed).
 */
export function complianceLapse(c: { certificates: Certificate[]; outOfService: boolean; today: string; horizonDays: number }): Lapse | null {
  if (c.outOfService) return { reason: "out_of_service" };
  const horizon = addDays(c.today, c.horizonDays);
  for (const kind of REQUIRED_KINDS) {
    const until = coveredUntil(c.certificates, kind, c.today);
    if (until === null || until < horizon) return { reason: "insurance", kind, covered_until: until };
  }
  return null;
}

/** The carrier's notice (no names, no policy numbers): what happened and what lifts it. */
export function suspensionNote(l: Lapse): string {
  return l.reason === "out_of_service"
    ? "Suspended from tendering: out-of-service order on file"
    : l.covered_until === null
    ? `Suspended from tendering: no ${l.kind} insurance in force`
    : `Suspended from tendering: ${l.kind} insurance ends ${l.covered_until}; submit a renewed certificate`;
}
