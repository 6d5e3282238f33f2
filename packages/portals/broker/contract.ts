import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";
import { centsSchema, stopsSchema } from "../../shared/freight/schemas.ts";
import type { ScorecardRow } from "../../shared/freight/scorecard.ts";

/** A tender as offered, with its rate confirmation (a PDF recorded as a document). */
export interface TenderResult {
  tender_id: string;
  load_id: string;
  carrier_party_id: string;
  rate_cents: number;
  currency: string;
  sla_deadline: string;
  document_id: string;
  document_sha256: string;
}

export interface RetenderResult {
  previous_tender_id: string;
  /** What became of it: expired (past its deadline), cancelled (re-tendered early), or as it was. */
  previous_status: string;
  load_id: string;
  /** The new offer; null when no eligible carrier was left (the tender only expired). */
  tender: TenderResult | null;
}

/** A routed load as a carrier decides on it (app_private.freight_lane): stops in UTC and in facility time. */
export interface Lane {
  load_id: string;
  reference: string;
  equipment_type: string;
  weight_lbs: number | null;
  stops: { sequence: number; kind: string; city: string | null; region: string | null; time_zone: string; window_start: string; window_end: string; window_start_local: string; window_end_local: string }[];
}

export interface SlaTimer {
  kind: "tender_response" | "pickup_appointment" | "delivery_appointment" | "check_call";
  load_id: string;
  tender_id: string | null;
  stop_id: string | null;
  carrier_party_id: string | null;
  started_at: string;
  due_at: string;
  met_at: string | null;
  state: "running" | "met" | "breached" | "cancelled";
}

export type { ScorecardRow } from "../../shared/freight/scorecard.ts";

const equipment = z.enum(["van", "reefer", "flatbed", "step_deck", "tanker", "power_only"]);
const reason = z.string().trim().min(1).max(500);

/**
 * The Broker portal (the brokerage's staff): route a load, tender it (rate confirmation PDF,
 * SLA deadline from the policy), book it, re-tender, cancel (TONU after dispatch), message
 * its shipper and carrier, and read the SLA timers and the carrier scorecard. Its agents
 * re-tender expired tenders by scorecard and flag appointments at risk (both reversible).
 */
export const contract = defineContract("broker", {
  actions: {
    ...revertContract,
    route: action<Lane>()({
      input: z.strictObject({
        load_id: z.guid(),
        equipment_type: equipment.optional(),
        weight_lbs: z.number().int().min(1).max(200_000).optional(),
        commodity: z.string().trim().min(1).max(120).optional(),
        stops: stopsSchema,
      }),
      kind: "write",
    }),
    tender: action<TenderResult>()({
      input: z.strictObject({
        load_id: z.guid(),
        carrier_party_id: z.guid(),
        rate_cents: centsSchema.min(1),
        /** Overrides the SLA policy (freight.tenderSlaMinutes) for this offer. */
        sla_minutes: z.number().int().min(1).max(10080).optional(),
      }),
      kind: "write",
    }),
    book: action<{ tender_id: string; load_id: string; status: string; rate_cents: number; load_status: string }>()({
      input: z.strictObject({ tender_id: z.guid(), note: reason.optional() }),
      kind: "write",
    }),
    retender: action<RetenderResult>()({
      input: z.strictObject({
        tender_id: z.guid(),
        /** Default: the best-scoring eligible carrier not yet tendered the load. */
        carrier_party_id: z.guid().optional(),
        /** Default: the rate of the tender it replaces. */
        rate_cents: centsSchema.min(1).optional(),
      }),
      kind: "write",
    }),
    withdraw_tender: action<{ tender_id: string; status: string; load_status: string }>()({
      input: z.strictObject({ tender_id: z.guid().nullable(), reason: reason.optional() }),
      kind: "write",
    }),
    cancel: action<{ load_id: string; from: string; status: string; charge_lines: { side: string; party_id: string; amount_cents: number }[] }>()({
      input: z.strictObject({
        load_id: z.guid(),
        reason,
        /** TONU paid to the carrier (after dispatch); default the catalogue's TONU rate. */
        tonu_cents: centsSchema.optional(),
        /** TONU billed to the shipper, if any. */
        bill_shipper_cents: centsSchema.optional(),
      }),
      kind: "write",
    }),
    message: action<{ messages: { message_id: string; audience: string }[] }>()({
      input: z.strictObject({
        load_id: z.guid(),
        to: z.array(z.enum(["shipper", "carrier"])).min(1).max(2),
        body: z.string().trim().min(1).max(2000),
      }),
      kind: "write",
    }),
    flag_appointment_risk: action<{ load_id: string; stop_id: string; reason: string; message_id: string }>()({
      input: z.strictObject({ load_id: z.guid(), stop_id: z.guid(), reason }),
      kind: "write",
    }),
    clear_appointment_risk: action<{ load_id: string; exception: boolean }>()({
      input: z.strictObject({ load_id: z.guid(), reason, message_id: z.guid() }),
      kind: "write",
    }),
    sla_timers: action<{ timers: SlaTimer[] }>()({ input: z.strictObject({ load_id: z.guid().optional() }), kind: "read" }),
    scorecard: action<{ carriers: ScorecardRow[] }>()({ input: z.strictObject({ carrier_party_id: z.guid().optional() }), kind: "read" }),
  },
  events: [
    "freight.load.routed", "freight.tender.offered", "freight.tender.accepted", "freight.tender.expired", "freight.tender.cancelled",
    "freight.load.covered", "freight.load.cancelled", "freight.load.tonu", "freight.load.exception_raised",
    "freight.load.exception_cleared", "freight.message.sent", "freight.message.retracted", "freight.document.recorded",
  ],
});
