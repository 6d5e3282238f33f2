import type { Accessorial, EdiPartner, EquipmentType, Guard, Lane } from "../contract.ts";
import { guardCents } from "./guards.ts";

/**
 * Rows as the portal answers them (postgres.js gives numeric and bigint as strings), and the
 * column lists the actions select, so a write's answer and `settings` have one shape.
 */
// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;

export const EQUIPMENT_COLUMNS = "id, code, name, length_ft, max_weight_lbs, temperature_controlled, active";
export const LANE_COLUMNS = "id, name, origin_city, origin_region, destination_city, destination_region, equipment_type, miles, active";
export const ACCESSORIAL_COLUMNS = "id, code, name, unit, default_rate_cents, currency, active";
export const GUARD_COLUMNS =
  "id, label, equipment, origin, destination, min_margin_pct, max_index_deviation_pct, floor_total, ceiling_total, floor_per_mile, ceiling_per_mile";
export const EDI_COLUMNS = "id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id, transaction_sets, " +
  "usage, transport, credential_ref, ack_window_minutes, active";

export const equipmentType = (r: Row): EquipmentType => ({
  id: r.id, code: r.code, name: r.name, length_ft: r.length_ft, max_weight_lbs: r.max_weight_lbs,
  temperature_controlled: r.temperature_controlled, active: r.active,
});
export const lane = (r: Row): Lane => ({
  id: r.id, name: r.name, origin_city: r.origin_city, origin_region: r.origin_region, destination_city: r.destination_city,
  destination_region: r.destination_region, equipment_type: r.equipment_type, miles: r.miles, active: r.active,
});
export const accessorial = (r: Row): Accessorial => ({
  id: r.id, code: r.code, name: r.name, unit: r.unit,
  default_rate_cents: r.default_rate_cents === null ? null : Number(r.default_rate_cents), currency: r.currency, active: r.active,
});
export const guard = (r: Row): Guard => ({
  id: r.id, label: r.label, equipment: r.equipment, origin: r.origin, destination: r.destination, ...guardCents(r),
});
export const ediPartner = (r: Row): EdiPartner => ({
  id: r.id, party_id: r.party_id, isa_qualifier: r.isa_qualifier, isa_id: r.isa_id, gs_id: r.gs_id,
  our_isa_qualifier: r.our_isa_qualifier, our_isa_id: r.our_isa_id, our_gs_id: r.our_gs_id, transaction_sets: r.transaction_sets,
  usage: r.usage, transport: r.transport, credential_ref: r.credential_ref, ack_window_minutes: r.ack_window_minutes, active: r.active,
});
