import { accept, type Outcome, refuse } from "../../../shared/http/outcome.ts";
import { type Blend, blendLinehaul, DEFAULT_CREDIBILITY_K, DEFAULT_MIN_HISTORY, type LaneSamples } from "./blend.ts";
import { type Contract, findContract } from "./contracts.ts";
import { DEFAULT_FUEL_POLICY, type DieselWeek, type FuelPolicy, fuelSurcharge } from "./fuel.ts";
import { greatCircleMiles, locate, type Place, ROAD_CIRCUITY_FACTOR, roadMiles } from "./geo.ts";
import { checkGuards, type GuardResult, type GuardRule, type LaneKey, marginPct, resolveGuards, type ResolvedGuards } from "./guards.ts";
import { cents, count, roundTo, usd, usdPerMile } from "./money.ts";
import type { Equipment, PriceOneInput } from "./schemas.ts";

/**
 * price_one, pure: places and miles -> linehaul (contract, else blended cost + markup) ->
 * fuel -> total -> guards, with a readable explanation of each step.
 *
 * Pricing model: the blend (tenant history + market index) estimates the carrier cost of
 * the linehaul. Spot sell = cost × (1 + markup_pct/100). A contract in force sets the sell
 * linehaul instead, and the guards then show whether it still clears margin against today's
 * cost. Fuel is passed through at the surcharge (outside the margin).
 */

export interface PricingPolicy {
  markup_pct: number;
  fuel: FuelPolicy;
  credibility_k: number;
  min_history: number;
}

export const DEFAULT_PRICING_POLICY: PricingPolicy = {
  markup_pct: 15,
  fuel: DEFAULT_FUEL_POLICY,
  credibility_k: DEFAULT_CREDIBILITY_K,
  min_history: DEFAULT_MIN_HISTORY,
};

export interface QuoteLane extends LaneKey {
  origin: Place;
  destination: Place;
  /** "606 → 902" */
  zip3Lane: string;
  /** "east_north_central → pacific" */
  regionLane: string;
}

/** The places and lane keys of a request: what the DB layer needs to fetch evidence. */
export function quoteLane(request: Pick<PriceOneInput, "origin" | "destination" | "equipment">): QuoteLane | null {
  const origin = locate(request.origin);
  const destination = locate(request.destination);
  if (!origin || !destination) return null;
  return {
    origin,
    destination,
    equipment: request.equipment,
    zip3Lane: `${origin.zip3} → ${destination.zip3}`,
    regionLane: `${origin.region} → ${destination.region}`,
  };
}

export interface QuoteInputs {
  request: PriceOneInput;
  evidence: { zip3: LaneSamples; region: LaneSamples };
  diesel: readonly DieselWeek[];
  contracts?: readonly Contract[];
  guards?: readonly GuardRule[];
  policy?: Partial<PricingPolicy>;
}

type QuotePlace = Pick<Place, "code" | "zip3" | "state" | "region" | "city">;

export interface Quote {
  origin: QuotePlace;
  destination: QuotePlace;
  equipment: Equipment;
  pickup_date: string;
  /** Billable road miles (whole miles, at least 1). */
  miles: number;
  basis: "contract" | "spot";
  contract_id: string | null;
  /** Blended carrier cost $/mile; null when only a contract prices the lane. */
  cost_per_mile: number | null;
  linehaul: { per_mile: number; total: number };
  fuel: { week_of: string; diesel_price: number; per_mile: number; total: number };
  total: number;
  /** Linehaul margin %, null without a cost basis. */
  margin_pct: number | null;
  currency: "USD";
  blend: Omit<Blend, "explanation"> | null;
  guards: GuardResult & ResolvedGuards;
  status: "priced" | "needs_approval";
  explanation: string[];
}

/** What a customer (a shipper user) is shown: the sell side only, never the cost, margin or guards. */
export type CustomerQuote = Pick<Quote, "origin" | "destination" | "equipment" | "pickup_date" | "miles" | "linehaul" | "fuel" | "total" | "currency" | "status">;

export const customerQuote = (q: Quote): CustomerQuote => ({
  origin: q.origin, destination: q.destination, equipment: q.equipment, pickup_date: q.pickup_date, miles: q.miles,
  linehaul: q.linehaul, fuel: q.fuel, total: q.total, currency: q.currency, status: q.status,
});

const placeLabel = (p: Place) => (p.city ? `${p.code} ${p.city}, ${p.state}` : `ZIP3 ${p.code} (${p.state})`);
const pick = ({ code, zip3, state, region, city }: Place): QuotePlace => ({ code, zip3, state, region, city });

