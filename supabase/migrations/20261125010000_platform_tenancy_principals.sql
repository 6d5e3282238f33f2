-- Tenancy and principals (charter §1).
--
-- Who can do what is data: roles, permissions and role_permissions below. Every RLS policy
-- and the edge ask the same question through app_private.has_permission(tenant, permission)
-- (or its set form app_private.permitted_tenants(permission), which policies use so the
-- check runs once per statement instead of once per row). Identity comes from tables:
-- the JWT's `sub` must be a row in public.principals, and what it may do comes from its
-- role_assignments. A role name inside the JWT is never trusted.
--
-- Schemas:
--   public       exposed through the API; every table has RLS on.
--   app_private  helpers the policies and the edge call (SECURITY DEFINER, search_path ''),
--                usable by authenticated/service_role, never exposed as a REST schema.
--   ops          platform operations (rails attachment, key issuance, partitions); only the
--                database owner calls these.
--
-- Sections: permissions and grants; tables (with their reference rows); functions; row
-- level security (last: the policies call the helpers defined under functions).

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
create schema if not exists app_private;
revoke all on schema app_private from public;
grant usage on schema app_private to authenticated, service_role;
comment on schema app_private is
  'Helpers the RLS policies and the edge call (SECURITY DEFINER, empty search_path); not exposed as a REST schema.';
-- No function is executable by PUBLIC (default privileges, 20261125000000): what API roles
-- may call is granted explicitly next to each function.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Error catalogue: the one place that maps a stable error code to its SQLSTATE.
-- Every refusal raised by this schema goes through app_private.raise_error(code, ...), whose
-- message starts with "<code>: ", so the edge can map SQLSTATE (or the code prefix) to an
-- RFC 9457 problem type. docs/security-model.md mirrors this table.
create table public.rail_errors (
  code        text primary key constraint rail_errors_code_format_check check (code ~ '^[a-z][a-z0-9_]*$'),
  sqlstate    char(5) not null unique constraint rail_errors_sqlstate_format_check check (sqlstate ~ '^SY[0-9A-Z]{3}$'),
  http_status int  not null constraint rail_errors_http_status_range_check check (http_status between 400 and 599),
  title       text not null,
  description text not null
);
comment on table public.rail_errors is
  'Stable error codes raised by the control plane: code -> SQLSTATE -> HTTP status.';

insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  -- rail refusals
  ('autonomy_halted',        'SY001', 503, 'Autonomy halted',        'autonomy.emergencyStop is true: machine principals may not write.'),
  ('autonomy_step_down',     'SY002', 503, 'Autonomy stepped down',  'autonomy.mode is STEP-DOWN: machine principals are read-only.'),
  ('agents_disabled',        'SY003', 503, 'Agents disabled',        'agents.autonomousEnabled is false: the agents service account may not write.'),
  ('portal_disabled',        'SY004', 403, 'Portal disabled',        'portal.enabled is false for the portal (and tenant) of the request.'),
  ('rate_limited',           'SY005', 429, 'Rate limited',           'A rate limit refused the request; DETAIL carries retry_after_seconds.'),
  ('budget_exhausted',       'SY006', 402, 'Budget exhausted',       'A cost ceiling or concurrency budget would be exceeded.'),
  ('dlq_paused',             'SY007', 503, 'DLQ paused',             'DLQ replays are paused (dlq.paused or autonomy.mode DEGRADE).'),
  ('replay_cap_exceeded',    'SY008', 422, 'Replay cap exceeded',    'A replay request exceeds budget.replay.maxBatch or budget.replay.maxPayloadMB.'),
  ('approval_forbidden',     'SY009', 403, 'Approval forbidden',     'Replay approval needs a human with dlq.replay.approve who did not request it.'),
  -- bad input
  ('unknown_flag',           'SY010', 400, 'Unknown flag',           'No flag definition has this key.'),
  ('bad_flag_scope',         'SY011', 400, 'Bad flag scope',         'The scope is malformed, names no (existing) tenant or portal, or is not allowed for the key.'),
  ('bad_flag_value',         'SY012', 400, 'Bad flag value',         'The value is not a valid scalar for the flag key (type, range, allowed values, negative budget).'),
  ('unknown_role',           'SY013', 400, 'Unknown role',           'The role is not one of the roles in public.roles.'),
  ('bad_role_scope',         'SY014', 400, 'Bad role scope',         'Global roles take no tenant, tenant roles need one, machine roles only go to machine principals.'),
  ('unknown_permission',     'SY015', 400, 'Unknown permission',     'The permission is not in public.permissions.'),
  ('bad_idempotency_key',    'SY016', 400, 'Bad idempotency key',    'The Idempotency-Key is missing, too long or has invalid characters.'),
  ('bad_request',            'SY017', 400, 'Bad request',            'An argument is missing or out of range.'),
  ('replay_bad_selection',   'SY018', 422, 'Bad replay selection',   'The replay names DLQ entries that do not exist in the tenant, are not dead or parked, or wait for a subscription still gone (410).'),
  ('webhook_timestamp_skew', 'SY019', 401, 'Webhook timestamp skew', 'The webhook timestamp is outside the tolerance window.'),
  -- integrity / authorization
  ('audit_append_only',      'SY020', 403, 'Audit is append-only',   'Audit rows cannot be updated, deleted or truncated.'),
  ('forbidden',              'SY021', 403, 'Forbidden',              'The principal lacks the permission this function checks.'),
  ('unknown_principal',      'SY022', 401, 'Unknown principal',      'The JWT sub is not an enabled principal.');

-- Tenants and portals
create table public.tenants (
  id         uuid primary key default gen_random_uuid(),
  slug       text not null unique constraint tenants_slug_format_check check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name       text not null constraint tenants_name_not_blank_check check (length(btrim(name)) > 0),
  status     text not null default 'active' constraint tenants_status_allowed_check check (status in ('active', 'suspended')),
  created_at timestamptz not null default now()
);
comment on table public.tenants is
  'Tenants (brokers, shippers, carriers, ...): every tenant row of every table names one.';

-- The 20 canonical portals (charter §4); flag scopes name portals from this list.
create table public.portals (
  name     text primary key constraint portals_name_format_check check (name ~ '^[a-z][a-z0-9_]*$'),
  title    text not null,
  position int  not null unique
);
comment on table public.portals is
  'The 20 canonical portals (charter §4); flag scopes and portal.enabled name them.';
insert into public.portals (name, title, position) values
  ('super_admin', 'Super Admin', 1), ('admin', 'Admin', 2), ('tms_admin', 'TMS Admin', 3),
  ('onboarding', 'Onboarding', 4), ('broker', 'Broker', 5), ('shipper', 'Shipper', 6),
  ('carrier', 'Carrier', 7), ('driver', 'Driver', 8), ('owner_operator', 'Owner Operator', 9),
  ('factoring', 'Factoring', 10), ('load_board', 'Load Board', 11), ('crm', 'CRM', 12),
  ('financials', 'Financials', 13), ('edi', 'EDI', 14), ('marketplace', 'Marketplace', 15),
  ('analytics', 'Analytics', 16), ('autonomous', 'Autonomous', 17), ('workers', 'Workers', 18),
  ('rates', 'Rates', 19), ('directory', 'Directory', 20);

