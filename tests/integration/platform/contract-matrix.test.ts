/**
 * The contract matrix (issue 10, item 8), generated from the registry like the RLS matrix
 * (supabase/tests/030_rls_matrix_test.sql): for every portal in PORTALS and every action of
 * its contract, the same six cases, each answered with an RFC 9457 problem (or, for the
 * idempotency case, the stored answer):
 *
 *   unauthenticated  no credentials -> 401 missing_authorization (machine-only portals: a
 *                    user's JWT, unsigned, too)
 *   wrong_role       a principal lacking the action's permission -> 403 forbidden
 *   kill_switch      a machine holding the permission, under the charter's stop -> write
 *                    actions 503 autonomy_halted; read actions still answer
 *   portal_off       portal.enabled false for the portal -> write actions 403
 *                    portal_disabled; read actions and the switchboard's own levers (rails
 *                    "control": the kill switch, flag changes) still answer
 *   bad_input        a body generated from the input schema -> 400 validation_failed naming
 *                    a field of the schema
 *   idempotency      the same key twice -> the same body, marked idempotency-replayed
 *
 * Who calls is derived, not listed: the principals come from the database (USERS and the
 * service accounts, with app_private.has_permission deciding who holds what). Only the
 * valid sample inputs are per action (FIXTURES). A case that cannot apply (no fixture, no
 * machine holding the permission, an input that cannot succeed twice) is not generated and
 * is listed, with why, in the count printed at the end.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadManifest, PORTALS } from "../../../packages/portals/registry.ts";
import type { ActionContract } from "../../../packages/shared/pipeline/contract.ts";
import type { AnyAction } from "../../../packages/shared/pipeline/action.ts";
import type { PortalManifest } from "../../../packages/shared/pipeline/manifest.ts";
import { DEMO_TENANT, USERS } from "../../helpers/auth.ts";
import { deadEntry, ensureTenant, hex, holds, serviceAccounts, setFlag, sql, withEmergencyStop } from "../../helpers/db.ts";
import { type Caller, expectProblem, portal } from "../../helpers/http.ts";

/** A tenant of the matrix's own, for fixtures whose writes other files must not see. */
const MATRIX_TENANT = "d0000000-0000-4000-8000-00000000c0de";
const RUN = hex(3);
const pickup = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);

interface Fixture {
  /** Who the input succeeds for (a USERS key or a service account), and in which tenant. */
  as: Caller & string;
  tenant?: string;
  /** A fresh, schema-valid input (called once per case). */
  input: () => unknown | Promise<unknown>;
  /**
   * Whether the input succeeds (so a second call with the same key replays it). False: it
   * passes validation but names nothing that exists, so it serves the refusal cases only.
   */
  succeeds: boolean;
  /** Why the idempotency case does not apply (when `succeeds` is false). */
  why?: string;
}

const website = (page: string) => ({ page, utm: { source: "matrix", campaign: `contract-matrix-${RUN}` } });
const email = () => `matrix-${hex(4)}@shipper.example`;

