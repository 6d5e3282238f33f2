import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";
import { centsSchema } from "../../shared/freight/schemas.ts";
import type { ScorecardRow } from "../../shared/freight/scorecard.ts";

/** A tender as its carrier sees it: the buy rate it was offered (never the sell rate) and the lane it decides on. */
export interface CarrierTender {
  tender_id: string;
  load_id: string;
  status: "offered" | "countered" | "accepted" | "declined" | "expired" | "cancelled";
  offered_rate_cents: number;
  counter_rate_cents: number | null;
  accepted_rate_cents: number | null;
  currency: string;
  sla_deadline: string;
  lane: Record<string, unknown>;
}

export interface CarrierLoad {
  load_id: string;
  reference: string;
  status: string;
  exception: boolean;
  equipment_type: string;
  driver_id: string | null;
  tractor_id: string | null;
  trailer_id: string | null;
  stops: { sequence: number; kind: string; city: string | null; region: string | null; time_zone: string; window_start_local: string; window_end_local: string }[];
}

export interface Capacity {
  capacity_id: string | null;
  carrier_party_id: string;
  origin_region: string;
  destination_region: string;
  equipment_type: string;
  available_on: string;
  trucks: number;
}

export interface ContractLane {
  lane_id: string;
  origin_city: string | null;
  origin_region: string;
  destination_city: string | null;
  destination_region: string;
  equipment_type: string;
  rate_cents: number;
  currency: string;
  trucks_per_week: number | null;
  valid_from: string;
  valid_to: string;
}

export interface Insurance {
  insurance_id: string;
  kind: string;
  amount_cents: number;
  currency: string;
  effective_on: string;
  expires_on: string;
  document_id: string | null;
}

export interface Compliance {
  carrier_party_id: string;
  authority: { status: string; allowed_to_operate: boolean; safety_rating: string; out_of_service: boolean } | null;
  insurance: Insurance[];
  blocks: { block_id: string; reason: string; note: string | null; set_at: string; cleared_at: string | null; clear_reason: string | null }[];
  /** Whether a tender may be offered today (app_private.freight_party_refusal is null). */
  tenderable: boolean;
}

export interface Suspension {
  block_id: string;
  carrier_party_id: string;
  reason: "insurance" | "out_of_service";
  note: string;
}

const tenderRef = z.guid();
const note = z.string().trim().min(1).max(500);
const region = z.string().regex(/^[A-Z]{2}$/, "A two-letter state or province code (IL, TX, ON)");
const equipment = z.enum(["van", "reefer", "flatbed", "step_deck", "tanker", "power_only"]);
/** A calendar day Postgres can hold as a date (year 0 is not one). */
const isoDay = z.iso.date().refine((d) => d >= "1900-01-01" && d < "2200-01-01", "A date between 1900 and 2199");
/** Staff acting for a carrier name it; a carrier user acts for its own party. */
const carrierParty = z.guid().optional();

/**
 * The Carrier portal (a carrier company's users): the tenders offered to it (accept,
 * decline, counter back to the broker), dispatch of its covered loads, its capacity,
 * contract lanes, compliance (insurance certificates, authority) and its own scorecard.
 * Its agent suspends a carrier whose insurance is lapsing or that is out of service.
 */