-- Roles, permissions and the permission matrix (data, derived from charter §1)
create table public.roles (
  role        text primary key constraint roles_role_format_check check (role ~ '^[a-z][a-z0-9_]*$'),
  kind        text not null constraint roles_kind_allowed_check check (kind in ('human', 'machine')),
  scope       text not null constraint roles_scope_allowed_check check (scope in ('global', 'tenant')),
  description text not null
);
comment on table public.roles is
  'Human and machine roles, global or per tenant (charter §1).';

insert into public.roles (role, kind, scope, description) values
  ('super_admin',     'human',   'global', 'Flip any feature flag, DR cutover, budget edits, audit access'),
  ('tenant_admin',    'human',   'tenant', 'Portal enable/disable, user invites, billing, entitlements'),
  ('ops_manager',     'human',   'tenant', 'Broker/shipper/carrier ops, DLQ dry-run, replay approve'),
  ('dispatcher',      'human',   'tenant', 'Tender/assign/track, exception triage, docs submission'),
  ('finance_manager', 'human',   'tenant', 'AR/AP, settlements, factoring releases'),
  ('analyst',         'human',   'tenant', 'Analytics, exports, KPI dashboards'),
  ('developer',       'human',   'tenant', 'Read prod logs/traces (redacted), deploy to staging only'),
  ('viewer',          'human',   'tenant', 'Read-only dashboards and reports'),
  ('autopilot',       'machine', 'global', 'Orchestrator: queue mgmt, SLO gates, can flip canary flags'),
  ('agents',          'machine', 'global', 'Workers: execute tasks, write logs/spans, publish outbox'),
  ('dlq',             'machine', 'global', 'Replay: DLQ replays (capped), signed internal calls, audit'),
  ('ci',              'machine', 'global', 'Self-heal: post-deploy verify, auto-rollback on SLO breach'),
  ('n8n',             'machine', 'global', 'Workflows: inbound/outbound jobs, signed webhooks, traceparent'),
  ('system',          'machine', 'global', 'Break-glass: DR promote/rollback, feature emergencyStop only'),
  ('relay',           'machine', 'global', 'Delivery: delivers committed outbox events and keeps their delivery bookkeeping');

