import type { Region } from "./geo.ts";
import { roundTo, usd, usdPerMile } from "./money.ts";
import type { Equipment } from "./schemas.ts";

/**
 * Pricing guards (charter §4 Rates: "guards"; TMS Admin: "pricing guards"). A quote that
 * breaks a guard is returned as priced, flagged needs_approval with every broken guard
 * named: it is never clamped into range, so a human sees the real figure and decides.
 *
 * Guard rules are scoped by lane end (ZIP3 or region) and/or equipment; for each limit the
 * most specific matching rule that sets it wins (a ZIP3 end counts more than a region end,
 * a lane more than equipment alone, an unscoped rule is the default).
 */

export interface GuardLimits {
  /** Minimum linehaul margin, % of the sell linehaul. */
  min_margin_pct?: number;
  /** Maximum |sell - index| / index on linehaul $/mile, %. */
  max_index_deviation_pct?: number;
  floor_total?: number;
  ceiling_total?: number;
  floor_per_mile?: number;
  ceiling_per_mile?: number;
}
export type GuardName = keyof GuardLimits;
const GUARD_NAMES: GuardName[] = [
  "min_margin_pct",
  "max_index_deviation_pct",
  "floor_total",
  "ceiling_total",
  "floor_per_mile",
  "ceiling_per_mile",
];

export interface GuardRule extends GuardLimits {
  /** Rule id or label, reported with the limit it supplied. */
  id: string;
  equipment?: Equipment;
  /** ZIP3 or region. */
  origin?: string;
  destination?: string;
}

export interface LaneKey {
  origin: { zip3: string; region: Region };
  destination: { zip3: string; region: Region };
  equipment: Equipment;
}

function endScore(scope: string | undefined, end: { zip3: string; region: Region }): number | null {
  if (scope === undefined) return 0;
  if (scope === end.zip3) return 4;
  if (scope === end.region) return 2;
  return null; // the rule is for another lane
}

function specificity(rule: GuardRule, lane: LaneKey): number | null {
  const o = endScore(rule.origin, lane.origin);
  const d = endScore(rule.destination, lane.destination);
  if (o === null || d === null) return null;
  if (rule.equipment !== undefined && rule.equipment !== lane.equipment) return null;
  return o + d + (rule.equipment ? 1 : 0);
}

export interface ResolvedGuards {
  limits: GuardLimits;
  /** Which rule supplied each limit. */
  sources: Partial<Record<GuardName, string>>;
}

export function resolveGuards(rules: readonly GuardRule[], lane: LaneKey): ResolvedGuards {
  const ranked = rules
    .map((rule, order) => ({ rule, order, score: specificity(rule, lane) }))
    .filter((r): r is { rule: GuardRule; order: number; score: number } => r.score !== null)
    .sort((a, b) => b.score - a.score || a.order - b.order); // ties: first listed wins
  const limits: GuardLimits = {};
  const sources: ResolvedGuards["sources"] = {};
  for (const name of GUARD_NAMES) {
    const hit = ranked.find((r) => r.rule[name] !== undefined);
    if (hit) {
      limits[name] = hit.rule[name];
      sources[name] = hit.rule.id;
    }
  }
  return { limits, sources };
}

export interface GuardSubject {
  sell_per_mile: number;
  /** Blended carrier cost $/mile; null when there is no cost basis (contract only). */
  cost_per_mile: number | null;
  index_per_mile: number | null;
  total: number;
}

export interface GuardBreach {
  guard: GuardName;
  limit: number;
  actual: number;
  rule?: string;
  message: string;
}

export interface GuardResult {
  needs_approval: boolean;
  breaches: GuardBreach[];
  /** Guards that were set but could not be evaluated, with why. */
  skipped: { guard: GuardName; reason: string }[];
}

export const marginPct = (sell: number, cost: number): number => (sell > 0 ? ((sell - cost) / sell) * 100 : -Infinity);

export function checkGuards(subject: GuardSubject, resolved: ResolvedGuards): GuardResult {
  const { limits, sources } = resolved;
  const breaches: GuardBreach[] = [];
  const skipped: GuardResult["skipped"] = [];
  const breach = (guard: GuardName, limit: number, actual: number, message: string) =>
    breaches.push({ guard, limit, actual: roundTo(actual, 4), rule: sources[guard], message });

  if (limits.min_margin_pct !== undefined) {
    if (subject.cost_per_mile === null) {
      skipped.push({ guard: "min_margin_pct", reason: "no cost basis (no history or index)" });
    } else {
      const m = marginPct(subject.sell_per_mile, subject.cost_per_mile);
      if (m < limits.min_margin_pct) {
        breach("min_margin_pct", limits.min_margin_pct, m, `Margin ${m.toFixed(1)}% is below the minimum ${limits.min_margin_pct}%.`);
      }
    }
  }
  if (limits.max_index_deviation_pct !== undefined) {
    if (subject.index_per_mile === null) {
      skipped.push({ guard: "max_index_deviation_pct", reason: "no market index for this lane" });
    } else {
      const dev = (Math.abs(subject.sell_per_mile - subject.index_per_mile) / subject.index_per_mile) * 100;
      if (dev > limits.max_index_deviation_pct) {
        breach(
          "max_index_deviation_pct",
          limits.max_index_deviation_pct,
          dev,
          `Linehaul ${usdPerMile(subject.sell_per_mile)} deviates ${dev.toFixed(1)}% from the index ${usdPerMile(subject.index_per_mile)} (max ${limits.max_index_deviation_pct}%).`,
        );
      }
    }
  }
  // Floors and ceilings: [guard, figure checked, -1 floor / +1 ceiling, label, format].
  const bounds: [GuardName, number, -1 | 1, string, (n: number) => string][] = [
    ["floor_total", subject.total, -1, "Total", usd],
    ["ceiling_total", subject.total, 1, "Total", usd],
    ["floor_per_mile", subject.sell_per_mile, -1, "Linehaul", usdPerMile],
    ["ceiling_per_mile", subject.sell_per_mile, 1, "Linehaul", usdPerMile],
  ];
  for (const [guard, actual, side, label, fmt] of bounds) {
    const limit = limits[guard];
    if (limit === undefined || (side < 0 ? actual >= limit : actual <= limit)) continue;
    const where = side < 0 ? "below the floor" : "above the ceiling";
    breach(guard, limit, actual, `${label} ${fmt(actual)} is ${where} ${fmt(limit)}.`);
  }
  return { needs_approval: breaches.length > 0, breaches, skipped };
}
