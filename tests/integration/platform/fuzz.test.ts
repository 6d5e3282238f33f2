/**
 * Issue 11 item 13: inputs are normalized and validated before any SQL.
 *
 * - Regression: a NUL byte in a JSON string answered 500 (Postgres text / jsonb refuse
 *   \u0000); an upper-case `?tenant=` dropped a whole batch of request metrics (two keys
 *   for one uuid in one upsert: "ON CONFLICT DO UPDATE command cannot affect row a second
 *   time").
 * - Class: a schema fuzz over every action of every portal (from the registry's
 *   manifests), over real HTTP, finds no 5xx, and every refusal is problem+json.
 */
import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { DEMO_TENANT, machineKey, USERS, userJwt } from "../../helpers/auth.ts";
import { pinGlobalFlags } from "../../helpers/flags.ts";
import { loadManifest, PORTALS } from "../../../packages/portals/registry.ts";
import type { PortalManifest } from "../../../packages/shared/pipeline/manifest.ts";
import { signRequest } from "../../../packages/shared/security/hmac.ts";

const sql = postgres(stackEnv.dbUrl, { prepare: false, max: 4, onnotice: () => {} });
pinGlobalFlags(sql, { "autonomy.emergencyStop": "false", "autonomy.mode": "FULL" }, "fuzz.test");

/** A tenant of its own, so that whatever a fuzz case manages to write stays there. */
const FUZZ_TENANT = randomUUID();
const pickup = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
const later = new Date(Date.now() + 40 * 86400_000).toISOString().slice(0, 10);
const trace = () => randomBytes(16).toString("hex");

/**
 * One valid body per action (portal.action). A new action without a seed fails the fuzz:
 * the seed is what lets each mutation reach past the first field check.
 */