create table public.permissions (
  permission  text primary key constraint permissions_permission_format_check check (permission ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  description text not null
);
comment on table public.permissions is
  'Every permission a policy, rail or function checks.';

insert into public.permissions (permission, description) values
  ('tenant.read',                 'See the tenant record'),
  ('tenant.manage',               'Edit the tenant record (name, branding)'),
  ('platform.tenants.manage',     'Provision and remove tenants (global)'),
  ('principals.read',             'See every principal (global)'),
  ('principals.manage',           'Create and disable principals (global)'),
  ('members.read',                'See the tenant''s role assignments'),
  ('members.manage',              'Invite users and assign tenant roles'),
  ('keys.read',                   'See service account keys metadata and rotation rehearsals'),
  ('keys.manage',                 'Issue, rotate and revoke service account keys'),
  ('flags.read',                  'Read feature flags'),
  ('flags.global.write',          'Write any flag that has no narrower write permission'),
  ('flags.emergency_stop.write',  'Flip autonomy.emergencyStop'),
  ('flags.autonomy.write',        'Change autonomy.mode, agents.autonomousEnabled, dlq.paused'),
  ('flags.budget.write',          'Edit budgets, rate limits and cost ceilings'),
  ('flags.canary.write',          'Flip canary flags'),
  ('flags.portal.write',          'Enable or disable portals'),
  ('domain.read',                 'Read operational data (loads, shipments, tenders, tracking)'),
  ('domain.write',                'Create and change operational data'),
  ('domain.delete',               'Delete operational data'),
  ('finance.read',                'Read AR/AP, settlements, invoices'),
  ('finance.write',               'Change AR/AP, settlements, factoring releases'),
  ('outbox.read',                 'Read outbox events and deliveries'),
  ('outbox.publish',              'Publish outbox events'),
  ('outbox.deliver',              'Claim, deliver and dead-letter outbox events (relay)'),
  ('integrations.read',           'Read webhook subscriptions'),
  ('integrations.manage',         'Manage webhook subscriptions'),
  ('dlq.read',                    'Read DLQ entries and replay requests'),
  ('dlq.replay.request',          'Request DLQ replays and dry-runs'),
  ('dlq.replay.approve',          'Approve or reject DLQ replays'),
  ('audit.read',                  'Read the audit log and verify its hash chain'),
  ('audit.write',                 'Append audit rows about one''s own actions'),
  ('traces.read',                 'Read spans (PII redacted)'),
  ('metrics.read',                'Read request metrics and SLO figures'),
  ('telemetry.write',             'Write spans and metrics directly'),
  ('rails.read',                  'Read rail state (idempotency, rate limits, leases, nonces)'),
  ('rails.use',                   'Use the rails (idempotency, rate limit, nonce) for requests in the tenant'),
  ('rails.break_glass',           'Keep flag and DR rights while autonomy is halted'),
  ('leases.acquire',              'Acquire concurrency leases (budget.agents.maxConcurrent)'),
  ('cost.read',                   'Read the tenant cost ledger'),
  ('cost.charge',                 'Charge the tenant cost ledger'),
  ('dr.execute',                  'DR promote / rollback'),
  ('deploy.staging',              'Deploy to staging'),
  ('deploy.production',           'Deploy safe patches and auto-rollback in production');

create table public.role_permissions (
  role       text not null references public.roles (role) on delete cascade,
  permission text not null references public.permissions (permission) on delete cascade,
  primary key (role, permission)
);
comment on table public.role_permissions is
  'The permission matrix as data: which role holds which permission.';
create index role_permissions_permission_idx on public.role_permissions (permission);

-- The matrix. super_admin holds every permission (global). The rest follow charter §1.
insert into public.role_permissions (role, permission)
select 'super_admin', permission from public.permissions;

insert into public.role_permissions (role, permission)
select r, p from (values
  -- tenant_admin: portal enable/disable, user invites, billing, entitlements
  ('tenant_admin', 'tenant.read'), ('tenant_admin', 'tenant.manage'),
  ('tenant_admin', 'members.read'), ('tenant_admin', 'members.manage'),
  ('tenant_admin', 'flags.read'), ('tenant_admin', 'flags.portal.write'),
  ('tenant_admin', 'finance.read'), ('tenant_admin', 'cost.read'),
  ('tenant_admin', 'integrations.read'), ('tenant_admin', 'integrations.manage'),
  ('tenant_admin', 'audit.read'), ('tenant_admin', 'audit.write'),
  ('tenant_admin', 'domain.read'), ('tenant_admin', 'metrics.read'), ('tenant_admin', 'rails.use'),
  -- ops_manager: broker/shipper/carrier ops, DLQ dry-run, replay approve
  ('ops_manager', 'tenant.read'), ('ops_manager', 'members.read'), ('ops_manager', 'flags.read'),
  ('ops_manager', 'domain.read'), ('ops_manager', 'domain.write'), ('ops_manager', 'domain.delete'),
  ('ops_manager', 'outbox.read'), ('ops_manager', 'outbox.publish'),
  ('ops_manager', 'integrations.read'),
  ('ops_manager', 'dlq.read'), ('ops_manager', 'dlq.replay.request'), ('ops_manager', 'dlq.replay.approve'),
  ('ops_manager', 'traces.read'), ('ops_manager', 'metrics.read'),
  ('ops_manager', 'audit.write'), ('ops_manager', 'rails.use'),
  -- dispatcher: tender/assign/track, exception triage, docs submission
  ('dispatcher', 'tenant.read'), ('dispatcher', 'flags.read'),
  ('dispatcher', 'domain.read'), ('dispatcher', 'domain.write'), ('dispatcher', 'outbox.publish'),
  ('dispatcher', 'audit.write'), ('dispatcher', 'rails.use'),
  -- finance_manager: AR/AP, settlements, factoring releases
  ('finance_manager', 'tenant.read'), ('finance_manager', 'flags.read'),
  ('finance_manager', 'domain.read'), ('finance_manager', 'finance.read'), ('finance_manager', 'finance.write'),
  ('finance_manager', 'outbox.publish'), ('finance_manager', 'cost.read'),
  ('finance_manager', 'metrics.read'), ('finance_manager', 'audit.write'), ('finance_manager', 'rails.use'),
  -- analyst: analytics, exports, KPI dashboards
  ('analyst', 'tenant.read'), ('analyst', 'flags.read'), ('analyst', 'domain.read'),
  ('analyst', 'finance.read'), ('analyst', 'metrics.read'), ('analyst', 'cost.read'),
  ('analyst', 'audit.write'), ('analyst', 'rails.use'),
  -- developer: read prod logs/traces (redacted), deploy to staging only
  ('developer', 'tenant.read'), ('developer', 'flags.read'), ('developer', 'traces.read'),
  ('developer', 'metrics.read'), ('developer', 'outbox.read'), ('developer', 'dlq.read'),
  ('developer', 'deploy.staging'), ('developer', 'audit.write'), ('developer', 'rails.use'),
  -- viewer: read-only dashboards and reports
  ('viewer', 'tenant.read'), ('viewer', 'flags.read'), ('viewer', 'domain.read'),
  ('viewer', 'metrics.read'), ('viewer', 'rails.use'),
  -- autopilot@: queue mgmt, SLO gates, can flip canary flags (and throttle: mode, dlq pause)
  ('autopilot', 'tenant.read'), ('autopilot', 'flags.read'), ('autopilot', 'flags.canary.write'),
  ('autopilot', 'flags.autonomy.write'), ('autopilot', 'domain.read'), ('autopilot', 'outbox.read'),
  ('autopilot', 'dlq.read'), ('autopilot', 'traces.read'), ('autopilot', 'metrics.read'),
  ('autopilot', 'telemetry.write'), ('autopilot', 'rails.read'), ('autopilot', 'rails.use'),
  ('autopilot', 'leases.acquire'), ('autopilot', 'audit.write'), ('autopilot', 'cost.charge'),
  -- agents@: execute tasks, write logs/spans, publish outbox (relay@ delivers it)
  ('agents', 'tenant.read'), ('agents', 'flags.read'), ('agents', 'domain.read'), ('agents', 'domain.write'),
  ('agents', 'outbox.read'), ('agents', 'outbox.publish'),
  ('agents', 'integrations.read'), ('agents', 'dlq.read'),
  ('agents', 'telemetry.write'), ('agents', 'rails.use'), ('agents', 'leases.acquire'),
  ('agents', 'audit.write'), ('agents', 'cost.charge'),
  -- dlq@: DLQ replays (capped), signed internal calls, audit
  ('dlq', 'tenant.read'), ('dlq', 'flags.read'), ('dlq', 'outbox.read'), ('dlq', 'outbox.deliver'),
  ('dlq', 'dlq.read'), ('dlq', 'dlq.replay.request'), ('dlq', 'telemetry.write'),
  ('dlq', 'rails.use'), ('dlq', 'audit.write'),
  -- ci@: post-deploy verify, auto-rollback on SLO breach (disables agents.autonomousEnabled)
  ('ci', 'flags.read'), ('ci', 'flags.autonomy.write'), ('ci', 'metrics.read'), ('ci', 'traces.read'),
  ('ci', 'deploy.staging'), ('ci', 'deploy.production'), ('ci', 'telemetry.write'),
  ('ci', 'rails.use'), ('ci', 'audit.write'),
  -- n8n@: inbound/outbound jobs, signed webhooks, traceparent propagation
  ('n8n', 'tenant.read'), ('n8n', 'flags.read'), ('n8n', 'domain.read'), ('n8n', 'domain.write'),
  ('n8n', 'outbox.read'), ('n8n', 'outbox.publish'), ('n8n', 'integrations.read'),
  ('n8n', 'telemetry.write'), ('n8n', 'rails.use'), ('n8n', 'audit.write'), ('n8n', 'cost.charge'),
  -- system@: break-glass, DR promote/rollback, feature emergencyStop only
  ('system', 'flags.read'), ('system', 'flags.emergency_stop.write'), ('system', 'rails.break_glass'),
  ('system', 'dr.execute'), ('system', 'audit.write'),
  -- relay@ (issue 12): claim, deliver, acknowledge, dead-letter; nothing else. It reads
  -- subscriptions and secrets on the relay's own database session, and its alerts (a dead
  -- event, a receiver gone) are raised inside the acknowledgement functions.
  ('relay', 'outbox.deliver')
) as m(r, p);
-- Principals: humans (sub = auth user id) and machines (service accounts)
create table public.principals (
  id           uuid primary key default gen_random_uuid(),
  kind         text not null constraint principals_kind_allowed_check check (kind in ('human', 'machine')),
  -- humans: lower-case email; machines: the service account name (autopilot, agents, ...)
  name         text not null unique constraint principals_name_lowercase_length_check check (name = lower(name) and length(name) between 2 and 254),
  display_name text,
  created_at   timestamptz not null default now(),
  disabled_at  timestamptz
);
comment on table public.principals is
  'Humans (sub = auth user id) and machine service accounts; the JWT sub must be an enabled row here.';

create table public.role_assignments (
  id           uuid primary key default gen_random_uuid(),
  principal_id uuid not null references public.principals (id) on delete cascade,
  role         text not null references public.roles (role),
  -- null for global roles (super_admin, service accounts)
  tenant_id    uuid references public.tenants (id) on delete cascade,
  granted_by   uuid,
  granted_at   timestamptz not null default now(),
  constraint role_assignments_unique unique nulls not distinct (principal_id, role, tenant_id)
);
comment on table public.role_assignments is
  'Roles held by principals, globally (tenant_id null) or in one tenant.';
create index role_assignments_tenant_idx on public.role_assignments (tenant_id);
create index role_assignments_principal_idx on public.role_assignments (principal_id);
create index role_assignments_role_idx on public.role_assignments (role);