/** Valid sample inputs per action (portal/action). Everything else in this file is generated. */
const FIXTURES: Record<string, Fixture> = {
  "rates/price_one": { as: "ops", succeeds: true, input: () => ({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }) },
  // A far-future validity in the matrix's tenant: no other file's pricing sees it.
  "rates/contract_upsert": {
    as: "super", tenant: MATRIX_TENANT, succeeds: true,
    input: () => ({ origin: "981", destination: "303", equipment: "flatbed", rate: { kind: "per_mile", per_mile: 3.3 }, valid_from: "2035-01-01", valid_to: "2035-12-31", customer_ref: `matrix-${RUN}` }),
  },
  "rates/index_ingest": {
    as: "super", tenant: MATRIX_TENANT, succeeds: true,
    input: () => ({ csv: `origin_zip3,destination_zip3,equipment,rate_per_mile,effective_date,source\n981,303,flatbed,2.41,2026-11-01,matrix-${RUN}-${hex(3)}` }),
  },
  "rates/escalate_quote": { as: "ops", succeeds: false, why: "an agent's task on a quote waiting for approval", input: () => ({ quote_id: randomUUID() }) },
  "rates/deescalate_quote": { as: "ops", succeeds: false, why: "the reverse of escalate_quote", input: () => ({ quote_id: randomUUID(), escalated_at: new Date().toISOString() }) },
  "rates/flag_stale_index": { as: "ops", succeeds: false, why: "an agent's alert (one per stale period)", input: () => ({ last_ingested_at: null, stale_days: 7 }) },
  "rates/revert": { as: "ops", succeeds: false, why: "needs an agent's reversible run", input: () => ({ trace_id: hex(16) }) },
  "rates/revert_clear": { as: "ops", succeeds: false, why: "needs a reverted run", input: () => ({ trace_id: hex(16) }) },
  "crm/lead_created": { as: "n8n", succeeds: true, input: () => ({ type: "lead.created", data: { ...website("/pricing"), email: email(), name: "Matrix Lead" } }) },
  "crm/demo_requested": { as: "n8n", succeeds: true, input: () => ({ type: "demo.requested", data: { ...website("/demo"), email: email(), preferred_date: pickup } }) },
  "crm/roi_calculated": {
    as: "n8n", succeeds: true,
    input: () => ({ type: "roi.calculated", data: { ...website("/roi"), inputs: { loads_per_month: 400, avg_rate_usd: 2100 }, result: { monthly_savings_usd: 18250 } } }),
  },
  "crm/checkout_started": { as: "n8n", succeeds: true, input: () => ({ type: "checkout.started", data: { ...website("/checkout"), plan: "growth", seats: 12 } }) },
  "crm/checkout_session_created": {
    as: "n8n", succeeds: true,
    input: () => ({ type: "checkout.session_created", data: { ...website("/checkout"), checkout_event_id: randomUUID(), session_id: `cs_test_${hex(8)}`, amount_total: 58800, currency: "usd", plan: "growth", seats: 12 } }),
  },
  // A dry run on a fresh dead entry of the matrix's tenant: nothing is replayed.
  "autonomous/replay": {
    as: "super", tenant: MATRIX_TENANT, succeeds: true,
    input: async () => ({ dlq_ids: [(await deadEntry(MATRIX_TENANT, "contract_matrix.failed")).id], dry_run: true }),
  },
  "autonomous/approve": { as: "ops", succeeds: false, why: "needs a replay request held in STEP-DOWN", input: () => ({ request_id: randomUUID(), approve: true }) },
  "autonomous/quarantine_release": { as: "ops", succeeds: false, why: "needs an open quarantine", input: () => ({ quarantine_id: randomUUID(), reason: "contract matrix" }) },
  // Resume while running: harmless (the stop is already off).
  "autonomous/kill_switch": { as: "super", succeeds: true, input: () => ({ engage: false, reason: "contract matrix: resume (no-op)" }) },
  // canary.percent for rates, written back with the value it has.
  "autonomous/flag_set": {
    as: "super", succeeds: true,
    input: async () => {
      const [r] = await sql`select public.flag_value('canary.percent', null, 'rates') as v`;
      return { key: "canary.percent", scope: "portal:rates", value: Number(r.v), reason: "contract matrix: unchanged value" };
    },
  },
};