const SEEDS: Record<string, () => unknown> = {
  "rates.price_one": () => ({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup, hints: { customer_ref: "fuzz-customer" } }),
  "rates.contract_upsert": () => ({
    customer_ref: "fuzz-customer", origin: "606", destination: "752", equipment: "van",
    rate: { kind: "per_mile", per_mile: 2.4 }, valid_from: pickup, valid_to: later, notes: "fuzz contract",
  }),
  "rates.index_ingest": () => ({
    csv: `origin_zip3,destination_zip3,equipment,rate_per_mile,effective_date,source\n606,752,van,2.45,${pickup},fuzz-${randomBytes(3).toString("hex")}`,
  }),
  "rates.escalate_quote": () => ({ quote_id: randomUUID() }),
  "rates.deescalate_quote": () => ({ quote_id: randomUUID(), escalated_at: new Date().toISOString() }),
  "rates.flag_stale_index": () => ({ last_ingested_at: new Date(Date.now() - 20 * 86400_000).toISOString(), stale_days: 7 }),
  "rates.revert": () => ({ trace_id: trace() }),
  "rates.revert_clear": () => ({ trace_id: trace() }),
  "crm.lead_created": () => ({
    type: "lead.created", occurred_at: new Date().toISOString(),
    data: { page: "/pricing", email: "fuzz@shipper.example", name: "Fuzz Lead", company: "Fuzz Co", phone: "+1 555 0100", utm: { source: "google", campaign: "fuzz" } },
  }),
  "crm.demo_requested": () => ({
    type: "demo.requested", data: { page: "/demo", email: "fuzz@shipper.example", name: "Fuzz Lead", preferred_date: later, utm: { medium: "cpc" } },
  }),
  "crm.roi_calculated": () => ({
    type: "roi.calculated", data: { page: "/roi", email: "fuzz@shipper.example", inputs: { loads_per_month: 400, avg_rate_usd: 2100, team_size: 5 }, result: { monthly_savings_usd: 18250, payback_months: 2 } },
  }),
  "crm.checkout_started": () => ({
    type: "checkout.started", data: { page: "/checkout", email: "fuzz@shipper.example", plan: "growth", seats: 5, currency: "USD", utm: { term: "tms" } },
  }),
  "crm.checkout_session_created": () => ({
    type: "checkout.session_created",
    data: { page: "/checkout", checkout_event_id: randomUUID(), session_id: "cs_test_fuzz", amount_total: 24500, currency: "usd", plan: "growth", seats: 5 },
  }),
  "autonomous.replay": () => ({ all: true, dry_run: true }),
  "autonomous.approve": () => ({ request_id: randomUUID(), approve: false, note: "fuzz note" }),
  // Never engages: boolean fields are only ever replaced by non-booleans below.
  "autonomous.kill_switch": () => ({ engage: false, reason: "fuzz: stays released" }),
  "autonomous.quarantine_release": () => ({ quarantine_id: randomUUID(), reason: "fuzz release" }),
  "shipper.book": () => ({
    quote_id: randomUUID(), customer_reference: "PO-fuzz", weight_lbs: 38000, commodity: "fuzz goods",
    stops: [
      { kind: "pickup", facility_id: randomUUID(), window_start_local: `${pickup}T08:00`, window_end_local: `${pickup}T10:00`, reference: "fuzz-1" },
      { kind: "delivery", facility_id: randomUUID(), window_start_local: `${later}T13:00`, window_end_local: `${later}T15:00` },
    ],
  }),
  "shipper.tracking": () => ({ load_id: randomUUID() }),
  "shipper.documents": () => ({ load_id: randomUUID() }),
  "shipper.invoices": () => ({ load_id: randomUUID() }),
  "broker.route": () => ({
    load_id: randomUUID(), equipment_type: "van", weight_lbs: 30000, commodity: "fuzz",
    stops: [
      { kind: "pickup", facility_id: randomUUID(), window_start_local: `${pickup}T08:00`, window_end_local: `${pickup}T10:00` },
      { kind: "delivery", facility_id: randomUUID(), window_start_local: `${later}T13:00`, window_end_local: `${later}T15:00` },
    ],
  }),
  "broker.tender": () => ({ load_id: randomUUID(), carrier_party_id: randomUUID(), rate_cents: 150000, sla_minutes: 45 }),
  "broker.book": () => ({ tender_id: randomUUID(), note: "fuzz note" }),
  "broker.retender": () => ({ tender_id: randomUUID(), carrier_party_id: randomUUID(), rate_cents: 150000 }),
  "broker.withdraw_tender": () => ({ tender_id: randomUUID(), reason: "fuzz reason" }),
  "broker.cancel": () => ({ load_id: randomUUID(), reason: "fuzz reason", tonu_cents: 25000, bill_shipper_cents: 10000 }),
  "broker.message": () => ({ load_id: randomUUID(), to: ["shipper", "carrier"], body: "fuzz message" }),
  "broker.flag_appointment_risk": () => ({ load_id: randomUUID(), stop_id: randomUUID(), reason: "fuzz reason" }),
  "broker.clear_appointment_risk": () => ({ load_id: randomUUID(), reason: "fuzz reason", message_id: randomUUID() }),
  "broker.sla_timers": () => ({ load_id: randomUUID() }),
  "broker.scorecard": () => ({ carrier_party_id: randomUUID() }),
  "broker.revert": () => ({ trace_id: trace() }),
  "broker.revert_clear": () => ({ trace_id: trace() }),
  "carrier.tenders": () => ({ status: "all" }),
  "carrier.accept": () => ({ tender_id: randomUUID(), note: "fuzz note" }),
  "carrier.decline": () => ({ tender_id: randomUUID(), reason: "fuzz reason" }),
  "carrier.counter": () => ({ tender_id: randomUUID(), rate_cents: 150000, note: "fuzz note" }),
  "carrier.dispatch": () => ({ load_id: randomUUID(), driver_id: randomUUID(), tractor_id: randomUUID(), trailer_id: randomUUID() }),
  "carrier.loads": () => ({ status: "all" }),
  "carrier.fleet": () => ({ status: "all" }),
  "carrier.capacity_set": () => ({ carrier_party_id: randomUUID(), origin_region: "IL", destination_region: "TX", equipment_type: "van", available_on: later, trucks: 3 }),
  "carrier.capacity": () => ({ from: pickup, to: later }),
  "carrier.contract_lanes": () => ({ include_expired: true }),
  "carrier.compliance": () => ({ carrier_party_id: randomUUID() }),
  "carrier.insurance_submit": () => ({
    carrier_party_id: randomUUID(), kind: "cargo", insurer: "Fuzz Mutual", policy_number: "FZ-1", amount_cents: 10_000_000, currency: "USD",
    effective_on: pickup, expires_on: later, document_id: randomUUID(),
  }),
  "carrier.scorecard": () => ({ carrier_party_id: randomUUID() }),
  "carrier.suspend_carrier": () => ({ carrier_party_id: randomUUID(), reason: "insurance", kind: "cargo", covered_until: later }),
  "carrier.reinstate_carrier": () => ({ block_id: randomUUID(), clear_reason: "fuzz reason" }),
  "carrier.revert": () => ({ trace_id: trace() }),
  "carrier.revert_clear": () => ({ trace_id: trace() }),
  "load_board.post": () => ({ load_id: randomUUID(), target_rate_cents: 180000, expires_at: new Date(Date.now() + 86_400_000).toISOString(), on_duplicate: "merge" }),
  "load_board.update_post": () => ({ post_id: randomUUID(), target_rate_cents: 175000, expires_at: null, refresh_lane: true }),
  "load_board.withdraw_post": () => ({ post_id: randomUUID(), reason: "fuzz reason" }),
  "load_board.board": () => ({ equipment_type: "van", pickup_from: later, pickup_to: later, origin_region: "IL", destination_region: "TX", include_closed: true }),
  "load_board.bid": () => ({ post_id: randomUUID(), amount_cents: 170000, note: "fuzz note", carrier_party_id: randomUUID() }),
  "load_board.withdraw_bid": () => ({ bid_id: randomUUID() }),
  "load_board.accept_bid": () => ({ bid_id: randomUUID() }),
  "load_board.escrow": () => ({ load_id: randomUUID() }),
  "load_board.merge_post": () => ({ post_id: randomUUID(), into_post_id: randomUUID() }),
  "load_board.unmerge_post": () => ({ post_id: randomUUID() }),
  "load_board.expire_bid": () => ({ bid_id: randomUUID() }),
  "load_board.reopen_bid": () => ({ bid_id: randomUUID() }),
  "load_board.revert": () => ({ trace_id: trace() }),
  "load_board.revert_clear": () => ({ trace_id: trace() }),
  "driver.stops": () => ({ status: "all" }),
  "driver.status": () => ({ stop_id: randomUUID(), kind: "arrived", at: new Date().toISOString(), note: "fuzz note" }),
  "driver.sync": () => ({ device_id: "fuzz-phone", events: [{ client_event_id: randomUUID(), client_at: new Date().toISOString(), device_seq: 1, kind: "position", payload: { lat: 41.9, lon: -87.6 } }] }),
  "driver.changes": () => ({ cursor: 0, limit: 10 }),
  "driver.flag_eta_risk": () => ({ load_id: randomUUID(), stop_id: randomUUID(), reason: "fuzz reason", eta: new Date().toISOString() }),
  "driver.clear_eta_risk": () => ({ load_id: randomUUID(), reason: "fuzz reason" }),
  "driver.pod_missing": () => ({ load_id: randomUUID(), delivered_at: new Date().toISOString() }),
  "driver.pod_missing_withdraw": () => ({ load_id: randomUUID(), task_event_id: randomUUID() }),
  "driver.revert": () => ({ trace_id: trace() }),
  "driver.revert_clear": () => ({ trace_id: trace() }),
  "financials.invoice_release": () => ({ load_id: randomUUID(), lines: [{ kind: "linehaul", amount_cents: 1000 }] }),
  "financials.credit_memo": () => ({ invoice_id: randomUUID(), amount_cents: 100, reason: "fuzz" }),
  "financials.payment_apply": () => ({ invoice_id: randomUUID(), amount_cents: 100, external_ref: "fuzz-1" }),
  "financials.bill_receive": () => ({ load_id: randomUUID(), invoice_number: "FZ-1", amount_cents: 100 }),
  "financials.bill_approve": () => ({ bill_id: randomUUID() }),
  "financials.bill_unapprove": () => ({ bill_id: randomUUID() }),
  "financials.payout_run": () => ({ run_key: "fuzz-run" }),
  "financials.trial_balance": () => ({}),
  "financials.revert": () => ({ trace_id: trace() }),
  "financials.revert_clear": () => ({ trace_id: trace() }),
  "factoring.noa_record": () => ({ carrier_party_id: randomUUID(), factor_party_id: randomUUID() }),
  "factoring.noa_release": () => ({ noa_id: randomUUID(), reason: "fuzz" }),
  "factoring.noas": () => ({ status: "all" }),
  "autonomous.flag_set": () => ({ key: "outbox.retryBaseMs", scope: `tenant:${FUZZ_TENANT}`, value: 500, reason: "fuzz flag change" }),
  "tms_admin.equipment_type_upsert": () => ({ code: "reefer", name: "Fuzz reefer", length_ft: 53, max_weight_lbs: 43000, temperature_controlled: true, active: true }),
  "tms_admin.lane_upsert": () => ({ name: "Fuzz lane", origin_city: "Chicago", origin_region: "IL", destination_city: "Dallas", destination_region: "TX", equipment_type: "van", miles: 925, active: true }),
  "tms_admin.accessorial_upsert": () => ({ code: "FUZZ", name: "Fuzz fee", unit: "hour", default_rate_cents: 7500, currency: "USD", active: true }),
  "tms_admin.guard_upsert": () => ({ id: randomUUID(), label: "fuzz guard", equipment: "van", origin: "606", destination: "east_north_central", min_margin_pct: 5, max_index_deviation_pct: 10, floor_total_cents: 10000, ceiling_total_cents: 900000, floor_per_mile_cents: 100, ceiling_per_mile_cents: 900 }),
  "tms_admin.guard_delete": () => ({ id: randomUUID() }),
  "tms_admin.edi_partner_upsert": () => ({
    party_id: randomUUID(), isa_qualifier: "ZZ", isa_id: "FUZZ", gs_id: "FUZZ", our_isa_qualifier: "ZZ", our_isa_id: "US", our_gs_id: "US",
    transaction_sets: ["204", "990"], usage: "test", transport: "as2", credential_ref: `${FUZZ_TENANT}/fuzz-edi`, ack_window_minutes: 60, active: true,
  }),
  "tms_admin.sla_set": () => ({ key: "broker.checkCallMinutes", value: 240, reason: "fuzz policy change" }),
  "tms_admin.settings": () => ({ section: "lanes" }),
  "owner_operator.loads": () => ({ carrier_party_id: randomUUID(), status: "all" }),
  "owner_operator.miles_record": () => ({ load_id: randomUUID(), loaded_miles: 900, empty_miles: 50 }),
  "owner_operator.fuel_advance": () => ({ carrier_party_id: randomUUID(), amount_cents: 25000, note: "fuzz note" }),
  "owner_operator.settle": () => ({ carrier_party_id: randomUUID(), load_ids: [randomUUID()], deductions: { escrow_cents: 1000, lease_cents: 2000, insurance_cents: 300 } }),
  "owner_operator.settlements": () => ({ carrier_party_id: randomUUID() }),
  "owner_operator.maintenance": () => ({ carrier_party_id: randomUUID() }),
  "owner_operator.service_interval_set": () => ({ unit_id: randomUUID(), service_kind: "pm_a", every_miles: 15000, every_days: 90 }),
  "owner_operator.odometer_set": () => ({ unit_id: randomUUID(), odometer_miles: 120000 }),
  "owner_operator.service_record": () => ({ unit_id: randomUUID(), service_kind: "pm_a", performed_on: pickup, odometer_miles: 120500, cost_cents: 48500, note: "fuzz note" }),
  "owner_operator.block_unit": () => ({ unit_id: randomUUID(), reason: "fuzz reason" }),
  "owner_operator.unblock_unit": () => ({ block_id: randomUUID(), clear_reason: "fuzz reason" }),
  "owner_operator.revert": () => ({ trace_id: trace() }),
  "owner_operator.revert_clear": () => ({ trace_id: trace() }),
  "workers.queues": () => ({ queue_key: "exceptions" }),
  "workers.items": () => ({ mine: true, queue_key: "exceptions" }),
  "workers.enqueue": () => ({ queue_key: "exceptions", source_type: "freight.load", source_id: randomUUID(), summary: "fuzz summary", priority: 2, dedupe_key: "fuzz-key" }),
  "workers.close_item": () => ({ item_id: randomUUID(), status: "done", resolution: "fuzz resolution" }),
  "workers.shifts": () => ({ from: new Date().toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() }),
  "workers.shift_add": () => ({ principal_id: randomUUID(), starts_at: new Date(Date.now() + 86_400_000).toISOString(), ends_at: new Date(Date.now() + 90_000_000).toISOString() }),
  "workers.shift_end": () => ({ shift_id: randomUUID() }),
  "workers.coverage": () => ({ from: new Date().toISOString(), hours: 24 }),
  "workers.rebalance": () => ({ reason: "fuzz reason" }),
  "workers.flag_coverage_gap": () => ({ queue_key: "exceptions", gap_start: new Date().toISOString(), gap_end: new Date(Date.now() + 3_600_000).toISOString(), min_coverage: 1 }),
  "directory.party_create": () => ({ kind: "carrier", name: `Fuzz Carrier ${randomBytes(3).toString("hex")}`, legal_name: "Fuzz Carrier LLC", dot_number: "1234567", mc_number: "7654321", scac: "FUZZ" }),
  "directory.party_screen": () => ({ party_id: randomUUID() }),
  "directory.sanctions_load": () => ({
    source: "fuzz-sdn", sdn_csv: `36,"FUZZ SANCTIONED CO",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- `,
    alt_csv: `36,1,"aka","FUZZ ALIAS",-0- `, add_csv: `36,1,"1 Fuzz St","Fuzz City","Nowhere",-0- `,
  }),
  "directory.sanctions_clear": () => ({ block_id: randomUUID(), clear_reason: "fuzz clear reason" }),
  "directory.census_import": () => ({
    csv: "dot_number,mc_number,legal_name,allowed_to_operate,authority_status,insurance_on_file_thousands,insurance_required_thousands,safety_rating,out_of_service_date\n1234567,MC-7654321,Fuzz,Y,A,750,750,S,\n",
  }),
  "directory.carrier_block": () => ({ carrier_party_id: randomUUID(), reason: "authority", note: "fuzz note" }),
  "directory.carrier_unblock": () => ({ block_id: randomUUID(), clear_reason: "fuzz clear reason" }),
  "directory.kyc_upsert": () => ({
    party_id: randomUUID(), legal_name: "Fuzz LLC", ein: "12-3456789", address_line: "1 Fuzz St", city: "Chicago", region: "IL", postal_code: "60601",
    country: "US", w9_document_id: randomUUID(), beneficial_owners: [{ name: "Fuzz Owner", ownership_pct: 50 }],
  }),
  "directory.watchlist_set": () => ({ list_name: "fuzz_list", party_id: randomUUID(), listed: true, note: "fuzz note" }),
  "directory.party": () => ({ party_id: randomUUID() }),
  "directory.revert": () => ({ trace_id: trace() }),
  "directory.revert_clear": () => ({ trace_id: trace() }),
  "super_admin.tenant_provision": () => ({
    slug: `fuzz-prov-${FUZZ_TENANT.slice(0, 8)}`, name: "Fuzz Provisioned", admin_email: `admin@fuzz-prov-${FUZZ_TENANT.slice(0, 8)}.test`,
    portals: ["directory"], budget: { daily_usd: 10, monthly_usd: 100, max_concurrent: 5 }, subscriptions: [],
  }),
  "super_admin.tenant_suspend": () => ({ tenant_id: randomUUID(), suspend: true, reason: "fuzz suspension" }),
  "super_admin.tenant_export": () => ({ tenant_id: randomUUID() }),
  "super_admin.tenant_delete": () => ({ tenant_id: randomUUID() }),
  "edi.receive": () => ({ interchange: "ISA*00**00**ZZ*FUZZ*ZZ*NOBODY*261202*0930*U*00401*1*0*T*>~GS*SM*A*B*20261202*0930*1*X*004010~ST*204*0001~B2A*00~SE*3*0001~GE*1*1~IEA*1*1~" }),
  "edi.mailbox": () => ({ partner_id: "00000000-0000-4000-8000-00000000ed10", limit: 5 }),
  "edi.interchanges": () => ({ state: "rejected", limit: 10 }),
  "admin.invite": () => ({ email: `fuzz-${randomBytes(3).toString("hex")}@admin.example`, roles: ["viewer"], ttl_hours: 24 }),
  "admin.set_roles": () => ({ principal_id: randomUUID(), roles: ["viewer"] }),
  "admin.deactivate": () => ({ principal_id: randomUUID(), reason: "fuzz deactivation" }),
  "admin.reactivate": () => ({ principal_id: randomUUID() }),
  "admin.branding_set": () => ({ display_name: "Fuzz Co", logo_url: "https://cdn.example.com/fuzz.svg", primary_color: "#123456", accent_color: "#abcdef" }),
  "admin.sso_set": () => ({ required: true, provider: { protocol: "saml", entity_id: "urn:fuzz:idp", metadata_url: "https://idp.example.com/meta", domains: ["fuzz.example"] } }),
  "admin.secret_put": () => ({ name: "fuzz.key", value: "fuzz-secret-value", overlap_hours: 1 }),
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const deep = (n: number): unknown => (n === 0 ? "\u0000" : { a: [deep(n - 1)] });

/** What replaces a string leaf: NULs, odd unicode, sizes, and every wrong type. */
const STRINGS: [string, unknown][] = [
  ["nul", "\u0000"],
  ["nul-inside", "ab\u0000cd"],
  ["lone-high-surrogate", "\ud800"],
  ["lone-low-surrogate", "x\udc00y"],
  ["rtl-override", "\u202eevil\u202c"],
  ["rtl-mark", "\u200fabc"],
  ["bom-zero-width", "\ufeff\u200b"],
  ["combining", "e\u0301\u0301\u0301"],
  ["emoji", "🚚🧨"],
  ["10k", "x".repeat(10_000)],
  ["empty", ""],
];
const NUMBERS: [string, unknown][] = [
  ["1e308", 1e308],
  ["-1e308", -1e308],
  ["-0", -0],
  ["2^63", 2 ** 63],
  ["-2^63", -(2 ** 63)],
  ["2^53+2", 2 ** 53 + 2],
  ["fraction", 0.1 + 0.2],
  ["-1", -1],
];
const WRONG: [string, unknown][] = [
  ["null", null],
  ["object", {}],
  ["array", []],
  ["nested-junk", { $junk: [[[{ "\u0000": "\u0000", "\ud800": [1e308, null, {}] }]]] }],
  ["deep-50", deep(50)],
  ["numeric-string", "12345"],
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Case {
  label: string;
  body: string;
  /** Overrides ?tenant= for machine callers / the JWT tenant claim. */
  tenant?: string;
}

/** Every leaf path of a seed (arrays by index, objects by key). */
function leaves(v: Json, path: (string | number)[] = []): { path: (string | number)[]; value: Json }[] {
  if (v !== null && typeof v === "object") {
    return Object.entries(v).flatMap(([k, x]) => leaves(x as Json, [...path, Array.isArray(v) ? Number(k) : k]));
  }
  return [{ path, value: v }];
}

function setAt(v: Json, path: (string | number)[], x: unknown): Json {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path[path.length - 1]] = x;
  return copy as Json;
}

/** Raw JSON texts that JSON.stringify cannot produce (JSON.parse turns them into odd values). */
const RAW: [string, string][] = [
  ["1e309", "1e309"],
  ["-0-literal", "-0"],
  ["2^63-literal", "9223372036854775808"],
  ["40-digits", "1234567890123456789012345678901234567890"],
  ["escaped-nul", '"\\u0000"'],
  ["escaped-surrogate", '"\\ud800\\udbff"'],
];
const PLACEHOLDER = "__fuzz_raw__";

function cases(seed: Json): Case[] {
  const out: Case[] = [];
  for (const { path, value } of leaves(seed)) {
    const at = path.join(".");
    // The discriminators (type, kind) stay: they pick the schema the rest is checked against.
    if (at === "type") continue;
    const replacements = [...STRINGS, ...NUMBERS, ...WRONG]
      // A boolean is never replaced by a boolean: the kill switch seed must never engage.
      .filter(([, x]) => typeof value !== "boolean" || typeof x !== "boolean");
    for (const [name, x] of replacements) out.push({ label: `${at}=${name}`, body: JSON.stringify(setAt(seed, path, x)) });
    for (const [name, raw] of RAW) {
      out.push({ label: `${at}=${name}`, body: JSON.stringify(setAt(seed, path, PLACEHOLDER)).replace(`"${PLACEHOLDER}"`, raw) });
    }
    if (typeof value === "string") {
      out.push({ label: `${at}+nul`, body: JSON.stringify(setAt(seed, path, `${value}\u0000`)) });
      if (UUID.test(value)) out.push({ label: `${at}=UPPER`, body: JSON.stringify(setAt(seed, path, value.toUpperCase())) });
    }
  }
  const obj = seed as Record<string, Json>;
  out.push(
    { label: "key-nul", body: JSON.stringify({ ...obj, "\u0000": "x" }) },
    { label: "key-surrogate", body: JSON.stringify({ ...obj, "\ud800": 1 }) },
    { label: "extra-key", body: JSON.stringify({ ...obj, extra: "\u0000" }) },
    { label: "body-array", body: JSON.stringify([obj]) },
    { label: "body-string", body: '"\\u0000"' },
    { label: "body-number", body: "1e308" },
    { label: "body-null", body: "null" },
    { label: "body-deep", body: "[".repeat(5000) + "]".repeat(5000) },
    { label: "tenant=UPPER", body: JSON.stringify(seed), tenant: FUZZ_TENANT.toUpperCase() },
  );
  return out;
}

let super_: string;
let superUpper: string;
let n8n: { keyId: string; signingKey: string };

async function send(m: PortalManifest, action: string, c: Case): Promise<Response> {
  const tenant = c.tenant ?? FUZZ_TENANT;
  if (m.http.machineOnly || m.http.routeBy === "event") {
    const url = `${fnUrl(m.fn)}?tenant=${tenant}`;
    const sig = await signRequest({ keyId: n8n.keyId, secret: n8n.signingKey, method: "POST", url, body: c.body });
    return fetch(url, { method: "POST", headers: { "content-type": "application/json", "webhook-id": `wh_${randomBytes(8).toString("hex")}`, ...sig }, body: c.body });
  }
  const token = c.tenant ? superUpper : super_;
  return fetch(fnUrl(`${m.fn}/${action}`), {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "idempotency-key": `fuzz-${randomUUID()}` },
    body: c.body,
  });
}