export const contract = defineContract("carrier", {
  actions: {
    ...revertContract,
    tenders: action<{ tenders: CarrierTender[] }>()({
      input: z.strictObject({ status: z.enum(["live", "all"]).default("live") }),
      kind: "read",
    }),
    accept: action<{ tender_id: string; load_id: string; status: string; rate_cents: number; load_status: string }>()({
      input: z.strictObject({ tender_id: tenderRef, note: note.optional() }),
      kind: "write",
    }),
    decline: action<{ tender_id: string; status: string }>()({
      input: z.strictObject({ tender_id: tenderRef, reason: note.optional() }),
      kind: "write",
    }),
    counter: action<{ tender_id: string; status: string; counter_rate_cents: number }>()({
      input: z.strictObject({ tender_id: tenderRef, rate_cents: centsSchema.min(1), note: note.optional() }),
      kind: "write",
    }),
    dispatch: action<{ load_id: string; status: string; driver_id: string; tractor_id: string; trailer_id: string | null }>()({
      input: z.strictObject({ load_id: z.guid(), driver_id: z.guid(), tractor_id: z.guid(), trailer_id: z.guid().optional() }),
      kind: "write",
    }),
    loads: action<{ loads: CarrierLoad[] }>()({
      input: z.strictObject({ status: z.enum(["active", "all"]).default("active") }),
      kind: "read",
    }),
    fleet: action<{
      drivers: { driver_id: string; name: string; status: string; cdl_expires_on: string | null; medical_card_expires_on: string | null }[];
      equipment: { unit_id: string; unit_number: string; kind: string; trailer_type: string | null; status: string }[];
    }>()({ input: z.strictObject({ status: z.enum(["active", "all"]).default("active") }), kind: "read" }),
    capacity_set: action<Capacity>()({
      input: z.strictObject({
        carrier_party_id: carrierParty,
        origin_region: region,
        destination_region: region,
        equipment_type: equipment,
        available_on: isoDay,
        /** 0 removes the lane's capacity that day. */
        trucks: z.number().int().min(0).max(500),
      }),
      kind: "write",
    }),
    capacity: action<{ capacity: Capacity[] }>()({
      input: z.strictObject({ from: isoDay.optional(), to: isoDay.optional() }),
      kind: "read",
    }),
    contract_lanes: action<{ lanes: ContractLane[] }>()({ input: z.strictObject({ include_expired: z.boolean().default(false) }), kind: "read" }),
    compliance: action<Compliance>()({ input: z.strictObject({ carrier_party_id: carrierParty }), kind: "read" }),
    insurance_submit: action<Insurance & { carrier_party_id: string }>()({
      input: z.strictObject({
        carrier_party_id: carrierParty,
        kind: z.enum(["auto_liability", "cargo", "general_liability", "workers_comp"]),
        insurer: z.string().trim().min(1).max(120).optional(),
        policy_number: z.string().trim().min(1).max(64).optional(),
        amount_cents: centsSchema.min(1),
        currency: z.string().regex(/^[A-Z]{3}$/).optional(),
        effective_on: isoDay,
        expires_on: isoDay,
        /** The certificate's bytes: POST /documents/upload?kind=insurance_certificate&party_id=<carrier>. */
        document_id: z.guid(),
      }).refine((c) => c.effective_on <= c.expires_on, { path: ["expires_on"], message: "expires_on is not before effective_on" }),
      kind: "write",
    }),
    scorecard: action<{ scorecard: ScorecardRow | null }>()({ input: z.strictObject({ carrier_party_id: carrierParty }), kind: "read" }),
    suspend_carrier: action<Suspension>()({
      input: z.strictObject({
        carrier_party_id: z.guid(),
        reason: z.enum(["insurance", "out_of_service"]),
        kind: z.string().max(40).optional(),
        covered_until: isoDay.nullable().optional(),
      }),
      kind: "write",
    }),
    reinstate_carrier: action<{ block_id: string; carrier_party_id: string; cleared: boolean }>()({
      input: z.strictObject({ block_id: z.guid(), clear_reason: note }),
      kind: "write",
    }),
  },
  events: [
    "freight.tender.accepted", "freight.tender.declined", "freight.tender.countered", "freight.tender.cancelled",
    "freight.load.covered", "freight.load.opened", "freight.load.dispatched", "freight.insurance.recorded",
    "freight.party.blocked", "freight.party.unblocked", "carrier.capacity.updated", "carrier.compliance.suspended",
    "carrier.compliance.reinstated",
  ],
});