-- Machine service accounts, their keys (hashed) and rotation rehearsals
create table public.service_accounts (
  principal_id       uuid primary key references public.principals (id) on delete cascade,
  name               text not null unique
                     constraint service_accounts_name_allowed_check check (name in ('autopilot', 'agents', 'dlq', 'ci', 'n8n', 'system', 'relay')),
  purpose            text not null,
  rotation_days      int  not null default 90 constraint service_accounts_rotation_days_range_check check (rotation_days between 1 and 90),
  -- true: every key of the account names the tenants it serves (n8n: a tenant's workflows);
  -- false: a platform account (autopilot, agents, dlq, ci, system, relay), whose keys may be global.
  tenant_bound       boolean not null default false,
  -- false: a non-autonomous account (relay): it decides nothing, it delivers what others
  -- committed, so its writes of rail class delivery (its delivery bookkeeping) pass the
  -- kill switch; everything else it might write stops like any machine's (check_rails).
  autonomous         boolean not null default true,
  created_at         timestamptz not null default now()
);
comment on table public.service_accounts is
  'The machine service accounts: the charter''s six (autopilot, agents, dlq, ci, n8n, system) and relay (issue 12).';

create table public.service_account_keys (
  id           uuid primary key default gen_random_uuid(),
  principal_id uuid not null references public.service_accounts (principal_id) on delete cascade,
  key_id       text not null unique,            -- public identifier sent with the request
  -- hex sha256 of the HMAC signing key (itself the hex sha256 of the secret): a fingerprint
  -- that verifies a presented secret and cannot sign. The signing key is in Vault only
  -- (vault entry 'service_key:<key_id>'); the secret is never stored.
  key_hash     text not null,
  -- the tenants the key may act in; null = every tenant its account's grants reach (only
  -- for accounts that are not tenant_bound)
  tenant_ids   uuid[] constraint service_account_keys_tenant_ids_not_empty_check check (tenant_ids is null or cardinality(tenant_ids) > 0),
  created_at   timestamptz not null default now(),
  expires_at   timestamptz not null,
  rotated_at   timestamptz,                     -- when a newer key superseded this one
  revoked_at   timestamptz,
  last_used_at timestamptz,
  purpose      text not null default 'service' constraint service_account_keys_purpose_allowed_check check (purpose in ('service', 'rehearsal')),
  constraint service_account_keys_expires_at_max_90_days_check check (expires_at <= created_at + interval '90 days')
);
comment on table public.service_account_keys is
  'Service account keys: public key_id, a non-signing fingerprint (the signing key is in Vault), the tenants served; 90 days at most.';
create index service_account_keys_principal_idx on public.service_account_keys (principal_id);

create table public.key_rotation_rehearsals (
  id           uuid primary key default gen_random_uuid(),
  principal_id uuid not null references public.service_accounts (principal_id) on delete cascade,
  rehearsed_at timestamptz not null default now(),
  outcome      text not null constraint key_rotation_rehearsals_outcome_allowed_check check (outcome in ('passed', 'failed')),
  details      jsonb not null default '{}'::jsonb,
  performed_by text not null default session_user
);
comment on table public.key_rotation_rehearsals is
  'Outcomes of the monthly key rotation rehearsal (ops.rehearse_key_rotation).';
create index key_rotation_rehearsals_principal_idx on public.key_rotation_rehearsals (principal_id);

-- The service accounts, with fixed ids so the edge can name them in configuration: the
-- charter's six, and relay@ (issue 12), the outbox relay's own non-autonomous principal, so
-- that delivering committed events is nobody's autonomous decision (an SLO rollback that
-- turns agents off, or the stop, does not strand the webhooks of humans' actions).
insert into public.principals (id, kind, name, display_name) values
  ('a0000000-0000-4000-8000-000000000001', 'machine', 'autopilot', 'autopilot@ (orchestrator)'),
  ('a0000000-0000-4000-8000-000000000002', 'machine', 'agents',    'agents@ (workers)'),
  ('a0000000-0000-4000-8000-000000000003', 'machine', 'dlq',       'dlq@ (replay)'),
  ('a0000000-0000-4000-8000-000000000004', 'machine', 'ci',        'ci@ (self-heal)'),
  ('a0000000-0000-4000-8000-000000000005', 'machine', 'n8n',       'n8n@ (workflows)'),
  ('a0000000-0000-4000-8000-000000000006', 'machine', 'system',    'system@ (break-glass)'),
  ('a0000000-0000-4000-8000-000000000007', 'machine', 'relay',     'relay@ (delivery)');

insert into public.service_accounts (principal_id, name, purpose, tenant_bound, autonomous)
select p.id, p.name, r.description, p.name = 'n8n', p.name <> 'relay'
from public.principals p join public.roles r on r.role = p.name
where p.kind = 'machine';

-- Service accounts act platform-wide (a global assignment); a request narrows them to one
-- tenant through the tenant_id claim.
insert into public.role_assignments (principal_id, role, tenant_id)
select principal_id, name, null from public.service_accounts;

-- RLS registry + policy generator for tenant tables
-- Every table holding tenant data registers here with the permission each operation needs
-- (null = nobody through the API; writes then happen only in SECURITY DEFINER functions).
-- The pgTAP RLS matrix is generated from this registry and the permission matrix.
create table ops.rls_registry (
  table_name    regclass primary key,
  tenant_column name not null default 'tenant_id',
  select_perm   text references public.permissions (permission),
  insert_perm   text references public.permissions (permission),
  update_perm   text references public.permissions (permission),
  delete_perm   text references public.permissions (permission),
  -- 'generic': policies generated by ops.tenant_rls; 'custom': hand-written policies
  policy_kind   text not null default 'generic' constraint rls_registry_policy_kind_allowed_check check (policy_kind in ('generic', 'custom')),
  -- a valid row for the pgTAP RLS matrix, as jsonb with tokens replaced by the test:
  -- "$tenant" (tenant uuid), "$n" (a small integer), "$uuid" (a fresh uuid),
  -- "$principal" (a spare human principal). Set with ops.set_rls_sample().
  sample        jsonb
);
comment on table ops.rls_registry is
  'Every tenant table with the permission each operation needs; the RLS policies and the pgTAP RLS matrix are generated from it.';

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------

-- raise_error: raises `code: message` with the code's SQLSTATE; detail is JSON text.
create function app_private.raise_error(p_code text, p_message text, p_detail jsonb default null)
returns void
language plpgsql set search_path = '' as $$
declare
  v_state text;
begin
  select e.sqlstate into v_state from public.rail_errors e where e.code = p_code;
  if v_state is null then
    raise exception 'raise_error: unknown error code %', p_code;
  end if;
  if p_detail is null then
    raise exception using errcode = v_state, message = p_code || ': ' || p_message;
  end if;
  raise exception using errcode = v_state, message = p_code || ': ' || p_message,
                        detail = p_detail::text;
end $$;
comment on function app_private.raise_error(text, text, jsonb) is
  'Raises a catalogued error (public.rail_errors): SQLSTATE of the code, message "<code>: ...".';