// The demo tenant's freight seeds (supabase/seeds/20_freight.sql): its shipper user, a dispatched load of theirs, facilities.
const SHIPPER_USER = "e0000000-0000-4000-8000-000000000010";
const DEMO_LOAD = "c7000000-0000-4000-8000-000000000005";
const demoStops = (day: string) => {
  const later = new Date(Date.parse(`${day}T00:00:00Z`) + 2 * 86400_000).toISOString().slice(0, 10);
  return [
    { kind: "pickup", facility_id: "c4000000-0000-4000-8000-000000000001", window_start_local: `${day}T08:00`, window_end_local: `${day}T10:00` },
    { kind: "delivery", facility_id: "c4000000-0000-4000-8000-000000000002", window_start_local: `${later}T13:00`, window_end_local: `${later}T15:00` },
  ];
};
/** A fresh quote of the demo shipper user (rates/price_one), to book. */
const shipperQuote = async () => {
  const r = await portal("rates").call("price_one", { origin: "60607", destination: "75202", equipment: "van", pickup_date: pickup }, SHIPPER_USER);
  if (r.status !== 200) throw new Error(`price_one as the shipper user: ${JSON.stringify(r.body)}`);
  return r.body.data.quote_id as string;
};
Object.assign(FIXTURES, {
  "shipper/book": { as: SHIPPER_USER, succeeds: true, input: async () => ({ quote_id: await shipperQuote(), stops: demoStops(pickup) }) },
  "shipper/tracking": { as: SHIPPER_USER, succeeds: true, input: () => ({ load_id: DEMO_LOAD }) },
  "shipper/documents": { as: SHIPPER_USER, succeeds: true, input: () => ({ load_id: DEMO_LOAD }) },
  "shipper/invoices": { as: SHIPPER_USER, succeeds: true, input: () => ({}) },
  // the demo loads belong to other files' stories: the broker's writes name nothing that exists
  "broker/route": { as: "dispatcher", succeeds: false, why: "re-routing a demo load would change other files' fixtures", input: () => ({ load_id: randomUUID(), stops: demoStops(pickup) }) },
  "broker/tender": { as: "dispatcher", succeeds: false, why: "tendering a demo load would change other files' fixtures", input: () => ({ load_id: randomUUID(), carrier_party_id: randomUUID(), rate_cents: 150000 }) },
  "broker/book": { as: "dispatcher", succeeds: false, why: "needs a live tender", input: () => ({ tender_id: randomUUID() }) },
  "broker/retender": { as: "dispatcher", succeeds: false, why: "needs a live tender", input: () => ({ tender_id: randomUUID() }) },
  "broker/withdraw_tender": { as: "dispatcher", succeeds: false, why: "the reverse of retender", input: () => ({ tender_id: randomUUID() }) },
  "broker/cancel": { as: "dispatcher", succeeds: false, why: "cancelling a demo load would change other files' fixtures", input: () => ({ load_id: randomUUID(), reason: "matrix" }) },
  "broker/message": { as: "ops", succeeds: true, input: () => ({ load_id: DEMO_LOAD, to: ["shipper"], body: `contract matrix ${RUN}` }) },
  "broker/flag_appointment_risk": { as: "ops", succeeds: false, why: "an agent's task on a load at risk", input: () => ({ load_id: randomUUID(), stop_id: randomUUID(), reason: "matrix" }) },
  "broker/clear_appointment_risk": { as: "ops", succeeds: false, why: "the reverse of flag_appointment_risk", input: () => ({ load_id: randomUUID(), reason: "matrix", message_id: randomUUID() }) },
  "broker/sla_timers": { as: "ops", succeeds: true, input: () => ({ load_id: DEMO_LOAD }) },
  "broker/scorecard": { as: "ops", succeeds: true, input: () => ({}) },
  "broker/revert": { as: "ops", succeeds: false, why: "needs an agent's reversible run", input: () => ({ trace_id: hex(16) }) },
  "broker/revert_clear": { as: "ops", succeeds: false, why: "needs a reverted run", input: () => ({ trace_id: hex(16) }) },
  // the load board's writes name nothing that exists (posting a demo load would change its board)
  "load_board/post": { as: "dispatcher", succeeds: false, why: "posting a demo load would change other files' fixtures", input: () => ({ load_id: randomUUID(), target_rate_cents: 180000 }) },
  "load_board/update_post": { as: "dispatcher", succeeds: false, why: "needs an open post", input: () => ({ post_id: randomUUID(), target_rate_cents: 175000 }) },
  "load_board/withdraw_post": { as: "dispatcher", succeeds: false, why: "needs an open post", input: () => ({ post_id: randomUUID() }) },
  "load_board/board": { as: "ops", succeeds: true, input: () => ({}) },
  "load_board/bid": { as: "dispatcher", succeeds: false, why: "needs an open post", input: () => ({ post_id: randomUUID(), amount_cents: 170000, carrier_party_id: randomUUID() }) },
  "load_board/withdraw_bid": { as: "dispatcher", succeeds: false, why: "needs an open bid", input: () => ({ bid_id: randomUUID() }) },
  "load_board/accept_bid": { as: "dispatcher", succeeds: false, why: "needs an open bid", input: () => ({ bid_id: randomUUID() }) },
  "load_board/escrow": { as: "ops", succeeds: true, input: () => ({}) },
  "load_board/merge_post": { as: "ops", succeeds: false, why: "an agent's task on duplicate posts", input: () => ({ post_id: randomUUID(), into_post_id: randomUUID() }) },
  "load_board/unmerge_post": { as: "ops", succeeds: false, why: "the reverse of merge_post", input: () => ({ post_id: randomUUID() }) },
  "load_board/expire_bid": { as: "ops", succeeds: false, why: "an agent's task on a bid past its deadline", input: () => ({ bid_id: randomUUID() }) },
  "load_board/reopen_bid": { as: "ops", succeeds: false, why: "the reverse of expire_bid", input: () => ({ bid_id: randomUUID() }) },
  "load_board/revert": { as: "ops", succeeds: false, why: "needs an agent's reversible run", input: () => ({ trace_id: hex(16) }) },
  "load_board/revert_clear": { as: "ops", succeeds: false, why: "needs a reverted run", input: () => ({ trace_id: hex(16) }) },
} satisfies Record<string, Fixture>);
// TMS Admin writes go to the matrix's tenant (no other file reads its settings).
Object.assign(FIXTURES, {
  "tms_admin/equipment_type_upsert": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({ code: "van", name: "Matrix van" }) },
  "tms_admin/lane_upsert": {
    as: "super", tenant: MATRIX_TENANT, succeeds: true,
    input: () => ({ name: `Matrix lane ${RUN}`, origin_region: "IL", destination_region: "TX", equipment_type: "van" }),
  },
  "tms_admin/accessorial_upsert": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({ code: "MATRIX", name: "Matrix fee", default_rate_cents: 100 }) },
  "tms_admin/guard_upsert": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({ label: `matrix-${RUN}`, min_margin_pct: 5 }) },
  "tms_admin/guard_delete": { as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs a guard", input: () => ({ id: randomUUID() }) },
  "tms_admin/edi_partner_upsert": {
    as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs a shipper or carrier party of the tenant",
    input: () => ({ party_id: randomUUID(), isa_qualifier: "ZZ", isa_id: "MATRIX", gs_id: "MATRIX", our_isa_qualifier: "ZZ", our_isa_id: "US", our_gs_id: "US", transaction_sets: ["204"], usage: "test" }),
  },
  "tms_admin/sla_set": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({ key: "broker.checkCallMinutes", value: 240, reason: "contract matrix" }) },
  "tms_admin/settings": { as: "ops", succeeds: true, input: () => ({}) },
  // an interchange from a sender that is no partner of the tenant: stored, answered rejected (200)
  "edi/receive": { as: "n8n", succeeds: true, input: () => ({ interchange: `ISA*00**00**ZZ*MATRIX${hex(3).toUpperCase()}*ZZ*NOBODY*261202*0930*U*00401*1*0*T*>~GS*SM*A*B*20261202*0930*1*X*004010~ST*204*0001~B2A*00~SE*3*0001~GE*1*1~IEA*1*1~` }) },
  "edi/mailbox": { as: "n8n", succeeds: false, why: "needs a trading partner", input: () => ({ partner_id: randomUUID() }) },
  "edi/interchanges": { as: "ops", succeeds: true, input: () => ({}) },
  "admin/invite": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({ email: `matrix-${hex(4)}@admin.example`, roles: ["viewer"] }) },
  "admin/set_roles": { as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs a member of the tenant", input: () => ({ principal_id: randomUUID(), roles: ["viewer"] }) },
  "admin/deactivate": { as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs an active member", input: () => ({ principal_id: randomUUID(), reason: "contract matrix" }) },
  "admin/reactivate": { as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs a deactivated member", input: () => ({ principal_id: randomUUID() }) },
  "admin/branding_set": {
    as: "super", tenant: MATRIX_TENANT, succeeds: true,
    input: () => ({ display_name: "Matrix Co", logo_url: "https://cdn.example.com/matrix.svg", primary_color: "#0a0b0c", accent_color: null }),
  },
  "admin/sso_set": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({ required: false, provider: null }) },
  "admin/secret_put": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({ name: "matrix.key", value: `matrix-secret-${hex(4)}` }) },
} satisfies Record<string, Fixture>);

