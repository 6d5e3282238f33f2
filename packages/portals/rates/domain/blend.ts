import { plural, roundTo, usdPerMile } from "./money.ts";

/**
 * Linehaul cost per mile for a lane, blended from the tenant's own history and the market
 * index, by credibility weighting (Bühlmann):
 *
 *   Z = n / (n + k)            n = history loads used, k = credibility constant (default 10)
 *   rate = Z * history_mean + (1 - Z) * index_rate
 *
 * With k = 10, ten loads of history count as much as the index; 40 loads weigh 0.8.
 * history_mean is the plain mean of the loads' $/mile; index_rate is the mean of the index
 * rows weighted by their sample_size (1 when a source does not publish it).
 *
 * Widening: ZIP3 -> ZIP3 history thinner than `minHistory` loads is replaced by the
 * region -> region history when that has more loads; an index missing at ZIP3 level falls
 * back to the region level. Each decision is written into the explanation.
 * The caller (the DB layer) supplies both levels' evidence for one equipment type.
 */

export interface IndexSample {
  rate_per_mile: number;
  /** Loads behind this index figure; 1 when unknown. */
  sample_size?: number;
  effective_date?: string;
  source?: string;
}

/** What the DB layer fetches for one lane level and one equipment type. */
export interface LaneSamples {
  /** $/mile of each of the tenant's past loads on this lane (carrier linehaul / miles). */
  history: readonly number[];
  index: readonly IndexSample[];
}

export interface LaneEvidence extends LaneSamples {
  /** Label for the explanation, e.g. "606 → 902" or "east_north_central → pacific". */
  lane: string;
}

export interface BlendOptions {
  credibilityK?: number;
  minHistory?: number;
}

export type LaneLevel = "zip3" | "region";

export interface Blend {
  /** Blended linehaul cost, $/mile (4 decimals). */
  per_mile: number;
  history: { level: LaneLevel; lane: string; loads: number; mean: number } | null;
  index: { level: LaneLevel; lane: string; rate: number; rows: number; sample_size: number } | null;
  /** Z, the weight on history (0 when no history, 1 when no index). */
  credibility: number;
  explanation: string[];
}

export const DEFAULT_CREDIBILITY_K = 10;
export const DEFAULT_MIN_HISTORY = 5;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function indexRate(rows: readonly IndexSample[]) {
  const weight = (r: IndexSample) => Math.max(1, r.sample_size ?? 1);
  const sampleSize = rows.reduce((a, r) => a + weight(r), 0);
  return { rate: rows.reduce((a, r) => a + r.rate_per_mile * weight(r), 0) / sampleSize, sampleSize };
}

function pickHistory(zip3: LaneEvidence, region: LaneEvidence, minHistory: number, lines: string[]): Blend["history"] {
  const z = zip3.history.length;
  const r = region.history.length;
  let level: LaneLevel | null = null;
  if (z >= minHistory) {
    level = "zip3";
  } else if (r > z) {
    level = "region";
    lines.push(`Lane history ${zip3.lane}: ${plural(z, "load")}, below ${minHistory}; widened to ${region.lane}: ${plural(r, "load")}.`);
  } else if (z > 0) {
    level = "zip3";
    lines.push(`Lane history ${zip3.lane}: only ${plural(z, "load")} (below ${minHistory}); no wider history to add.`);
  }
  if (!level) {
    lines.push(`No lane history on ${zip3.lane} or ${region.lane}.`);
    return null;
  }
  const ev = level === "zip3" ? zip3 : region;
  const h = { level, lane: ev.lane, loads: ev.history.length, mean: roundTo(mean(ev.history), 4) };
  lines.push(`History ${h.lane}: ${plural(h.loads, "load")}, mean ${usdPerMile(h.mean)}.`);
  return h;
}

function pickIndex(zip3: LaneEvidence, region: LaneEvidence, lines: string[]): Blend["index"] {
  const level: LaneLevel | null = zip3.index.length ? "zip3" : region.index.length ? "region" : null;
  if (!level) {
    lines.push(`No market index for ${zip3.lane} or ${region.lane}.`);
    return null;
  }
  const ev = level === "zip3" ? zip3 : region;
  if (level === "region") lines.push(`No market index for ${zip3.lane}; using ${region.lane}.`);
  const { rate, sampleSize } = indexRate(ev.index);
  const i = { level, lane: ev.lane, rate: roundTo(rate, 4), rows: ev.index.length, sample_size: sampleSize };
  lines.push(`Market index ${i.lane}: ${usdPerMile(i.rate)} from ${plural(i.rows, "row")} (${plural(i.sample_size, "load")}).`);
  return i;
}

/** The blend, or null when there is neither history nor index on either level. */
export function blendLinehaul(zip3: LaneEvidence, region: LaneEvidence, options: BlendOptions = {}): Blend | null {
  const k = options.credibilityK ?? DEFAULT_CREDIBILITY_K;
  const explanation: string[] = [];
  const history = pickHistory(zip3, region, options.minHistory ?? DEFAULT_MIN_HISTORY, explanation);
  const index = pickIndex(zip3, region, explanation);
  if (!history && !index) return null;

  let credibility: number;
  if (!index) {
    credibility = 1;
    explanation.push(`Linehaul cost = history mean ${usdPerMile(history!.mean)} (no index to blend with).`);
  } else if (!history) {
    credibility = 0;
    explanation.push(`Linehaul cost = market index ${usdPerMile(index.rate)} (no history to blend with).`);
  } else {
    credibility = history.loads / (history.loads + k);
    const z = roundTo(credibility, 2);
    explanation.push(
      `Credibility Z = n/(n+k) = ${history.loads}/(${history.loads}+${k}) = ${z.toFixed(2)}; ` +
        `linehaul cost = ${z.toFixed(2)} × ${usdPerMile(history.mean)} + ${(1 - z).toFixed(2)} × ${usdPerMile(index.rate)}.`,
    );
  }
  const perMile = roundTo(credibility * (history?.mean ?? 0) + (1 - credibility) * (index?.rate ?? 0), 4);
  explanation.push(`Blended linehaul cost: ${usdPerMile(perMile)}.`);
  return { per_mile: perMile, history, index, credibility: roundTo(credibility, 4), explanation };
}
