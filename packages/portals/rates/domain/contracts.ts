import type { Place } from "./geo.ts";
import type { ContractRate, Equipment } from "./schemas.ts";

/**
 * Contract lane rates: inside its validity a contract beats the spot blend (issue 4).
 * A contract lane end is a ZIP3 or a region; when several apply, the most specific wins
 * (ZIP3 ends over region ends, a customer's own over a general one), then the most recent
 * valid_from.
 */
export interface Contract {
  id: string;
  origin: string;
  destination: string;
  equipment: Equipment;
  rate: ContractRate;
  valid_from: string;
  valid_to: string;
  /** A contract for one customer applies only to quotes naming that customer. */
  customer_ref?: string | null;
}

export interface ContractQuery {
  origin: Pick<Place, "zip3" | "region">;
  destination: Pick<Place, "zip3" | "region">;
  equipment: Equipment;
  pickup_date: string;
  customer_ref?: string;
  /** A contract the caller asked for by id; used only when it applies. */
  contract_id?: string;
}

const endScore = (end: string, place: Pick<Place, "zip3" | "region">) =>
  end === place.zip3 ? 2 : end === place.region ? 1 : null;

function score(c: Contract, q: ContractQuery): number | null {
  if (c.equipment !== q.equipment || q.pickup_date < c.valid_from || q.pickup_date > c.valid_to) return null;
  if (c.customer_ref && c.customer_ref !== q.customer_ref) return null;
  if (q.contract_id && c.id !== q.contract_id) return null;
  const o = endScore(c.origin, q.origin);
  const d = endScore(c.destination, q.destination);
  // A customer's own contract outranks a general one on the same lane.
  return o === null || d === null ? null : o + d + (c.customer_ref ? 0.5 : 0);
}

/** The contract that prices this load, or null for the spot blend. */
export function findContract(contracts: readonly Contract[], q: ContractQuery): Contract | null {
  let best: { c: Contract; s: number } | null = null;
  for (const c of contracts) {
    const s = score(c, q);
    if (s !== null && (!best || s > best.s || (s === best.s && c.valid_from > best.c.valid_from))) best = { c, s };
  }
  return best?.c ?? null;
}
