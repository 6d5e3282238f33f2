/** A carrier's row of public.freight_carrier_scorecard (computed from load events and tenders), as the portals answer it. */
export interface ScorecardRow {
  carrier_party_id: string;
  loads: number;
  on_time_pickup_pct: number | null;
  on_time_delivery_pct: number | null;
  tender_acceptance_pct: number | null;
  claims: number;
  score: number;
}

const pct = (v: unknown) => (v === null ? null : Number(v));

/** A row as postgres.js reads it (numerics as strings) -> numbers. */
export const scorecardRow = (r: Record<string, unknown>): ScorecardRow => ({
  carrier_party_id: r.carrier_party_id as string, loads: r.loads as number, on_time_pickup_pct: pct(r.on_time_pickup_pct),
  on_time_delivery_pct: pct(r.on_time_delivery_pct), tender_acceptance_pct: pct(r.tender_acceptance_pct), claims: r.claims as number, score: Number(r.score),
});