// The demo carrier Prairie Haulers' user (supabase/seeds/20_freight.sql): its own reads; writes on demo tenders would change other files' fixtures.
const CARRIER_USER = "e0000000-0000-4000-8000-000000000011";
const carrierRead = (input: () => unknown): Fixture => ({ as: CARRIER_USER, succeeds: true, input });
Object.assign(FIXTURES, {
  "carrier/tenders": carrierRead(() => ({})),
  "carrier/loads": carrierRead(() => ({})),
  "carrier/fleet": carrierRead(() => ({})),
  "carrier/capacity": carrierRead(() => ({})),
  "carrier/contract_lanes": carrierRead(() => ({})),
  "carrier/compliance": carrierRead(() => ({})),
  "carrier/scorecard": carrierRead(() => ({})),
  // the seeded figure for that lane and day (30_carrier.sql): writing it changes nothing
  "carrier/capacity_set": { as: CARRIER_USER, succeeds: true, input: () => ({ origin_region: "IL", destination_region: "TX", equipment_type: "van", available_on: pickup, trucks: 3 }) },
  "carrier/accept": { as: CARRIER_USER, succeeds: false, why: "needs a live tender", input: () => ({ tender_id: randomUUID() }) },
  "carrier/decline": { as: CARRIER_USER, succeeds: false, why: "needs a live tender", input: () => ({ tender_id: randomUUID() }) },
  "carrier/counter": { as: CARRIER_USER, succeeds: false, why: "needs a live tender", input: () => ({ tender_id: randomUUID(), rate_cents: 150000 }) },
  "carrier/dispatch": { as: CARRIER_USER, succeeds: false, why: "needs a covered load", input: () => ({ load_id: randomUUID(), driver_id: randomUUID(), tractor_id: randomUUID() }) },
  "carrier/insurance_submit": {
    as: CARRIER_USER, succeeds: false, why: "needs an uploaded certificate",
    input: () => ({ kind: "cargo", amount_cents: 10_000_000, effective_on: pickup, expires_on: "2099-01-01", document_id: randomUUID() }),
  },
  "carrier/suspend_carrier": { as: "ops", succeeds: false, why: "an agent's task on a lapsing carrier", input: () => ({ carrier_party_id: randomUUID(), reason: "insurance" }) },
  "carrier/reinstate_carrier": { as: "ops", succeeds: false, why: "the reverse of suspend_carrier", input: () => ({ block_id: randomUUID(), clear_reason: "matrix" }) },
  "carrier/revert": { as: "ops", succeeds: false, why: "needs an agent's reversible run", input: () => ({ trace_id: hex(16) }) },
  "carrier/revert_clear": { as: "ops", succeeds: false, why: "needs a reverted run", input: () => ({ trace_id: hex(16) }) },
} satisfies Record<string, Fixture>);

