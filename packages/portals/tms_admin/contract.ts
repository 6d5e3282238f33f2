import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";
import { centsSchema } from "../../shared/freight/schemas.ts";
import { SLA_KEYS, type SlaKey } from "./domain/sla.ts";
import type { GuardLimitsCents } from "./domain/guards.ts";

export const SECTIONS = ["equipment_types", "lanes", "accessorials", "guards", "edi_partners", "sla_policy"] as const;
const EQUIPMENT = ["van", "reefer", "flatbed", "step_deck", "tanker", "power_only"] as const;
const equipment = z.enum(EQUIPMENT);
const text = (max: number) => z.string().trim().min(1).max(max);
/** A lane end for a guard: a ZIP3 or a Rates region name (east_north_central, ...). */
const guardEnd = z.string().regex(/^(\d{3}|[a-z][a-z_]{2,39})$/, "A ZIP3 (606) or a region (east_north_central)");
const pct = z.number().min(0).max(1000).multipleOf(0.01, "At most two decimals");
/** X12 ids: ISA qualifier (2), ISA id (1..15), GS application id (2..15); upper case, no padding. */
const isaQualifier = z.string().regex(/^[0-9A-Z]{2}$/, "Two characters, e.g. ZZ, 01, 02, 08, 12");
const isaId = z.string().max(15).regex(/^[A-Z0-9._-]([A-Z0-9 ._-]*[A-Z0-9._-])?$/, "1..15 upper-case characters, no padding");
const gsId = z.string().max(15).regex(/^[A-Z0-9._-][A-Z0-9 ._-]*[A-Z0-9._-]$/, "2..15 upper-case characters");

export interface EquipmentType {
  id: string;
  code: (typeof EQUIPMENT)[number];
  name: string;
  length_ft: number | null;
  max_weight_lbs: number | null;
  temperature_controlled: boolean;
  active: boolean;
}
export interface Lane {
  id: string;
  name: string;
  origin_city: string | null;
  origin_region: string;
  destination_city: string | null;
  destination_region: string;
  equipment_type: string;
  miles: number | null;
  active: boolean;
}
export interface Accessorial {
  id: string;
  code: string;
  name: string;
  unit: string;
  default_rate_cents: number | null;
  currency: string;
  active: boolean;
}
export interface Guard extends Required<GuardLimitsCents> {
  id: string;
  label: string;
  equipment: string | null;
  origin: string | null;
  destination: string | null;
}
export interface EdiPartner {
  id: string;
  party_id: string;
  isa_qualifier: string;
  isa_id: string;
  gs_id: string;
  our_isa_qualifier: string;
  our_isa_id: string;
  our_gs_id: string;
  transaction_sets: string[];
  usage: "test" | "production";
  transport: string;
  /** The Vault secret's name; the secret itself is never stored here nor answered. */
  credential_ref: string | null;
  ack_window_minutes: number;
  active: boolean;
}
export interface SlaPolicyValue {
  key: SlaKey;
  value: number;
  /** Where the value comes from: the tenant's own row, or the global default. */
  scope: string;
  min: number;
  max: number;
  description: string;
}

const limits = {
  min_margin_pct: pct.nullable().optional(),
  max_index_deviation_pct: pct.nullable().optional(),
  floor_total_cents: centsSchema.nullable().optional(),
  ceiling_total_cents: centsSchema.nullable().optional(),
  floor_per_mile_cents: centsSchema.max(100_000).nullable().optional(),
  ceiling_per_mile_cents: centsSchema.max(100_000).nullable().optional(),
};

/**
 * The TMS Admin portal (tenant admins and ops managers): the tenant's freight settings —
 * equipment types, lanes, the accessorial catalogue (cents), Rates' pricing guards, EDI
 * trading partners and the SLA policy. Every write is one action; `settings` reads them all.
 */
