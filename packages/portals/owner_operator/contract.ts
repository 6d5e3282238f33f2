import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";
import { centsSchema } from "../../shared/freight/schemas.ts";

/** A load as its owner operator sees it: its pay (the buy side only) and per mile. */
export interface OwnerOperatorLoad {
  load_id: string;
  reference: string;
  status: string;
  revenue_cents: number;
  currency: string;
  loaded_miles: number | null;
  empty_miles: number | null;
  /** revenue / (loaded + empty) miles, whole cents (null without miles). */
  revenue_per_mile_cents: number | null;
  settlement_number: string | null;
}

export interface Statement {
  number: string;
  carrier_party_id: string;
  currency: string;
  loads: { load_id: string; reference: string; pay_cents: number; loaded_miles: number | null; empty_miles: number | null }[];
  deductions: { fuel_advance_cents: number; escrow_cents: number; lease_cents: number; insurance_cents: number };
  gross_cents: number;
  deductions_cents: number;
  net_cents: number;
}

export interface Settlement extends Statement {
  settlement_id: string;
  journal_entry_id: string;
  document_id: string | null;
  created_at?: string;
}

export interface ServiceStatus {
  interval_id: string;
  unit_id: string;
  service_kind: string;
  every_miles: number | null;
  every_days: number | null;
  last_on: string;
  last_miles: number;
  odometer_miles: number;
  due_on: string | null;
  due_miles: number | null;
  overdue: boolean;
}

export interface UnitBlock {
  block_id: string;
  unit_id: string;
  carrier_party_id: string;
  blocked: boolean;
}

const party = z.guid().optional();
const isoDay = z.iso.date().refine((d) => d >= "1900-01-01" && d < "2200-01-01", "A date between 1900 and 2199");
const serviceKind = z.string().regex(/^[a-z][a-z0-9_]{1,39}$/, "A service kind like pm_a or annual_inspection");
const note = z.string().trim().min(1).max(500);

/**
 * The Owner Operator portal (a one-truck carrier's users: carrier users of its party): its
 * loads with revenue per load and per mile, settlements (pay statements: delivered loads
 * minus fuel advances, escrow, lease and insurance, posted to the ledger), maintenance of
 * its units. Staff (finance) settle; its agent blocks a unit overdue for service.
 */
export const contract = defineContract("owner_operator", {
  actions: {
    ...revertContract,
    loads: action<{ loads: OwnerOperatorLoad[]; totals: { revenue_cents: number; miles: number; revenue_per_mile_cents: number | null } }>()({
      input: z.strictObject({ carrier_party_id: party, status: z.enum(["delivered", "all"]).default("all") }),
      kind: "read",
    }),
    miles_record: action<{ load_id: string; loaded_miles: number; empty_miles: number }>()({
      input: z.strictObject({ load_id: z.guid(), loaded_miles: z.number().int().min(1).max(20000), empty_miles: z.number().int().min(0).max(20000).default(0) }),
      kind: "write",
    }),
    fuel_advance: action<{ fuel_advance_id: string; carrier_party_id: string; amount_cents: number; currency: string; journal_entry_id: string }>()({
      input: z.strictObject({ carrier_party_id: z.guid(), amount_cents: centsSchema.min(1), note: note.optional() }),
      kind: "write",
    }),
    settle: action<Settlement>()({
      input: z.strictObject({
        carrier_party_id: z.guid(),
        load_ids: z.array(z.guid()).min(1).max(200).refine((ids) => new Set(ids).size === ids.length, "Each load once"),
        /** Overrides the profile's per-settlement deductions (integer cents). */
        deductions: z.strictObject({ escrow_cents: centsSchema.optional(), lease_cents: centsSchema.optional(), insurance_cents: centsSchema.optional() }).default({}),
      }),
      kind: "write",
    }),
    settlements: action<{ settlements: Settlement[] }>()({ input: z.strictObject({ carrier_party_id: party }), kind: "read" }),
    maintenance: action<{ status: ServiceStatus[]; blocks: { block_id: string; unit_id: string; reason: string; set_at: string; cleared_at: string | null }[] }>()({
      input: z.strictObject({ carrier_party_id: party }),
      kind: "read",
    }),
    service_interval_set: action<{ interval_id: string; unit_id: string; service_kind: string; every_miles: number | null; every_days: number | null }>()({
      input: z.strictObject({
        unit_id: z.guid(), service_kind: serviceKind,
        every_miles: z.number().int().min(100).max(1_000_000).optional(), every_days: z.number().int().min(1).max(3650).optional(),
      }).refine((i) => i.every_miles !== undefined || i.every_days !== undefined, { path: ["every_miles"], message: "An interval by miles, days or both" }),
      kind: "write",
    }),
    odometer_set: action<{ unit_id: string; carrier_party_id: string; odometer_miles: number }>()({
      input: z.strictObject({ unit_id: z.guid(), odometer_miles: z.number().int().min(0).max(10_000_000) }),
      kind: "write",
    }),
    service_record: action<{ record_id: string; unit_id: string; service_kind: string; performed_on: string; odometer_miles: number; cost_cents: number }>()({
      input: z.strictObject({
        unit_id: z.guid(), service_kind: serviceKind, performed_on: isoDay.optional(),
        odometer_miles: z.number().int().min(0).max(10_000_000), cost_cents: centsSchema.default(0), note: note.optional(),
      }),
      kind: "write",
    }),
    block_unit: action<UnitBlock>()({ input: z.strictObject({ unit_id: z.guid(), reason: note }), kind: "write" }),
    unblock_unit: action<{ block_id: string; unit_id: string; carrier_party_id: string; cleared: boolean }>()({
      input: z.strictObject({ block_id: z.guid(), clear_reason: note }),
      kind: "write",
    }),
  },
  events: [
    "owner_operator.settlement.posted", "owner_operator.unit.blocked", "owner_operator.unit.unblocked",
    "freight.journal_entry.posted", "freight.document.recorded",
  ],
});