interface Finding {
  action: string;
  label: string;
  status: number;
  contentType: string | null;
  code?: string;
}

/** Runs `items` through `fn`, `width` at a time. */
async function pool<T>(items: T[], width: number, fn: (t: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const manifests: PortalManifest[] = [];
const totals = { cases: 0, actions: 0, fivexx: 0 };

beforeAll(async () => {
  for (const p of PORTALS) manifests.push(await loadManifest(p.name));
  await sql`insert into tenants (id, slug, name) values (${FUZZ_TENANT}, ${"fuzz-" + FUZZ_TENANT.slice(0, 8)}, 'Fuzz tenant')`;
  // Thousands of requests in a minute: the fuzz tenant's action rate limit out of the way.
  await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
            values ('rate.actions.perMinute', ${`tenant:${FUZZ_TENANT}`}, '1000000', 'fuzz test', 'test')`;
  super_ = await userJwt(USERS.super, { tenant: FUZZ_TENANT });
  superUpper = await userJwt(USERS.super, { tenant: FUZZ_TENANT.toUpperCase() });
  n8n = await machineKey(sql, "n8n", [FUZZ_TENANT]);
});

afterAll(async () => {
  console.log(`schema fuzz: ${totals.cases} cases over ${totals.actions} actions, ${totals.fivexx} 5xx`);
  await sql.end();
});

describe("bad input is refused before any SQL (regressions)", () => {
  it("a NUL byte in a string field is a 400 validation_failed naming the field, never a 500", async () => {
    const ops = await userJwt(USERS.ops);
    const post = (path: string, body: unknown) => fetch(fnUrl(path), {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ops}` }, body: JSON.stringify(body),
    });
    const checks: [string, unknown, string][] = [
      ["rates/contract_upsert", { ...(SEEDS["rates.contract_upsert"]() as object), notes: "bad\u0000note" }, "notes"],
      ["rates/price_one", { ...(SEEDS["rates.price_one"]() as object), hints: { customer_ref: "c\u0000" } }, "hints.customer_ref"],
      ["autonomous/approve", { request_id: randomUUID(), note: "n\u0000" }, "note"],
      ["autonomous/kill_switch", { engage: false, reason: "stop\u0000now" }, "reason"],
    ];
    for (const [path, body, field] of checks) {
      const res = await post(path, body);
      expect.soft(res.headers.get("content-type"), path).toBe("application/problem+json");
      const p = await res.json();
      expect.soft({ path, status: res.status, code: p.code }).toEqual({ path, status: 400, code: "validation_failed" });
      expect.soft(JSON.stringify(p.errors ?? []), path).toContain(field);
    }
  });

  it("an upper-case ?tenant= is the same tenant: its request metrics are kept with the lower-case ones", async () => {
    const key = await machineKey(sql, "n8n");
    const body = JSON.stringify(SEEDS["rates.price_one"]());
    const metered = async () =>
      (await sql`select coalesce(sum(count), 0)::int as n from request_metrics where function_name = 'rates' and tenant_id = ${DEMO_TENANT}`)[0].n as number;
    await new Promise((r) => setTimeout(r, 1200)); // earlier requests flushed
    const before = await metered();
    const call = async (tenant: string) => {
      const url = `${fnUrl("rates/price_one")}?tenant=${tenant}`;
      const sig = await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url, body });
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...sig }, body });
      await res.body?.cancel();
      return res.status;
    };
    // One flush (1 s) holds both: the same tenant under two spellings.
    const statuses = await Promise.all([call(DEMO_TENANT.toUpperCase()), call(DEMO_TENANT), call(DEMO_TENANT.toUpperCase())]);
    expect(statuses).toEqual([200, 200, 200]);
    let after = before;
    for (let i = 0; i < 40 && after < before + 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await metered();
    }
    expect(after - before).toBe(3);
  });
});

