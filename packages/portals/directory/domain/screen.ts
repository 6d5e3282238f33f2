import jaroWinkler from "talisman/metrics/jaro-winkler.js";

/** Legal-form words that say nothing about who a company is. */
const FORMS = new Set(["INC", "INCORPORATED", "LLC", "LLP", "LP", "LTD", "LIMITED", "CO", "COMPANY", "CORP", "CORPORATION", "SA", "SAS", "SRL", "GMBH", "AG", "BV", "PLC", "THE"]);

/**
 * A name as screening compares it: diacritics folded, upper case, dots and apostrophes dropped (S.A. -> SA), other punctuation as spaces,
 * legal forms (INC, LLC, CO, ...) dropped, spaces collapsed.
 */
export function normalizeName(name: string): string {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toUpperCase()
    .replace(/&/g, " AND ").replace(/[.']/g, "").replace(/[^A-Z0-9]+/g, " ").trim()
    .split(" ").filter((w) => w && !FORMS.has(w)).join(" ");
}

const sorted = (s: string) => s.split(" ").sort().join(" ");

/** Jaro-Winkler (talisman) of two normalized names, word order ignored (the better of as-is and sorted words). */
export function nameScore(a: string, b: string): number {
  const x = normalizeName(a), y = normalizeName(b);
  if (!x || !y) return 0;
  return Math.max(jaroWinkler(x, y), jaroWinkler(sorted(x), sorted(y)));
}

export interface ListName {
  ent_num: number;
  kind: "sdn" | "alias";
  name: string;
}
export interface Hit extends ListName {
  score: number;
}

/** The best-scoring list name (SDN names and aliases alike) for any of a party's names; null for an empty list. */
export function bestHit(partyNames: string[], names: ListName[]): Hit | null {
  let best: Hit | null = null;
  for (const n of names) {
    for (const p of partyNames) {
      const score = nameScore(p, n.name);
      if (!best || score > best.score) best = { ...n, score };
    }
  }
  return best;
}
