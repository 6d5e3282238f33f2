/**
 * THE error catalogue: every code a refusal can carry, and every code Postgres raises
 * (`public.rail_errors`, SQLSTATE SYxxx), in one place. Everything else derives from it:
 * problems.ts (status, title, Retry-After), db-errors.ts (SQLSTATE -> code), the success SLO
 * (run.ts: `rail`), the ops CLI's names. `public.rail_errors` (tests/integration/catalogue.test.ts)
 * and the table in docs/security-model.md (catalogue.test.ts) are checked against it.
 *
 * An entry is either a problem code clients switch on:
 *   status, title        the HTTP answer
 *   retryAfter           seconds: Retry-After is always sent (unless the refusal names its own)
 *   sqlstate             Postgres raises it as this code with this SQLSTATE
 *   rail                 a rail refusing on purpose: never counts against the success SLO
 *   challenge            "hmac": a 401 that challenges for the HMAC v2 signature (else Bearer)
 * or a database code the edge answers under a broader problem code (`as`; its own name
 * stays in the problem's `rail` extension), with its SQLSTATE and title.
 *
 * Statuses follow the HTTP semantics of the rail:
 *  - nonce_reused is 401, not 409: a replayed signed request is a spent credential, not a
 *    resource conflict the caller could resolve (a genuine retry re-signs with a new nonce);
 *  - jwt_expired has its own code (missing / expired / forged each answer their own);
 *  - budget_exhausted is 503: budgets (concurrency, cost ceilings) are capacity of the system,
 *    while rate_limited (429) is about this caller's pace. Both carry Retry-After (DETAIL);
 *  - autonomy_halted and mode_read_only are 503 with Retry-After: the service is deliberately
 *    unavailable, not the caller at fault; portal_disabled is 403: this door is closed to
 *    writes while the others answer;
 *  - database_unavailable is 503 with Retry-After (the database is restarting, full or out
 *    of reach: a retry may succeed), and not a rail: it is the system's failure for the SLO.
 */