// Owner Operator and Workers: reads answer empty for the demo ops manager; writes name nothing that exists (or the matrix's tenant).
Object.assign(FIXTURES, {
  "owner_operator/loads": { as: "ops", succeeds: true, input: () => ({ carrier_party_id: randomUUID() }) },
  "owner_operator/settlements": { as: "ops", succeeds: true, input: () => ({ carrier_party_id: randomUUID() }) },
  "owner_operator/maintenance": { as: "ops", succeeds: true, input: () => ({ carrier_party_id: randomUUID() }) },
  "owner_operator/miles_record": { as: "ops", succeeds: false, why: "needs an owner operator's load", input: () => ({ load_id: randomUUID(), loaded_miles: 900 }) },
  "owner_operator/fuel_advance": { as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs an owner operator", input: () => ({ carrier_party_id: randomUUID(), amount_cents: 25000 }) },
  "owner_operator/settle": { as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs an owner operator's delivered loads", input: () => ({ carrier_party_id: randomUUID(), load_ids: [randomUUID()] }) },
  "owner_operator/service_interval_set": { as: "ops", succeeds: false, why: "needs an owner operator's unit", input: () => ({ unit_id: randomUUID(), service_kind: "pm_a", every_days: 90 }) },
  "owner_operator/odometer_set": { as: "ops", succeeds: false, why: "needs an owner operator's unit", input: () => ({ unit_id: randomUUID(), odometer_miles: 1000 }) },
  "owner_operator/service_record": { as: "ops", succeeds: false, why: "needs an owner operator's unit", input: () => ({ unit_id: randomUUID(), service_kind: "pm_a", odometer_miles: 1000 }) },
  "owner_operator/block_unit": { as: "ops", succeeds: false, why: "an agent's task on an overdue unit", input: () => ({ unit_id: randomUUID(), reason: "matrix" }) },
  "owner_operator/unblock_unit": { as: "ops", succeeds: false, why: "the reverse of block_unit", input: () => ({ block_id: randomUUID(), clear_reason: "matrix" }) },
  "owner_operator/revert": { as: "ops", succeeds: false, why: "needs an agent's reversible run", input: () => ({ trace_id: hex(16) }) },
  "owner_operator/revert_clear": { as: "ops", succeeds: false, why: "needs a reverted run", input: () => ({ trace_id: hex(16) }) },
  "workers/queues": { as: "ops", succeeds: true, input: () => ({}) },
  "workers/items": { as: "ops", succeeds: true, input: () => ({}) },
  "workers/shifts": { as: "ops", succeeds: true, input: () => ({}) },
  "workers/coverage": { as: "ops", succeeds: true, input: () => ({}) },
  "workers/enqueue": { as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "needs a work queue of the tenant", input: () => ({ queue_key: "matrix", source_type: "matrix", summary: "matrix" }) },
  "workers/close_item": { as: "ops", succeeds: false, why: "needs an open queue item", input: () => ({ item_id: randomUUID() }) },
  "workers/shift_add": { as: "ops", succeeds: false, why: "needs a worker on the roster", input: () => ({ principal_id: randomUUID(), starts_at: "2035-01-01T08:00:00Z", ends_at: "2035-01-01T16:00:00Z" }) },
  "workers/shift_end": { as: "ops", succeeds: false, why: "needs a shift", input: () => ({ shift_id: randomUUID() }) },
  // the matrix's tenant has no roster: a rebalance moves nothing
  "workers/rebalance": { as: "super", tenant: MATRIX_TENANT, succeeds: true, input: () => ({}) },
  "workers/flag_coverage_gap": {
    as: "super", tenant: MATRIX_TENANT, succeeds: false, why: "an agent's alert (one per gap)",
    input: () => ({ queue_key: "matrix", gap_start: "2035-01-01T00:00:00Z", gap_end: "2035-01-01T01:00:00Z", min_coverage: 1 }),
  },
} satisfies Record<string, Fixture>);

const CASES = ["unauthenticated", "wrong_role", "kill_switch", "portal_off", "bad_input", "idempotency"] as const;
type Case = (typeof CASES)[number];

// ---------------------------------------------------------------------------------------
// The plan, from the registry and the database (collection time)
// ---------------------------------------------------------------------------------------
await ensureTenant(MATRIX_TENANT, "contract-matrix", "Contract Matrix Co");

interface Candidate {
  as: string;
  principalId: string;
  human: boolean;
  perms: number;
  breakGlass: boolean;
}

const permCount = async (id: string) =>
  (await sql`select count(distinct rp.permission)::int as n from role_assignments ra join role_permissions rp on rp.role = ra.role
             where ra.principal_id = ${id}`)[0].n as number;
const humans: Candidate[] = await Promise.all(Object.entries(USERS).map(async ([as, id]) => ({
  as, principalId: id, human: true, perms: await permCount(id), breakGlass: await holds(id, "rails.break_glass", null),
})));
const machines: Candidate[] = await Promise.all((await serviceAccounts()).map(async (s) => ({
  as: s.name, principalId: s.principalId, human: false, perms: await permCount(s.principalId), breakGlass: await holds(s.principalId, "rails.break_glass", null),
})));
/** Least privileged first: the first who lacks a permission is the plainest wrong role. */
const byPerms = (a: Candidate, b: Candidate) => a.perms - b.perms || a.as.localeCompare(b.as);

interface Planned {
  portal: string;
  manifest: PortalManifest;
  contract: ActionContract;
  def: AnyAction;
  fixture?: Fixture;
  /** Writes refused under the kill switch / with the portal off (read actions and control levers answer). */
  haltable: boolean;
  disableable: boolean;
  wrongRole?: Candidate;
  killMachine?: Candidate;
  key: () => string | undefined;
}

const planned: Planned[] = [];
const notApplicable: { action: string; kase: Case; why: string }[] = [];

for (const entry of PORTALS) {
  const manifest = await loadManifest(entry.name);
  if (manifest.fn !== entry.fn) throw new Error(`${entry.name}: the registry says fn ${entry.fn}, the manifest ${manifest.fn}`);
  for (const [name, contract] of Object.entries(manifest.contract.actions)) {
    const def = manifest.actions.find((a) => a.name === name)!;
    const id = `${entry.name}/${name}`;
    const fixture = FIXTURES[id];
    const tenant = fixture?.tenant ?? DEMO_TENANT;
    const machineOnly = manifest.http.machineOnly === true;
    const lacking: Candidate[] = [];
    for (const c of [...(machineOnly ? [] : [...humans].sort(byPerms)), ...[...machines].sort(byPerms)]) {
      if (!c.breakGlass && !(await holds(c.principalId, def.permission, DEMO_TENANT))) lacking.push(c);
    }
    // The fixture's own caller when it is a machine, else the first machine that holds it.
    const holding: Candidate[] = [];
    for (const c of [...machines].sort((a, b) => Number(b.as === fixture?.as) - Number(a.as === fixture?.as) || a.as.localeCompare(b.as))) {
      if (!c.breakGlass && (await holds(c.principalId, def.permission, tenant))) holding.push(c);
    }
    const p: Planned = {
      portal: entry.name, manifest, contract, def, fixture,
      haltable: contract.kind === "write",
      disableable: contract.kind === "write" && def.rails !== "control",
      wrongRole: lacking[0],
      killMachine: holding[0],
      key: () => (contract.idempotency === "required" ? `matrix-${hex(8)}` : undefined),
    };
    planned.push(p);
    const na = (kase: Case, why: string) => notApplicable.push({ action: id, kase, why });
    if (!fixture) for (const k of ["wrong_role", "kill_switch", "portal_off", "idempotency"] as const) na(k, "no valid sample input (FIXTURES)");
    else {
      if (!p.wrongRole) na("wrong_role", `every candidate holds ${def.permission}`);
      if (!p.killMachine) na("kill_switch", `no machine (outside break-glass) holds ${def.permission}`);
      if (!fixture.succeeds) na("idempotency", fixture.why ?? "the sample input does not succeed");
    }
  }
}
const applies = (p: Planned, kase: Case) => !notApplicable.some((n) => n.action === `${p.portal}/${p.contract.name}` && n.kase === kase);
const label = (p: Planned) => `${p.portal}/${p.contract.name}`;

/** Top-level field names of an input schema (its JSON Schema's properties). */
function fieldNames(schema: z.ZodType): string[] {
  const js = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, unknown>; anyOf?: { properties?: object }[]; allOf?: { properties?: object }[] };
  const props = [js, ...(js.anyOf ?? []), ...(js.allOf ?? [])].flatMap((s) => Object.keys(s.properties ?? {}));
  return [...new Set(props)];
}

/** A body the schema refuses: `{}` (the routing `type` kept), else a wrong type for the first field. */
function badBody(p: Planned): Record<string, unknown> {
  const base: Record<string, unknown> = p.contract.eventType ? { type: p.contract.eventType } : {};
  if (!p.contract.input.safeParse(base).success) return base;
  const first = fieldNames(p.contract.input).find((f) => f !== "type")!;
  return { ...base, [first]: { not: "this type" } };
}

// ---------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------
beforeAll(async () => {
  // The kill switch must be off when the matrix starts (a previous file left it on?).
  const [r] = await sql`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`;
  expect(r.value).toBe("false");
});

afterAll(async () => {
  const actions = planned.length;
  const total = actions * CASES.length;
  console.log(`contract matrix: ${actions} actions x ${CASES.length} cases = ${total} checks (${notApplicable.length} not applicable)`);
  for (const n of notApplicable) console.log(`  not applicable: ${n.action} ${n.kase}: ${n.why}`);
  await sql.end();
});

describe.each(planned.map((p) => [label(p), p] as const))("%s", (_name, p) => {
  const client = portal(p.portal);
  const fresh = () => p.fixture!.input();

  it("unauthenticated -> 401 missing_authorization", async () => {
    await expectProblem(await client.call(p.contract.name, {}, null, { idempotencyKey: p.key() }), 401, "missing_authorization", "no credentials");
    if (p.manifest.http.machineOnly) {
      // A user's token is no signature: machine-only portals refuse it the same way.
      await expectProblem(await client.call(p.contract.name, p.fixture ? await fresh() : {}, "ops", { idempotencyKey: p.key() }), 401, "missing_authorization", "JWT, unsigned");
    }
  });

  // Cases that do not apply are not generated (they are listed at the end).
  if (applies(p, "wrong_role")) it(`wrong role -> 403 forbidden (lacks ${p.def.permission})`, async () => {
    const r = await client.call(p.contract.name, await fresh(), p.wrongRole!.as, { idempotencyKey: p.key() });
    await expectProblem(r, 403, "forbidden", `as ${p.wrongRole!.as}`);
  });

  it("bad input -> 400 validation_failed naming a field of the schema", async () => {
    const as = p.fixture?.as ?? (p.manifest.http.machineOnly ? p.killMachine?.as ?? "n8n" : "viewer");
    const r = await client.call(p.contract.name, badBody(p), as, { tenant: p.fixture?.tenant, idempotencyKey: p.key() });
    const prob = await expectProblem(r, 400, "validation_failed", `as ${as}`);
    const fields = fieldNames(p.contract.input);
    const paths: string[] = (prob.errors ?? []).map((e: { path: string }) => e.path);
    expect(paths.some((path) => fields.includes(path.split(".")[0])), `errors[].path ${JSON.stringify(paths)} name one of ${fields.join(", ")}`).toBe(true);
  });

  if (applies(p, "idempotency")) it("the same idempotency key replays the same body", async () => {
    const f = p.fixture!;
    const input = await fresh();
    const key = `matrix-${p.contract.name}-${hex(8)}`;
    const first = await client.call(p.contract.name, input, f.as, { tenant: f.tenant, idempotencyKey: key });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.headers.get("idempotency-replayed")).toBeNull();
    const again = await client.call(p.contract.name, input, f.as, { tenant: f.tenant, idempotencyKey: key });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);
  });
});