describe("schema fuzz over every action of every portal", () => {
  it("every portal action has a seed body", async () => {
    await Promise.resolve();
    const names = manifests.flatMap((m) => m.actions.map((a) => `${m.name}.${a.name}`));
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !SEEDS[n])).toEqual([]);
  });

  for (const p of PORTALS) {
    it(`${p.name}: no 5xx, every refusal problem+json`, { timeout: 240_000 }, async () => {
      const m = manifests.find((x) => x.name === p.name)!;
      const findings: Finding[] = [];
      const statuses = new Map<number, number>();
      for (const a of m.actions) {
        const seed = SEEDS[`${m.name}.${a.name}`];
        if (!seed) continue;
        const list = cases(seed() as Json);
        totals.actions++;
        totals.cases += list.length;
        await pool(list, 8, async (c) => {
          const res = await send(m, a.name, c);
          const contentType = res.headers.get("content-type");
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status >= 500) totals.fivexx++;
          if (res.status >= 500 || (res.status >= 400 && contentType !== "application/problem+json")) {
            let code: string | undefined;
            try {
              code = JSON.parse(text).code;
            } catch { /* not JSON: reported as is */ }
            findings.push({ action: a.name, label: c.label, status: res.status, contentType, code });
          }
        });
      }
      console.log(`${m.name}: answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort(([x], [y]) => x - y)))}`);
      // The seeds are valid: some mutations (odd unicode, big strings) pass and reach the SQL.
      expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
      // The kill switch seed only ever releases; make sure nothing engaged it.
      const [stop] = await sql`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`;
      expect(String(stop.value)).toBe("false");
      expect(findings.slice(0, 40), `${findings.length} findings`).toEqual([]);
    });
  }
});