-- Specific errors for bad assignments (before the FK would give a generic one).
create function app_private.validate_role_assignment() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_role  public.roles;
  v_kind  text;
begin
  select * into v_role from public.roles r where r.role = new.role;
  if not found then
    perform app_private.raise_error('unknown_role',
      format('"%s" is not a role; known roles: %s', new.role,
             (select string_agg(r.role, ', ' order by r.kind, r.role) from public.roles r)));
  end if;
  if v_role.scope = 'global' and new.tenant_id is not null then
    perform app_private.raise_error('bad_role_scope',
      format('%s is a global role; tenant_id must be null', new.role));
  end if;
  if v_role.scope = 'tenant' and new.tenant_id is null then
    perform app_private.raise_error('bad_role_scope',
      format('%s is a tenant role; it needs a tenant_id', new.role));
  end if;
  select p.kind into v_kind from public.principals p where p.id = new.principal_id;
  if v_kind is not null and v_kind <> v_role.kind then
    perform app_private.raise_error('bad_role_scope',
      format('%s is a %s role; principal %s is %s', new.role, v_role.kind, new.principal_id, v_kind));
  end if;
  if tg_op = 'INSERT' then
    new.granted_by := auth.uid();
    new.granted_at := now();
  end if;
  return new;
end $$;

create trigger validate_role_assignment
  before insert or update on public.role_assignments
  for each row execute function app_private.validate_role_assignment();

-- Identity helpers

-- One claim from request.jwt.claims (null when absent or empty).
create function app_private.claim(p_name text) returns text
language sql stable set search_path = '' as $$
  select nullif(nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> p_name, '')
$$;

-- The tenant the request is narrowed to (tenant_id claim), or null.
create function app_private.claim_tenant() returns uuid
language plpgsql stable set search_path = '' as $$
declare
  v text := app_private.claim('tenant_id');
begin
  if v is null then
    return null;
  end if;
  if v !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    perform app_private.raise_error('bad_request', format('claim tenant_id "%s" is not a uuid', v));
  end if;
  return v::uuid;
end $$;

-- The calling principal: auth.uid() resolved against public.principals (enabled only).
create function app_private.principal_id() returns uuid
language sql stable security definer set search_path = '' as $$
  select p.id from public.principals p where p.id = auth.uid() and p.disabled_at is null
$$;

-- The grants behind a permission for the calling principal: one row per assignment whose
-- role carries the permission; tenant_id null = global grant. The single source of truth
-- for has_permission and permitted_tenants.
-- auth.uid() (which parses the JWT claims) is read once, and the result is memoized for the
-- rest of the transaction, per principal: one action asks for the same grants about ten
-- times (every RLS policy it meets, the rails, the rate limit, the Live Feed). The memo
-- lives in the transaction-local setting app.grants_memo and is cleared by any change to
-- role_assignments, role_permissions, principals, tenants or permissions in the same
-- transaction (grants_memo_clear below); a change committed by another session applies
-- from the caller's next transaction (as a REPEATABLE READ caller would see it). A session
-- that can set settings can already set request.jwt.claims, so the memo adds no way around
-- the checks.
create function app_private.permission_grants(p_permission text)
returns table (tenant_id uuid)
language plpgsql stable security definer set search_path = '' as $$
declare
  v_uid  uuid;
  v_memo text;
  v_at   int;
  v_list text[];
begin
  if not exists (select 1 from public.permissions x where x.permission = p_permission) then
    perform app_private.raise_error('unknown_permission',
      format('"%s" is not a permission', p_permission));
  end if;
  v_uid := auth.uid();
  if v_uid is null then
    return;  -- no principal, no grants
  end if;
  -- memo: '<uid>;<permission>:<tenant ids, * = global>;...'
  v_memo := coalesce(current_setting('app.grants_memo', true), '');
  if left(v_memo, 37) = v_uid::text || ';' then
    v_at := strpos(v_memo, ';' || p_permission || ':');
    if v_at > 0 then
      return query
        select nullif(x, '*')::uuid
        from unnest(string_to_array(split_part(substr(v_memo, v_at + length(p_permission) + 2), ';', 1), ',')) x;
      return;
    end if;
  else
    v_memo := v_uid::text || ';';
  end if;
  select coalesce(array_agg(coalesce(ra.tenant_id::text, '*')), '{}') into v_list
  from public.role_assignments ra
  join public.role_permissions rp on rp.role = ra.role and rp.permission = p_permission
  join public.principals p on p.id = ra.principal_id and p.disabled_at is null
  left join public.tenants t on t.id = ra.tenant_id
  where ra.principal_id = v_uid
    and (ra.tenant_id is null or t.status = 'active');
  perform set_config('app.grants_memo', v_memo || p_permission || ':' || array_to_string(v_list, ',') || ';', true);
  return query select nullif(x, '*')::uuid from unnest(v_list) x;
end $$;
comment on function app_private.permission_grants(text) is
  'The caller''s grants of a permission (tenant ids, null = global), memoized per transaction.';

-- Any change to what grants are made of clears the memo (statement level, same transaction).
create function app_private.grants_memo_clear() returns trigger
language plpgsql set search_path = '' as $$
begin
  perform set_config('app.grants_memo', '', true);
  return null;
end $$;
revoke execute on function app_private.grants_memo_clear() from public;

create trigger grants_memo_clear after insert or update or delete or truncate on public.role_assignments
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.role_permissions
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.principals
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.tenants
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.permissions
  for each statement execute function app_private.grants_memo_clear();

-- THE permission check. p_tenant_id null asks for a global grant (platform-level objects:
-- global flags, tenants, keys). For a tenant: a global grant or a grant in that tenant, and
-- the tenant must be the one the request is narrowed to (tenant_id claim) when there is one.
-- A global grant reaches only tenants that exist: a signed machine request naming an unknown
-- tenant is refused (forbidden) like one naming a tenant the caller has no role in.
create function app_private.has_permission(p_tenant_id uuid, p_permission text)
returns boolean
language sql stable security definer set search_path = '' as $$
  select case
    when p_tenant_id is null then
      exists (select 1 from app_private.permission_grants(p_permission) g where g.tenant_id is null)
    else
      (app_private.claim_tenant() is null or app_private.claim_tenant() = p_tenant_id)
      and exists (select 1 from app_private.permission_grants(p_permission) g
                  where g.tenant_id = p_tenant_id
                     or (g.tenant_id is null and exists (select 1 from public.tenants t where t.id = p_tenant_id)))
  end
$$;
comment on function app_private.has_permission(uuid, text) is
  'THE permission check: a global grant, or a grant in the tenant the request is narrowed to.';

-- Set form of has_permission: every tenant where has_permission(tenant, p) is true.
-- Policies use `tenant_id = any ((select app_private.permitted_tenants('p'))::uuid[])`: evaluated
-- once per statement (initPlan) and index-friendly. PL/pgSQL (plans cached per session), the
-- tenant claim read once, and a primary-key lookup when the request is narrowed to a tenant.
create function app_private.permitted_tenants(p_permission text)
returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  v_claim  uuid := app_private.claim_tenant();
  v_global boolean;
  v_grants uuid[];