// Only portals with a portal_off case (an empty describe would fail with its flag left off).
const offPortals = PORTALS.map((e) => e.name).filter((name) => planned.some((p) => p.portal === name && applies(p, "portal_off")));
describe.each(offPortals.map((name) => [name] as const))("portal.enabled false for %s", (name) => {
  const scope = `portal:${name}`;
  let restore: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    restore = await setFlag("portal.enabled", scope, "false", { reason: "contract matrix: portal off" });
  });
  afterAll(async () => {
    await restore?.();
  });
  const mine = planned.filter((p) => p.portal === name && applies(p, "portal_off"));
  it.each(mine.map((p) => [label(p), p] as const))("%s", async (_l, p) => {
    const f = p.fixture!;
    const r = await portal(name).call(p.contract.name, await f.input(), f.as, { tenant: f.tenant, idempotencyKey: p.key() });
    if (p.disableable) {
      await expectProblem(r, 403, "portal_disabled", `${label(p)} as ${f.as}`);
    } else {
      // Read actions and the switchboard's levers answer with the portal off.
      expect(r.body?.code, JSON.stringify(r.body)).not.toBe("portal_disabled");
      if (f.succeeds) expect(r.status, JSON.stringify(r.body)).toBe(200);
      else expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
    }
  });
});