export const contract = defineContract("tms_admin", {
  actions: {
    equipment_type_upsert: action<{ equipment_type: EquipmentType; created: boolean }>()({
      input: z.strictObject({
        code: equipment,
        name: text(80),
        length_ft: z.number().int().min(8).max(60).nullable().optional(),
        max_weight_lbs: z.number().int().min(1).max(200_000).nullable().optional(),
        temperature_controlled: z.boolean().optional(),
        active: z.boolean().optional(),
      }),
      kind: "write",
    }),
    lane_upsert: action<{ lane: Lane; created: boolean }>()({
      input: z.strictObject({
        name: text(120),
        origin_city: text(80).nullable().optional(),
        origin_region: text(40),
        destination_city: text(80).nullable().optional(),
        destination_region: text(40),
        equipment_type: equipment,
        miles: z.number().int().min(1).max(10_000).nullable().optional(),
        active: z.boolean().optional(),
      }),
      kind: "write",
    }),
    accessorial_upsert: action<{ accessorial: Accessorial; created: boolean }>()({
      input: z.strictObject({
        code: z.string().regex(/^[A-Z][A-Z0-9_]{1,15}$/, "2..16 characters: A-Z, 0-9, _ (DETENTION)"),
        name: text(120),
        unit: z.enum(["flat", "hour", "day", "mile", "stop"]).optional(),
        default_rate_cents: centsSchema.nullable().optional(),
        currency: z.string().regex(/^[A-Z]{3}$/, "An ISO 4217 code (USD)").optional(),
        active: z.boolean().optional(),
      }),
      kind: "write",
    }),
    guard_upsert: action<{ guard: Guard; created: boolean }>()({
      input: z.strictObject({
        /** Omitted: a new guard. */
        id: z.guid().optional(),
        label: text(120),
        equipment: z.enum(["van", "reefer", "flatbed"]).nullable().optional(),
        origin: guardEnd.nullable().optional(),
        destination: guardEnd.nullable().optional(),
        ...limits,
      }),
      kind: "write",
    }),
    guard_delete: action<{ guard_id: string; deleted: boolean }>()({ input: z.strictObject({ id: z.guid() }), kind: "write" }),
    edi_partner_upsert: action<{ edi_partner: EdiPartner; created: boolean }>()({
      input: z.strictObject({
        party_id: z.guid(),
        isa_qualifier: isaQualifier,
        isa_id: isaId,
        gs_id: gsId,
        our_isa_qualifier: isaQualifier,
        our_isa_id: isaId,
        our_gs_id: gsId,
        transaction_sets: z.array(z.enum(["204", "990", "214", "210", "997"])).max(5)
          .refine((s) => new Set(s).size === s.length, "Each transaction set once"),
        usage: z.enum(["test", "production"]),
        transport: z.enum(["as2", "sftp", "van", "api"]).optional(),
        /** The Vault secret's name (<tenant uuid>/<name>), never the secret. */
        credential_ref: z.string().min(38).max(200).nullable().optional(),
        ack_window_minutes: z.number().int().min(1).max(10_080).optional(),
        active: z.boolean().optional(),
      }),
      kind: "write",
    }),
    sla_set: action<{ policy: SlaPolicyValue }>()({
      input: z.strictObject({ key: z.enum(SLA_KEYS), value: z.number().int("Minutes are whole"), reason: text(500) }),
      kind: "write",
    }),
    settings: action<{
      equipment_types: EquipmentType[];
      lanes: Lane[];
      accessorials: Accessorial[];
      guards: Guard[];
      edi_partners: EdiPartner[];
      sla_policy: SlaPolicyValue[];
    }>()({
      /** One section only (the others come back empty); default all. */
      input: z.strictObject({ section: z.enum(SECTIONS).optional() }),
      kind: "read",
    }),
  },
  events: [
    "tms_admin.equipment_type.upserted", "freight.lane.upserted", "freight.accessorial.upserted",
    "tms_admin.guard.upserted", "tms_admin.guard.deleted", "tms_admin.edi_partner.upserted", "tms_admin.sla_policy.changed",
  ],
});