begin
  -- (permission_grants raises unknown_permission for a permission that does not exist)
  select coalesce(bool_or(g.tenant_id is null), false), array_agg(g.tenant_id) filter (where g.tenant_id is not null)
    into v_global, v_grants
  from app_private.permission_grants(p_permission) g;
  if v_claim is not null then
    if v_global or v_claim = any (v_grants) then
      return coalesce((select array_agg(t.id) from public.tenants t where t.id = v_claim), '{}'::uuid[]);
    end if;
    return '{}'::uuid[];
  end if;
  if v_global then
    return (select coalesce(array_agg(t.id), '{}'::uuid[]) from public.tenants t);
  end if;
  return (select coalesce(array_agg(t.id), '{}'::uuid[]) from public.tenants t where t.id = any (v_grants));
end $$;
comment on function app_private.permitted_tenants(text) is
  'Every tenant where the caller holds a permission; what the tenant policies compare with (once per statement).';

-- Raises forbidden unless has_permission; trusted database sessions (no JWT principal and
-- not an API role: migrations, pg_cron, psql as the owner) pass.
create function app_private.is_trusted_session() returns boolean
language sql stable set search_path = '' as $$
  select auth.uid() is null
     and coalesce(nullif(current_setting('role', true), 'none'), session_user::text)
         not in ('anon', 'authenticated', 'service_role', 'authenticator')
$$;

create function app_private.require_permission(p_tenant_id uuid, p_permission text)
returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if app_private.is_trusted_session() then
    return;
  end if;
  if app_private.principal_id() is null then
    perform app_private.raise_error('unknown_principal',
      format('no enabled principal for sub %s', coalesce(auth.uid()::text, '(none)')));
  end if;
  if not app_private.has_permission(p_tenant_id, p_permission) then
    -- a suspended tenant's members hold nothing there: say why (issue 17, super_admin)
    if exists (select 1 from public.tenants t where t.id = p_tenant_id and t.status = 'suspended')
       and p_tenant_id = app_private.claim_tenant() then
      perform app_private.raise_error('tenant_suspended', format('tenant %s is suspended', p_tenant_id),
        jsonb_build_object('tenant_id', p_tenant_id));
    end if;
    perform app_private.raise_error('forbidden',
      -- by id and kind, never by name: rail messages reach the Postgres log
      format('principal %s (%s) lacks %s in %s', app_private.principal_id(),
             (select p.kind from public.principals p where p.id = app_private.principal_id()), p_permission,
             coalesce('tenant ' || p_tenant_id::text, 'the platform (global)')));
  end if;
end $$;
comment on function app_private.require_permission(uuid, text) is
  'Raises forbidden / unknown_principal unless the caller holds the permission (trusted sessions pass).';

-- Resolves the caller in one round trip for the edge.
create function app_private.current_principal()
returns table (
  principal_id uuid, kind text, name text, tenant_id uuid,
  roles text[], permissions text[], tenants uuid[]
)
language sql stable security definer set search_path = '' as $$
  with p as (
    select p.id, p.kind, p.name from public.principals p
    where p.id = auth.uid() and p.disabled_at is null
  ),
  ctx as (select app_private.claim_tenant() as tenant_id),
  ra as (
    select ra.role from public.role_assignments ra, p, ctx
    left join public.tenants t on t.id = ctx.tenant_id
    where ra.principal_id = p.id
      and (ra.tenant_id is null or (ra.tenant_id = ctx.tenant_id and t.status = 'active'))
  )
  select p.id, p.kind, p.name, ctx.tenant_id,
         coalesce((select array_agg(distinct ra.role order by ra.role) from ra), '{}'),
         coalesce((select array_agg(distinct rp.permission order by rp.permission)
                   from ra join public.role_permissions rp on rp.role = ra.role), '{}'),
         coalesce((select array_agg(distinct x.tenant_id order by x.tenant_id)
                   from public.role_assignments x
                   where x.principal_id = p.id and x.tenant_id is not null), '{}')
  from p, ctx
$$;
comment on function app_private.current_principal() is
  'The caller resolved in one round trip: principal, roles, permissions, tenants.';

grant execute on function
  app_private.claim(text),
  app_private.claim_tenant(),
  app_private.principal_id(),
  app_private.permission_grants(text),
  app_private.has_permission(uuid, text),
  app_private.permitted_tenants(text),
  app_private.is_trusted_session(),
  app_private.require_permission(uuid, text),
  app_private.current_principal()
to authenticated, service_role;

-- Records the RLS-matrix sample row of a registered table, e.g.
--   select ops.set_rls_sample('public.quotes', '{"tenant_id": "$tenant", "ref": "Q-$n"}');
create function ops.set_rls_sample(p_table regclass, p_sample jsonb) returns void
language plpgsql set search_path = '' as $$
begin
  update ops.rls_registry set sample = p_sample where table_name = p_table;
  if not found then
    raise exception 'ops.set_rls_sample: % is not in ops.rls_registry (attach it with ops.attach_rails first)', p_table;
  end if;
end $$;
comment on function ops.set_rls_sample(regclass, jsonb) is
  'Records the RLS-matrix sample row of a registered table.';

-- ops.tenant_rls: enables RLS, grants exactly the operations that have a permission to
-- authenticated (nothing to anon), and (re)creates one policy per operation:
--   tenant_id = any ((select app_private.permitted_tenants(perm))::uuid[])
-- plus, when the tenant column is nullable, platform rows (tenant null) for global grants.
create function ops.tenant_rls(
  p_table regclass,
  p_select text, p_insert text, p_update text, p_delete text,
  p_tenant_column name default 'tenant_id'
) returns void
language plpgsql set search_path = '' as $$
declare
  v_nullable boolean;
  v_expr     text;
  v_op       text;
  v_perm     text;
  v_pol      record;
begin
  select not a.attnotnull into v_nullable
  from pg_catalog.pg_attribute a
  where a.attrelid = p_table and a.attname = p_tenant_column and not a.attisdropped;
  if v_nullable is null then
    raise exception 'ops.tenant_rls: % has no column %', p_table, p_tenant_column;
  end if;

  insert into ops.rls_registry (table_name, tenant_column, select_perm, insert_perm, update_perm, delete_perm)
  values (p_table, p_tenant_column, p_select, p_insert, p_update, p_delete)
  on conflict (table_name) do update set
    tenant_column = excluded.tenant_column, select_perm = excluded.select_perm,
    insert_perm = excluded.insert_perm, update_perm = excluded.update_perm,
    delete_perm = excluded.delete_perm, policy_kind = 'generic';

  execute format('alter table %s enable row level security', p_table);
  execute format('revoke all on %s from anon, authenticated', p_table);
  execute format('grant select, insert, update, delete on %s to service_role', p_table);

  for v_pol in select polname from pg_catalog.pg_policy where polrelid = p_table and polname like 'tenant\_%' loop
    execute format('drop policy %I on %s', v_pol.polname, p_table);
  end loop;

  foreach v_op in array array['select', 'insert', 'update', 'delete'] loop
    v_perm := case v_op when 'select' then p_select when 'insert' then p_insert
                        when 'update' then p_update else p_delete end;
    continue when v_perm is null;
    v_expr := format('%I = any ((select app_private.permitted_tenants(%L))::uuid[])', p_tenant_column, v_perm);
    if v_nullable then
      v_expr := format('(%s or (%I is null and (select app_private.has_permission(null, %L))))',
                       v_expr, p_tenant_column, v_perm);
    end if;
    execute format('grant %s on %s to authenticated', v_op, p_table);
    execute format('create policy %I on %s as permissive for %s to authenticated %s',
      'tenant_' || v_op, p_table, v_op,
      case v_op when 'insert' then 'with check (' || v_expr || ')'
                when 'update' then 'using (' || v_expr || ') with check (' || v_expr || ')'
                else 'using (' || v_expr || ')' end);
  end loop;

  -- Index the policy column (skip when an index already leads with it).
  if not exists (
    select 1 from pg_catalog.pg_index i
    join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
    where i.indrelid = p_table and a.attname = p_tenant_column
  ) then
    execute format('create index on %s (%I)', p_table, p_tenant_column);
  end if;