/** The linehaul sell price: a contract in force, else blended cost plus markup. */
function linehaul(contract: Contract | null, blend: Blend | null, miles: number, markupPct: number, lines: string[]) {
  if (contract) {
    const { rate } = contract;
    const perMile = rate.kind === "per_mile" ? rate.per_mile : roundTo(rate.amount / miles, 4);
    const total = rate.kind === "per_mile" ? cents(rate.per_mile * miles) : rate.amount;
    const terms = rate.kind === "per_mile" ? usdPerMile(rate.per_mile) : `${usd(rate.amount)} flat`;
    lines.push(`Contract ${contract.id} (${contract.valid_from} to ${contract.valid_to}) applies: ${terms}; it beats the spot blend.`);
    return { perMile, total };
  }
  const perMile = roundTo(blend!.per_mile * (1 + markupPct / 100), 3);
  lines.push(`Spot linehaul: cost ${usdPerMile(blend!.per_mile)} + ${markupPct}% markup = ${usdPerMile(perMile)}.`);
  return { perMile, total: cents(perMile * miles) };
}

function explainGuards(g: GuardResult & ResolvedGuards): string[] {
  const set = Object.keys(g.limits);
  const lines = g.needs_approval
    ? [`Needs approval: ${g.breaches.map((b) => `${b.guard} — ${b.message}`).join(" ")}`]
    : [set.length ? `Guards passed: ${set.join(", ")}.` : "No guards configured for this lane."];
  for (const s of g.skipped) lines.push(`Guard ${s.guard} not checked: ${s.reason}.`);
  return lines;
}

export function priceQuote(inputs: QuoteInputs): Outcome<Quote> {
  const policy = { ...DEFAULT_PRICING_POLICY, ...inputs.policy };
  const { request } = inputs;
  const lane = quoteLane(request);
  if (!lane) return refuse("rate_unavailable", { detail: "Origin or destination is not a served US ZIP" });
  const { origin, destination } = lane;
  const explanation: string[] = [];

  const gc = greatCircleMiles(origin, destination);
  const miles = Math.max(1, Math.round(roadMiles(origin, destination)));
  explanation.push(
    `Route ${placeLabel(origin)} → ${placeLabel(destination)}: ${count(Math.round(gc))} great-circle miles × ${ROAD_CIRCUITY_FACTOR} circuity = ${count(miles)} road miles.`,
  );

  const blend = blendLinehaul(
    { lane: lane.zip3Lane, ...inputs.evidence.zip3 },
    { lane: lane.regionLane, ...inputs.evidence.region },
    { credibilityK: policy.credibility_k, minHistory: policy.min_history },
  );
  if (blend) explanation.push(...blend.explanation);
  const contract = findContract(inputs.contracts ?? [], {
    origin,
    destination,
    equipment: request.equipment,
    pickup_date: request.pickup_date,
    customer_ref: request.hints?.customer_ref,
    contract_id: request.hints?.contract_id,
  });
  if (!contract && !blend) {
    return refuse("rate_unavailable", { detail: `No contract, lane history or market index for ${lane.zip3Lane} ${request.equipment}` });
  }
  if (request.hints?.contract_id && contract?.id !== request.hints.contract_id) {
    explanation.push(`Requested contract ${request.hints.contract_id} does not apply to this lane, equipment or date.`);
  }

  const sell = linehaul(contract, blend, miles, policy.markup_pct, explanation);
  explanation.push(`Linehaul: ${usdPerMile(sell.perMile)} × ${count(miles)} mi = ${usd(sell.total)}.`);

  const fuel = fuelSurcharge(inputs.diesel, request.pickup_date, miles, policy.fuel);
  if (!fuel) return refuse("rate_unavailable", { detail: `No diesel price on or before ${request.pickup_date}` });
  explanation.push(...fuel.explanation);

  const total = cents(sell.total + fuel.total);
  const costPerMile = blend?.per_mile ?? null;
  const margin = costPerMile === null ? null : roundTo(marginPct(sell.perMile, costPerMile), 2);
  explanation.push(`Total: ${usd(total)}${margin === null ? "" : ` (linehaul margin ${margin.toFixed(1)}%)`}.`);

  const resolved = resolveGuards(inputs.guards ?? [], lane);
  const guards = {
    ...checkGuards({ sell_per_mile: sell.perMile, cost_per_mile: costPerMile, index_per_mile: blend?.index?.rate ?? null, total }, resolved),
    ...resolved,
  };
  explanation.push(...explainGuards(guards));

  return accept({
    origin: pick(origin),
    destination: pick(destination),
    equipment: request.equipment,
    pickup_date: request.pickup_date,
    miles,
    basis: contract ? "contract" : "spot",
    contract_id: contract?.id ?? null,
    cost_per_mile: costPerMile,
    linehaul: { per_mile: sell.perMile, total: sell.total },
    fuel: { week_of: fuel.week_of, diesel_price: fuel.diesel_price, per_mile: fuel.per_mile, total: fuel.total },
    total,
    margin_pct: margin,
    currency: "USD",
    blend: blend && { per_mile: blend.per_mile, history: blend.history, index: blend.index, credibility: blend.credibility },
    guards,
    status: guards.needs_approval ? "needs_approval" : "priced",
    explanation,
  });
}