describe("machines under the kill switch (one stop window for every portal)", () => {
  const mine = planned.filter((p) => applies(p, "kill_switch"));
  it(`${mine.length} actions: writes refused 503 autonomy_halted, reads answer; resumed in a finally`, async () => {
    // Inputs first (fixtures may write: a dead DLQ entry), so the stop window holds only the calls.
    const inputs = await Promise.all(mine.map((p) => p.fixture!.input()));
    const answers = await withEmergencyStop(() =>
      Promise.all(mine.map((p, i) =>
        portal(p.portal).call(p.contract.name, inputs[i], p.killMachine!.as, { tenant: p.fixture!.tenant, idempotencyKey: p.key() })
      ))
    );
    const [after] = await sql`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`;
    expect(after.value).toBe("false");
    for (const [i, p] of mine.entries()) {
      const r = answers[i];
      const where = `${label(p)} as ${p.killMachine!.as}`;
      if (p.haltable) {
        await expect.soft(expectProblem(r, 503, "autonomy_halted", where)).resolves.toBeDefined();
        expect.soft(Number(r.headers.get("retry-after")), `${where}: Retry-After`).toBeGreaterThan(0);
      } else {
        expect.soft(r.body?.code, `${where}: ${JSON.stringify(r.body)}`).not.toBe("autonomy_halted");
        expect.soft(r.status, `${where}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
      }
    }
  });
});