end $$;
comment on function ops.tenant_rls(regclass, text, text, text, text, name) is
  'Enables RLS on a tenant table and generates one policy per operation from its permissions (registered in ops.rls_registry).';

-- Membership and service-key operations

-- Invite (or re-role) a human into a tenant: members.manage in that tenant. A principal
-- that already exists is neither renamed nor enrolled by a tenant's admin when it belongs
-- anywhere else (another tenant, a global role): that takes principals.manage (global).
create function app_private.invite_member(p_tenant_id uuid, p_email text, p_role text,
                                          p_display_name text default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_id uuid;
  v_email text := lower(btrim(p_email));
  v_platform boolean := app_private.is_trusted_session() or app_private.has_permission(null, 'principals.manage');
begin
  perform app_private.require_permission(p_tenant_id, 'members.manage');
  if p_tenant_id is null then
    perform app_private.raise_error('bad_role_scope', 'invite_member needs a tenant_id');
  end if;
  if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+$' then
    perform app_private.raise_error('bad_request', 'the invitee is not an email address');
  end if;
  select p.id into v_id from public.principals p where p.name = v_email;
  if v_id is not null and not v_platform
     and exists (select 1 from public.role_assignments ra
                 where ra.principal_id = v_id and ra.tenant_id is distinct from p_tenant_id) then
    perform app_private.raise_error('forbidden',
      format('principal %s belongs to another tenant; only principals.manage may enroll it here', v_id));
  end if;
  insert into public.principals (kind, name, display_name)
  values ('human', v_email, p_display_name)
  on conflict (name) do update
    set display_name = case when v_platform then coalesce(excluded.display_name, public.principals.display_name)
                            else public.principals.display_name end
  returning id into v_id;
  if (select kind from public.principals where id = v_id) <> 'human' then
    perform app_private.raise_error('bad_role_scope', format('principal %s is a machine principal', v_id));
  end if;
  insert into public.role_assignments (principal_id, role, tenant_id)
  values (v_id, p_role, p_tenant_id)
  on conflict on constraint role_assignments_unique do nothing;
  return v_id;
end $$;
grant execute on function app_private.invite_member(uuid, text, text, text) to authenticated, service_role;

-- Issues a key for a service account; the plaintext secret is returned once. The HMAC
-- signing key (hex sha256 of the secret) goes to Vault ('service_key:<key_id>'); the table
-- keeps only its fingerprint. A tenant_bound account's key must name its tenants.
create function ops.issue_service_key(p_account text, p_valid_days int default 90,
                                      p_purpose text default 'service', p_tenant_ids uuid[] default null)
returns table (key_id text, secret text, expires_at timestamptz)
language plpgsql set search_path = '' as $$
declare
  v_sa public.service_accounts;
  v_secret text := translate(encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
  v_signing text;
  v_key_id text;
begin
  select * into v_sa from public.service_accounts s where s.name = p_account;
  if not found then
    perform app_private.raise_error('bad_request', format('no service account named "%s"', p_account));
  end if;
  if p_valid_days is null or p_valid_days < 1 or p_valid_days > v_sa.rotation_days then
    perform app_private.raise_error('bad_request',
      format('keys for %s are valid 1..%s days (got %s)', p_account, v_sa.rotation_days, p_valid_days));
  end if;
  if v_sa.tenant_bound and coalesce(cardinality(p_tenant_ids), 0) = 0 then
    perform app_private.raise_error('bad_request',
      format('keys for %s name the tenants they serve (p_tenant_ids)', p_account));
  end if;
  v_key_id := 'sk_' || p_account || '_' || encode(extensions.gen_random_bytes(8), 'hex');
  v_signing := encode(sha256(convert_to(v_secret, 'UTF8')), 'hex');
  perform vault.create_secret(v_signing, 'service_key:' || v_key_id, 'HMAC v2 signing key of ' || v_key_id);
  insert into public.service_account_keys (principal_id, key_id, key_hash, tenant_ids, expires_at, purpose)
  values (v_sa.principal_id, v_key_id, encode(sha256(convert_to(v_signing, 'UTF8')), 'hex'),
          nullif(p_tenant_ids, '{}'), now() + make_interval(days => p_valid_days), p_purpose);
  return query select v_key_id, v_secret, now() + make_interval(days => p_valid_days);
end $$;

-- Rotation: a new key; the older live keys stay valid for a grace period, then expire.
-- The new key serves p_tenant_ids, or (null) the tenants of the live keys it replaces
-- (global when one of them is global).
create function ops.rotate_service_key(p_account text, p_grace interval default interval '24 hours',
                                       p_tenant_ids uuid[] default null)
returns table (key_id text, secret text, expires_at timestamptz)
language plpgsql set search_path = '' as $$
declare
  v_new record;
  v_tenants uuid[] := p_tenant_ids;
begin
  if v_tenants is null then
    -- (stays null when a live key is global, or there is none)
    select case when bool_or(k.tenant_ids is null) then null else array_agg(distinct t.id) end into v_tenants
    from public.service_account_keys k
    left join lateral unnest(k.tenant_ids) as t(id) on true
    where k.principal_id = (select principal_id from public.service_accounts where name = p_account)
      and k.revoked_at is null and k.rotated_at is null and k.expires_at > now() and k.purpose = 'service';
  end if;
  select * into v_new from ops.issue_service_key(p_account, 90, 'service', v_tenants);
  update public.service_account_keys k
     set rotated_at = now(), expires_at = least(k.expires_at, now() + p_grace)
   where k.principal_id = (select principal_id from public.service_accounts where name = p_account)
     and k.key_id <> v_new.key_id and k.revoked_at is null and k.rotated_at is null
     and k.purpose = 'service';
  return query select v_new.key_id, v_new.secret, v_new.expires_at;
end $$;

-- Verifies a presented key; returns the service account's principal id or null.
create function app_private.verify_service_key(p_key_id text, p_secret text)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_principal uuid;
begin
  update public.service_account_keys k set last_used_at = now()
   where k.key_id = p_key_id
     and k.key_hash = encode(sha256(convert_to(encode(sha256(convert_to(coalesce(p_secret, ''), 'UTF8')), 'hex'), 'UTF8')), 'hex')
     and k.revoked_at is null and k.expires_at > now()
  returning k.principal_id into v_principal;
  if v_principal is null then
    return null;
  end if;
  return (select p.id from public.principals p where p.id = v_principal and p.disabled_at is null);
end $$;
grant execute on function app_private.verify_service_key(text, text) to service_role;

-- Revokes a key and removes its signing key from Vault.
create function ops.revoke_service_key(p_key_id text) returns boolean
language sql set search_path = '' as $$
  with r as (update public.service_account_keys set revoked_at = now()
             where key_id = p_key_id and revoked_at is null
             returning key_id),
       d as (delete from vault.secrets v using r where v.name = 'service_key:' || r.key_id)
  select true from r
$$;

-- Monthly rehearsal (charter §1): issue, verify, reject a wrong secret, revoke, verify the
-- revoked key fails; the outcome is recorded.
create function ops.rehearse_key_rotation(p_account text)
returns public.key_rotation_rehearsals
language plpgsql set search_path = '' as $$
declare
  v_key record;
  v_ok_fresh boolean; v_ok_wrong boolean; v_ok_revoked boolean;
  v_row public.key_rotation_rehearsals;
begin
  -- (a tenant_bound account's rehearsal key serves no real tenant)
  select * into v_key from ops.issue_service_key(p_account, 1, 'rehearsal',
    case when (select tenant_bound from public.service_accounts where name = p_account)
         then array['00000000-0000-0000-0000-000000000000'::uuid] end);
  v_ok_fresh   := app_private.verify_service_key(v_key.key_id, v_key.secret) is not null;
  v_ok_wrong   := app_private.verify_service_key(v_key.key_id, v_key.secret || 'x') is null;
  perform ops.revoke_service_key(v_key.key_id);
  v_ok_revoked := app_private.verify_service_key(v_key.key_id, v_key.secret) is null;
  insert into public.key_rotation_rehearsals (principal_id, outcome, details)
  values ((select principal_id from public.service_accounts where name = p_account),
          case when v_ok_fresh and v_ok_wrong and v_ok_revoked then 'passed' else 'failed' end,
          jsonb_build_object('key_id', v_key.key_id, 'fresh_key_verified', v_ok_fresh,
                             'wrong_secret_rejected', v_ok_wrong, 'revoked_key_rejected', v_ok_revoked))
  returning * into v_row;
  return v_row;
end $$;

-- Keys that expire within p_within (the 90-day rotation alarm).
create function ops.service_keys_due(p_within interval default interval '14 days')
returns table (account text, key_id text, expires_at timestamptz)
language sql stable set search_path = '' as $$
  select s.name, k.key_id, k.expires_at
  from public.service_account_keys k join public.service_accounts s using (principal_id)
  where k.revoked_at is null and k.rotated_at is null and k.purpose = 'service'
    and k.expires_at < now() + p_within
  order by k.expires_at
$$;

-------------------------------------------------------------------------------------------
-- row level security
-------------------------------------------------------------------------------------------

-- Reference data: readable by every authenticated principal, written by migrations only.
do $$
declare t text;
begin
  foreach t in array array['public.rail_errors', 'public.portals', 'public.roles',
                           'public.permissions', 'public.role_permissions'] loop
    execute format('alter table %s enable row level security', t);
    execute format('revoke all on %s from anon, authenticated', t);
    execute format('grant select on %s to authenticated', t);
    execute format('grant select on %s to service_role', t);
    execute format('create policy reference_read on %s for select to authenticated using (true)', t);
  end loop;
end $$;

-- tenants: tenant.read members see their tenant; tenant.manage edits it; provisioning and
-- removal need the global platform.tenants.manage.
alter table public.tenants enable row level security;
revoke all on public.tenants from anon, authenticated;
grant select, insert, update, delete on public.tenants to authenticated, service_role;
create policy tenants_select on public.tenants for select to authenticated
  using (id = any ((select app_private.permitted_tenants('tenant.read'))::uuid[]));
create policy tenants_insert on public.tenants for insert to authenticated
  with check ((select app_private.has_permission(null, 'platform.tenants.manage')));
create policy tenants_update on public.tenants for update to authenticated
  using (id = any ((select app_private.permitted_tenants('tenant.manage'))::uuid[]))
  with check (id = any ((select app_private.permitted_tenants('tenant.manage'))::uuid[]));
create policy tenants_delete on public.tenants for delete to authenticated
  using ((select app_private.has_permission(null, 'platform.tenants.manage')));

-- principals: yourself, everyone (principals.read, global), or the members of a tenant
-- where you hold members.read. Changes: principals.manage (global) or invite_member().
alter table public.principals enable row level security;
revoke all on public.principals from anon, authenticated;
grant select, insert, update, delete on public.principals to authenticated, service_role;
create policy principals_select on public.principals for select to authenticated
  using (
    id = (select auth.uid())
    or (select app_private.has_permission(null, 'principals.read'))
    or exists (select 1 from public.role_assignments ra
               where ra.principal_id = principals.id
                 and ra.tenant_id = any ((select app_private.permitted_tenants('members.read'))::uuid[]))
  );
create policy principals_write on public.principals for all to authenticated
  using ((select app_private.has_permission(null, 'principals.manage')))
  with check ((select app_private.has_permission(null, 'principals.manage')));

-- role_assignments: registered tenant table (members.read / members.manage); a principal
-- also sees its own assignments. Global assignments need global grants (nullable column).
select ops.tenant_rls('public.role_assignments', 'members.read', 'members.manage',
                      'members.manage', 'members.manage');
create policy own_assignments on public.role_assignments for select to authenticated
  using (principal_id = (select auth.uid()));
select ops.set_rls_sample('public.role_assignments',
  '{"principal_id": "$principal", "role": "viewer", "tenant_id": "$tenant"}');

-- Service accounts, keys (never the hash) and rehearsals: keys.read / keys.manage, global.
alter table public.service_accounts enable row level security;
alter table public.service_account_keys enable row level security;
alter table public.key_rotation_rehearsals enable row level security;
revoke all on public.service_accounts, public.service_account_keys, public.key_rotation_rehearsals
  from anon, authenticated;
grant select on public.service_accounts, public.key_rotation_rehearsals to authenticated;
grant select (id, principal_id, key_id, tenant_ids, created_at, expires_at, rotated_at, revoked_at, last_used_at, purpose)
  on public.service_account_keys to authenticated;
grant select, insert, update, delete on public.service_accounts, public.service_account_keys,
  public.key_rotation_rehearsals to service_role;
create policy service_accounts_read on public.service_accounts for select to authenticated
  using ((select app_private.has_permission(null, 'keys.read')));
create policy service_account_keys_read on public.service_account_keys for select to authenticated
  using ((select app_private.has_permission(null, 'keys.read')));
create policy key_rotation_rehearsals_read on public.key_rotation_rehearsals for select to authenticated
  using ((select app_private.has_permission(null, 'keys.read')));