export const CATALOGUE = {
  // 4xx: the caller's request
  malformed_json: { status: 400, title: "Request body is not valid JSON" },
  validation_failed: { status: 400, title: "Request failed validation" },
  idempotency_key_missing: { status: 400, title: "Idempotency-Key header is required" },
  missing_authorization: { status: 401, title: "Authentication is required" },
  invalid_jwt: { status: 401, title: "Access token is invalid" },
  jwt_expired: { status: 401, title: "Access token has expired" },
  invalid_signature: { status: 401, title: "Request signature is invalid", challenge: "hmac" },
  stale_timestamp: { status: 401, title: "Request timestamp is too old", challenge: "hmac" },
  future_timestamp: { status: 401, title: "Request timestamp is in the future", challenge: "hmac" },
  nonce_reused: { status: 401, title: "Request nonce was already used", challenge: "hmac", sqlstate: "SY030" },
  unknown_key: { status: 401, title: "Signing key is unknown or inactive", challenge: "hmac" },
  forbidden: { status: 403, title: "Permission denied", sqlstate: "SY021" },
  tenant_mismatch: { status: 403, title: "Resource belongs to another tenant" },
  origin_not_allowed: { status: 403, title: "Origin is not allowed" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  idempotency_in_flight: { status: 409, title: "A request with this Idempotency-Key is in progress" },
  conflict: { status: 409, title: "The request conflicts with existing data" },
  already_reverted: { status: 409, title: "The action was already reverted", sqlstate: "SY031" },
  not_reverted: { status: 409, title: "The action is not reverted", sqlstate: "SY032" },
  already_released: { status: 409, title: "The quarantine was already released", sqlstate: "SY061" },
  revert_state_changed: { status: 409, title: "The state moved on since the action; it cannot be reverted" },
  payload_too_large: { status: 413, title: "Request body is too large" },
  unsupported_media_type: { status: 415, title: "Unsupported content type" },
  idempotency_conflict: { status: 422, title: "Idempotency-Key was used with another payload" },
  rate_unavailable: { status: 422, title: "No rate basis for this lane" },
  document_hash_mismatch: { status: 422, title: "The document's bytes do not match its sha256" },
  // freight (supabase/migrations/*_freight_*): the domain's own refusals, raised by Postgres
  illegal_transition: { status: 409, title: "The state machine does not allow this transition", sqlstate: "SY100" },
  status_bypass: { status: 409, title: "A status changes only through its transition function", sqlstate: "SY101" },
  credit_hold: { status: 422, title: "Booking would exceed the customer's credit limit", sqlstate: "SY102" },
  stop_window_overlap: { status: 422, title: "Two stops' appointment windows overlap", sqlstate: "SY103" },
  stops_out_of_sequence: { status: 422, title: "Stops are out of sequence", sqlstate: "SY104" },
  party_blocked: { status: 422, title: "The party is blocked or suspended", sqlstate: "SY105" },
  carrier_no_authority: { status: 422, title: "The carrier has no active operating authority", sqlstate: "SY106" },
  carrier_no_insurance: { status: 422, title: "The carrier has no insurance in force", sqlstate: "SY107" },
  carrier_out_of_service: { status: 422, title: "The carrier is out of service", sqlstate: "SY108" },
  foreign_asset: { status: 422, title: "The driver or unit belongs to another carrier", sqlstate: "SY110" },
  asset_blocked: { status: 422, title: "The driver or unit is blocked or inactive", sqlstate: "SY111" },
  driver_documents_expired: { status: 422, title: "The driver's CDL or medical card has expired", sqlstate: "SY112" },
  duplicate_source_event: { status: 409, title: "The source event id was recorded with other content", sqlstate: "SY113" },
  bad_amount: { status: 400, title: "Money is a non-negative integer of cents", sqlstate: "SY114" },
  bad_time_zone: { status: 400, title: "Not an IANA time zone", sqlstate: "SY115" },
  ledger_unbalanced: { status: 422, title: "The journal entry does not balance", sqlstate: "SY116" },
  ledger_immutable: { status: 409, title: "Posted ledger entries never change", sqlstate: "SY117" },
  currency_mismatch: { status: 422, title: "Currencies do not match", sqlstate: "SY118" },
  tender_expired: { status: 409, title: "The tender's SLA deadline has passed", sqlstate: "SY119" },
  dr_forbidden: { status: 403, title: "DR cutover and fail-back need the DR permission", sqlstate: "SY160" },
  dr_cutover_running: { status: 409, title: "A DR cutover is already running", sqlstate: "SY161" },
  dr_loss_window: { status: 409, title: "Promotion would lose acknowledged commits", sqlstate: "SY162" },
  // broker and shipper portals (supabase/migrations/*_broker_*, *_shipper_*)
  route_locked: { status: 409, title: "The load can no longer be re-routed", sqlstate: "SY400" },
  no_next_carrier: { status: 422, title: "No carrier left to tender", sqlstate: "SY401" },
  tender_superseded: { status: 409, title: "The tender was already re-tendered", sqlstate: "SY402" },
  quote_not_bookable: { status: 422, title: "The quote cannot be booked", sqlstate: "SY410" },
  // TMS Admin (supabase/migrations/*_tms_admin_*)
  equipment_type_inactive: { status: 422, title: "The equipment type is not active in the catalogue", sqlstate: "SY150" },
  equipment_type_in_use: { status: 409, title: "The equipment type is used by active lanes", sqlstate: "SY151" },
  edi_partner_not_eligible: { status: 422, title: "The party cannot be an EDI partner", sqlstate: "SY152" },
  edi_interchange_taken: { status: 409, title: "Another EDI partner uses this interchange id", sqlstate: "SY153" },
  edi_credential_missing: { status: 422, title: "credential_ref names no Vault secret", sqlstate: "SY154" },
  insurance_document_invalid: { status: 422, title: "The insurance certificate document is not the carrier's", sqlstate: "SY130" },
  capacity_date_past: { status: 422, title: "Capacity is offered for today or later", sqlstate: "SY131" },
  driver_not_linked: { status: 403, title: "The caller is no driver of the tenant", sqlstate: "SY180" },
  driver_stop_not_assigned: { status: 404, title: "The stop is not assigned to this driver", sqlstate: "SY181" },
  driver_event_in_future: { status: 422, title: "The event's time is in the future", sqlstate: "SY182" },
  driver_pod_invalid: { status: 422, title: "The POD names no POD document of the stop's load", sqlstate: "SY183" },
  driver_event_id_reused: { status: 409, title: "The client event id was used with other content", sqlstate: "SY184" },
  driver_batch_too_large: { status: 422, title: "A sync batch holds 1 to driver.syncMaxEvents events", sqlstate: "SY185" },
  // load board portal (supabase/migrations/*_load_board_portal.sql)
  load_board_duplicate_load: { status: 409, title: "The load is posted already", sqlstate: "SY140" },
  load_board_duplicate_lane: { status: 409, title: "The same lane, day and equipment is posted already", sqlstate: "SY141" },
  load_board_post_closed: { status: 409, title: "The post is not open", sqlstate: "SY142" },
  load_board_bid_closed: { status: 409, title: "The bid is not open", sqlstate: "SY143" },
  load_board_not_postable: { status: 409, title: "The load cannot be posted", sqlstate: "SY144" },
  // owner operator and workers portals (supabase/migrations/*_owner_operator_portal.sql, *_workers_portal.sql)
  settlement_duplicate: { status: 409, title: "A load is on a settlement already", sqlstate: "SY190" },
  settlement_invalid: { status: 422, title: "The settlement is not possible", sqlstate: "SY191" },
  not_owner_operator: { status: 422, title: "The party is not an owner operator", sqlstate: "SY192" },
  unit_service_overdue: { status: 422, title: "The unit is overdue for service", sqlstate: "SY193" },
  shift_overlap: { status: 409, title: "The shift overlaps another of the worker", sqlstate: "SY195" },
  worker_unknown: { status: 422, title: "Not a worker or queue of the tenant", sqlstate: "SY196" },
  queue_item_closed: { status: 409, title: "The queue item is closed", sqlstate: "SY197" },
  // Directory and Super Admin (supabase/migrations/*_directory_*, *_super_admin_*)
  sanctions_file_invalid: { status: 400, title: "Sanctions file invalid", sqlstate: "SY240" },
  census_file_invalid: { status: 400, title: "Census file invalid", sqlstate: "SY241" },
  sanctions_clear_human: { status: 403, title: "Sanctions block needs a human", sqlstate: "SY242" },
  tenant_delete_refused: { status: 409, title: "Tenant cannot be deleted yet", sqlstate: "SY243" },
  tenant_slug_taken: { status: 409, title: "Tenant slug taken", sqlstate: "SY244" },
  // website (supabase/migrations/*_site_*.sql)
  site_version_not_found: { status: 404, title: "The page has no such version", sqlstate: "SY280" },
  site_page_not_found: { status: 404, title: "No such page", sqlstate: "SY281" },
  // CRM (supabase/migrations/*_crm_*.sql)
  crm_stage_invalid: { status: 409, title: "The opportunity cannot move to this stage", sqlstate: "SY282" },
  crm_lead_not_found: { status: 404, title: "No such lead", sqlstate: "SY283" },
  crm_opportunity_not_found: { status: 404, title: "No such opportunity", sqlstate: "SY284" },
  // EDI portal (supabase/migrations/*_edi_*)
  edi_partner_unknown: { status: 404, title: "No such EDI trading partner", sqlstate: "SY220" },
  edi_shipment_unknown: { status: 422, title: "The set names a shipment the partner has no load for", sqlstate: "SY221" },
  edi_facility_unknown: { status: 422, title: "A 204 stop names an unknown facility", sqlstate: "SY222" },
  // financials + factoring portals (supabase/migrations/20261202120*_financials_* / _factoring_*)
  invoice_not_ready: { status: 422, title: "The load is not delivered with a POD on file", sqlstate: "SY200" },
  invoice_line_invalid: { status: 422, title: "An invoice line is invalid (only credits are negative)", sqlstate: "SY201" },
  invoice_state: { status: 409, title: "The invoice is not open for this", sqlstate: "SY202" },
  bill_state: { status: 409, title: "The carrier bill is not in a state for this", sqlstate: "SY203" },
  noa_active: { status: 409, title: "An active Notice of Assignment names a factor: pay the factor", sqlstate: "SY204" },
  noa_conflict: { status: 409, title: "Notice of Assignment conflict", sqlstate: "SY205" },
  payee_invalid: { status: 422, title: "The payee is neither the carrier nor its active factor", sqlstate: "SY206" },
  // admin portal (supabase/migrations/20261202150000_admin_portal.sql)
  mfa_required: { status: 403, title: "Multi-factor authentication (aal2) required", sqlstate: "SY260" },
  role_escalation: { status: 403, title: "The role cannot be granted by this principal", sqlstate: "SY261" },
  role_self_change: { status: 403, title: "Own roles cannot be changed", sqlstate: "SY262" },
  invite_used: { status: 409, title: "The invite was used already", sqlstate: "SY263" },
  invite_expired: { status: 410, title: "The invite expired", sqlstate: "SY264" },
  sso_required: { status: 401, title: "The tenant requires single sign-on", sqlstate: "SY265" },
  bad_branding: { status: 400, title: "Branding rejected", sqlstate: "SY266" },
  member_not_found: { status: 404, title: "No such member in the tenant", sqlstate: "SY267" },
  // 5xx: failures (these count against the success SLO)
  internal_error: { status: 500, title: "Internal error" },
  prove_failed: { status: 500, title: "Action committed but its post-condition did not hold" },
  database_unavailable: { status: 503, title: "The database is unavailable", retryAfter: 2 },
  // the rails (Postgres raises them; none counts against the SLO)
  autonomy_halted: { status: 503, title: "Autonomy is halted by the emergency stop", retryAfter: 60, sqlstate: "SY001", rail: true },
  mode_read_only: { status: 503, title: "The system is in read-only mode", retryAfter: 60, rail: true },
  agents_disabled: { status: 503, title: "Agents are switched off (agents.autonomousEnabled)", sqlstate: "SY003", rail: true },
  portal_disabled: { status: 403, title: "This portal is disabled", sqlstate: "SY004", rail: true },
  rate_limited: { status: 429, title: "Too many requests", sqlstate: "SY005", rail: true },
  budget_exhausted: { status: 503, title: "Capacity budget exhausted", sqlstate: "SY006", rail: true },
  dlq_paused: { status: 503, title: "DLQ replays are paused", sqlstate: "SY007", rail: true },
  replay_cap_exceeded: { status: 422, title: "Replay exceeds its caps", sqlstate: "SY008", rail: true },
  tenant_suspended: { status: 403, title: "The tenant is suspended", sqlstate: "SY050", rail: true },
  quarantined: { status: 503, title: "Quarantined until a human releases it", sqlstate: "SY060", rail: true },
  // database codes answered under a broader problem code
  autonomy_step_down: { as: "mode_read_only", title: "Autonomy stepped down", sqlstate: "SY002" },
  approval_forbidden: { as: "forbidden", title: "Approval forbidden", sqlstate: "SY009" },
  unknown_flag: { as: "validation_failed", title: "Unknown flag", sqlstate: "SY010" },
  bad_flag_scope: { as: "validation_failed", title: "Bad flag scope", sqlstate: "SY011" },
  bad_flag_value: { as: "validation_failed", title: "Bad flag value", sqlstate: "SY012" },
  unknown_role: { as: "validation_failed", title: "Unknown role", sqlstate: "SY013" },
  bad_role_scope: { as: "validation_failed", title: "Bad role scope", sqlstate: "SY014" },
  unknown_permission: { as: "validation_failed", title: "Unknown permission", sqlstate: "SY015" },
  bad_idempotency_key: { as: "validation_failed", title: "Bad idempotency key", sqlstate: "SY016" },
  bad_request: { as: "validation_failed", title: "Bad request", sqlstate: "SY017" },
  replay_bad_selection: { as: "validation_failed", title: "Bad replay selection", sqlstate: "SY018" },
  webhook_timestamp_skew: { as: "stale_timestamp", title: "Webhook timestamp skew", sqlstate: "SY019" },
  audit_append_only: { as: "forbidden", title: "Audit is append-only", sqlstate: "SY020" },
  unknown_principal: { as: "forbidden", title: "Unknown principal", sqlstate: "SY022" },
  bad_subscription_secret: { as: "validation_failed", title: "Bad subscription secret", sqlstate: "SY051" },
  private_target: { as: "validation_failed", title: "Private webhook target", sqlstate: "SY052" },
  freight_not_found: { as: "not_found", title: "Freight entity not found", sqlstate: "SY120" },
} as const satisfies Record<string, CatalogueEntry>;

type Problem_ = { status: number; title: string; retryAfter?: number; sqlstate?: SqlState; rail?: true; challenge?: "hmac"; as?: never };
type Alias_ = { as: string; title: string; sqlstate: SqlState; status?: never; retryAfter?: never; rail?: never; challenge?: never };
type SqlState = `SY${string}`;
export type CatalogueEntry = Problem_ | Alias_;

type C = typeof CATALOGUE;
/** Every code in the catalogue: problem codes and the database's own names. */
export type CatalogueCode = keyof C;
/** The codes a refusal carries (what clients switch on). */
export type ProblemCode = { [K in CatalogueCode]: C[K] extends { as: string } ? never : K }[CatalogueCode];
/** The codes Postgres raises (the rows of public.rail_errors). */
export type DbCode = { [K in CatalogueCode]: C[K] extends { sqlstate: string } ? K : never }[CatalogueCode];

const entries = Object.entries(CATALOGUE) as [CatalogueCode, CatalogueEntry][];

/** The entry of any code (undefined when it is not in the catalogue). */
export function catalogueEntry(code: string): CatalogueEntry | undefined {
  return Object.hasOwn(CATALOGUE, code) ? (CATALOGUE as Record<string, CatalogueEntry>)[code] : undefined;
}

/** The problem code a catalogue code is answered with (itself, or its `as`). */
export function answerCode(code: CatalogueCode): ProblemCode {
  const e: CatalogueEntry = CATALOGUE[code];
  return (e.as ?? code) as ProblemCode;
}

/** The problem entry (status, title, retryAfter, rail) of a problem code. */
export function problemEntry(code: ProblemCode): Problem_ {
  return CATALOGUE[code] as Problem_;
}

/** SQLSTATE -> database code, for every code Postgres raises. */
export const BY_SQLSTATE: ReadonlyMap<string, DbCode> = new Map(
  entries.filter(([, e]) => e.sqlstate).map(([code, e]) => [e.sqlstate!, code as DbCode]),
);

/** True when a refusal with this code is a failure for the success SLO (a 5xx that is not a rail). */
export function countsAgainstSlo(code: ProblemCode): boolean {
  const e = problemEntry(code);
  return e.status >= 500 && !e.rail;
}
