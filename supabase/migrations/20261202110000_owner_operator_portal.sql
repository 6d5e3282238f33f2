-- Owner Operator portal: an owner operator is a carrier party of the freight core (one
-- truck, its own authority) with an owner_operator_profiles row. Its users are carrier
-- users of that party (party RLS, audience carrier): they read their own loads, revenue per
-- load and per mile (buy charge lines / recorded miles), settlements and maintenance.
--
-- Settlements: a pay statement over delivered (or completed) loads of the owner operator
-- minus deductions (its open fuel advances, escrow, lease, insurance), integer cents,
-- computed and posted in one SQL function (owner_operator_settlement_create) with a
-- balanced journal entry in the core's ledger. A load is settled once (a unique index on
-- the settlement's load lines: settlement_duplicate, every door).
--
-- Maintenance: service intervals per unit (the core's equipment) by miles and / or days,
-- service records, an odometer. Overdue service is an alert (owner_operator_service_status)
-- and, with owner_operator.blockOverdueDispatch on, a trigger on loads refuses assigning an
-- overdue unit (unit_service_overdue) from every door; the maintenance agent blocks the unit
-- (equipment.status blocked, a owner_operator_unit_blocks row, reversible by clearing it).
--
-- Sections: permissions and grants (error codes, permissions); flags; tables; functions;
-- party policies and triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('settlement_duplicate', 'SY190', 409, 'Load already settled',
   'A load is on one settlement only; the DETAIL names the load and the settlement it is on.'),
  ('settlement_invalid', 'SY191', 422, 'Settlement not possible',
   'A settlement names delivered or completed loads of the owner operator that carry buy charge lines, and its deductions do not exceed the gross.'),
  ('not_owner_operator', 'SY192', 422, 'Not an owner operator',
   'The party is not a carrier with an owner operator profile (or the unit is not one of its units).'),
  ('unit_service_overdue', 'SY193', 422, 'Unit overdue for service',
   'The tractor or trailer is overdue for a service interval and owner_operator.blockOverdueDispatch is on: record the service first.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('owner_operator.read',              'Read owner operators'' loads, revenue, settlements and maintenance (outside users: their own party)'),
  ('owner_operator.settle',            'Record fuel advances and create owner operator settlements (posts to the ledger)'),
  ('owner_operator.maintenance.write', 'Record service intervals, service records and odometer readings of owner operators'' units'),
  ('owner_operator.unit.block',        'Block and unblock an owner operator''s unit for overdue service')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'owner_operator.read'), ('super_admin', 'owner_operator.settle'),
  ('super_admin', 'owner_operator.maintenance.write'), ('super_admin', 'owner_operator.unit.block'),
  ('ops_manager', 'owner_operator.read'), ('ops_manager', 'owner_operator.maintenance.write'), ('ops_manager', 'owner_operator.unit.block'),
  ('dispatcher', 'owner_operator.read'), ('dispatcher', 'owner_operator.maintenance.write'),
  ('finance_manager', 'owner_operator.read'), ('finance_manager', 'owner_operator.settle'), ('finance_manager', 'freight.document.upload'),
  ('agents', 'owner_operator.read'), ('agents', 'owner_operator.unit.block'),
  ('carrier_user', 'owner_operator.read'), ('carrier_user', 'owner_operator.maintenance.write')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('owner_operator.blockOverdueDispatch', 'boolean', null, null, null, false, '{global,tenant}', 'false', 'freight.settings.manage',
   'Assigning a tractor or trailer that is overdue for service to a load is refused (unit_service_overdue) from every door')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- A carrier party that is an owner operator, and its settlement defaults (cents deducted
-- per settlement unless the settlement says otherwise).
create table public.owner_operator_profiles (
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  carrier_party_id uuid not null,
  currency         char(3) not null default 'USD' constraint owner_operator_profiles_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  escrow_cents     bigint not null default 0 constraint owner_operator_profiles_escrow_cents_nonnegative_check check (escrow_cents >= 0),
  lease_cents      bigint not null default 0 constraint owner_operator_profiles_lease_cents_nonnegative_check check (lease_cents >= 0),
  insurance_cents  bigint not null default 0 constraint owner_operator_profiles_insurance_cents_nonnegative_check check (insurance_cents >= 0),
  created_at       timestamptz not null default now(),
  primary key (tenant_id, carrier_party_id),
  constraint owner_operator_profiles_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.owner_operator_profiles is
  'Carrier parties that are owner operators, with their per-settlement deductions in cents (escrow, lease, insurance); staff write.';
select ops.attach_rails('public.owner_operator_profiles', p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_profiles', '{"tenant_id": "$tenant", "carrier_party_id": "$carrier"}');

-- Miles of a load as the owner operator drove it (revenue per mile).
create table public.owner_operator_load_miles (
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  load_id          uuid not null,
  carrier_party_id uuid not null,
  loaded_miles     int not null constraint owner_operator_load_miles_loaded_range_check check (loaded_miles between 1 and 20000),
  empty_miles      int not null default 0 constraint owner_operator_load_miles_empty_range_check check (empty_miles between 0 and 20000),
  recorded_at      timestamptz not null default now(),
  primary key (tenant_id, load_id),
  constraint owner_operator_load_miles_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint owner_operator_load_miles_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.owner_operator_load_miles is
  'Loaded and empty miles of a load driven by an owner operator (revenue per mile); written through owner_operator_miles_record.';
select ops.attach_rails('public.owner_operator_load_miles', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_load_miles',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "carrier_party_id": "$carrier", "loaded_miles": 900}');

-- Fuel advances paid to an owner operator, recovered by its next settlement.
create table public.owner_operator_fuel_advances (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  carrier_party_id uuid not null,
  amount_cents     bigint not null constraint owner_operator_fuel_advances_amount_positive_check check (amount_cents > 0),
  currency         char(3) not null default 'USD' constraint owner_operator_fuel_advances_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  note             text,
  journal_entry_id uuid not null,
  settlement_id    uuid,
  created_at       timestamptz not null default now(),
  constraint owner_operator_fuel_advances_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.owner_operator_fuel_advances is
  'Fuel advances (cents) to an owner operator, posted to the ledger; settlement_id is the settlement that recovered it.';
create index owner_operator_fuel_advances_open_idx on public.owner_operator_fuel_advances (carrier_party_id) where settlement_id is null;
select ops.attach_rails('public.owner_operator_fuel_advances', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_fuel_advances',
  '{"tenant_id": "$tenant", "carrier_party_id": "$carrier", "amount_cents": 5000, "journal_entry_id": "$uuid"}');

-- Settlements: the pay statement. net = gross - deductions (a CHECK), every figure cents.
create table public.owner_operator_settlements (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  carrier_party_id uuid not null,
  number           text not null,
  currency         char(3) not null constraint owner_operator_settlements_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  gross_cents      bigint not null constraint owner_operator_settlements_gross_positive_check check (gross_cents > 0),
  deductions_cents bigint not null constraint owner_operator_settlements_deductions_nonnegative_check check (deductions_cents >= 0),
  net_cents        bigint not null,
  journal_entry_id uuid not null,
  document_id      uuid,
  statement        jsonb not null,
  created_by       uuid default auth.uid(),
  created_at       timestamptz not null default now(),
  trace_id         text,
  constraint owner_operator_settlements_net_check check (net_cents = gross_cents - deductions_cents and net_cents >= 0),
  constraint owner_operator_settlements_tenant_id_unique unique (tenant_id, id),
  constraint owner_operator_settlements_number_unique unique (tenant_id, number),
  constraint owner_operator_settlements_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id)
);
comment on table public.owner_operator_settlements is
  'Owner operator pay statements: gross of its loads minus deductions, net, the journal entry that posted it and the statement document.';
create index owner_operator_settlements_carrier_idx on public.owner_operator_settlements (carrier_party_id, created_at);
select ops.attach_rails('public.owner_operator_settlements', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_settlements',
  '{"tenant_id": "$tenant", "carrier_party_id": "$carrier", "number": "MS-$n", "currency": "USD", "gross_cents": 100,
    "deductions_cents": 0, "net_cents": 100, "journal_entry_id": "$uuid", "statement": {}}');

-- The statement's lines: each load's pay (positive) and each deduction (positive, subtracted).
create table public.owner_operator_settlement_lines (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  settlement_id    uuid not null,
  carrier_party_id uuid not null,
  kind             text not null constraint owner_operator_settlement_lines_kind_allowed_check
                   check (kind in ('load', 'fuel_advance', 'escrow', 'lease', 'insurance')),
  load_id          uuid,
  fuel_advance_id  uuid,
  amount_cents     bigint not null constraint owner_operator_settlement_lines_amount_positive_check check (amount_cents > 0),
  constraint owner_operator_settlement_lines_load_required_check check ((kind = 'load') = (load_id is not null)),
  constraint owner_operator_settlement_lines_settlement_fk foreign key (tenant_id, settlement_id)
    references public.owner_operator_settlements (tenant_id, id) on delete cascade,
  constraint owner_operator_settlement_lines_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id)
);
comment on table public.owner_operator_settlement_lines is
  'Lines of a settlement: a load''s pay or a deduction (fuel advance, escrow, lease, insurance), positive cents.';
-- a load is settled once, whichever door inserts the line
create unique index owner_operator_settlement_lines_load_unique on public.owner_operator_settlement_lines (tenant_id, load_id) where load_id is not null;
create index owner_operator_settlement_lines_settlement_idx on public.owner_operator_settlement_lines (settlement_id);
select ops.attach_rails('public.owner_operator_settlement_lines', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_settlement_lines',
  '{"tenant_id": "$tenant", "settlement_id": "$ref:owner_operator_settlements", "carrier_party_id": "$carrier", "kind": "lease", "amount_cents": 100}');

-- Units under maintenance: the odometer of an owner operator's tractor or trailer.
create table public.owner_operator_units (
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  unit_id          uuid not null,
  carrier_party_id uuid not null,
  odometer_miles   bigint not null default 0 constraint owner_operator_units_odometer_nonnegative_check check (odometer_miles >= 0),
  odometer_read_at timestamptz not null default now(),
  primary key (tenant_id, unit_id),
  constraint owner_operator_units_unit_fk foreign key (tenant_id, unit_id) references public.equipment (tenant_id, id) on delete cascade,
  constraint owner_operator_units_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.owner_operator_units is
  'An owner operator''s units under maintenance, with their odometer; written through the maintenance functions.';
select ops.attach_rails('public.owner_operator_units', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_units', '{"tenant_id": "$tenant", "unit_id": "$ref:equipment", "carrier_party_id": "$carrier"}');

-- Service intervals: every N miles and / or every N days since the last service (or since
-- the interval was set: baseline).
create table public.owner_operator_service_intervals (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  unit_id          uuid not null,
  carrier_party_id uuid not null,
  service_kind     text not null constraint owner_operator_service_intervals_kind_format_check check (service_kind ~ '^[a-z][a-z0-9_]{1,39}$'),
  every_miles      int constraint owner_operator_service_intervals_miles_range_check check (every_miles between 100 and 1000000),
  every_days       int constraint owner_operator_service_intervals_days_range_check check (every_days between 1 and 3650),
  baseline_on      date not null default current_date,
  baseline_miles   bigint not null default 0,
  created_at       timestamptz not null default now(),
  constraint owner_operator_service_intervals_some_check check (every_miles is not null or every_days is not null),
  constraint owner_operator_service_intervals_unique unique (tenant_id, unit_id, service_kind),
  constraint owner_operator_service_intervals_unit_fk foreign key (tenant_id, unit_id) references public.equipment (tenant_id, id) on delete cascade,
  constraint owner_operator_service_intervals_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.owner_operator_service_intervals is
  'Service intervals of a unit by miles and / or days (e.g. pm_a every 15,000 mi, annual_inspection every 365 days).';
select ops.attach_rails('public.owner_operator_service_intervals', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_service_intervals',
  '{"tenant_id": "$tenant", "unit_id": "$ref:equipment", "carrier_party_id": "$carrier", "service_kind": "pm_$n", "every_days": 90}');

create table public.owner_operator_service_records (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  unit_id          uuid not null,
  carrier_party_id uuid not null,
  service_kind     text not null constraint owner_operator_service_records_kind_format_check check (service_kind ~ '^[a-z][a-z0-9_]{1,39}$'),
  performed_on     date not null,
  odometer_miles   bigint not null constraint owner_operator_service_records_odometer_nonnegative_check check (odometer_miles >= 0),
  cost_cents       bigint not null default 0 constraint owner_operator_service_records_cost_nonnegative_check check (cost_cents >= 0),
  note             text,
  created_at       timestamptz not null default now(),
  constraint owner_operator_service_records_unit_fk foreign key (tenant_id, unit_id) references public.equipment (tenant_id, id) on delete cascade,
  constraint owner_operator_service_records_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.owner_operator_service_records is 'Services performed on a unit (kind, day, odometer, cost in cents).';
create index owner_operator_service_records_unit_idx on public.owner_operator_service_records (unit_id, service_kind, performed_on desc);
select ops.attach_rails('public.owner_operator_service_records', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_service_records',
  '{"tenant_id": "$tenant", "unit_id": "$ref:equipment", "carrier_party_id": "$carrier", "service_kind": "pm_a",
    "performed_on": "2026-01-01", "odometer_miles": 1000}');

-- The maintenance agent's blocks of a unit (equipment.status blocked while active).
create table public.owner_operator_unit_blocks (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  unit_id          uuid not null,
  carrier_party_id uuid not null,
  reason           text not null,
  set_by           uuid default auth.uid(),
  set_at           timestamptz not null default now(),
  trace_id         text,
  cleared_by       uuid,
  cleared_at       timestamptz,
  clear_reason     text,
  constraint owner_operator_unit_blocks_clear_reason_required_check check ((cleared_at is null) = (clear_reason is null)),
  constraint owner_operator_unit_blocks_unit_fk foreign key (tenant_id, unit_id) references public.equipment (tenant_id, id) on delete cascade,
  constraint owner_operator_unit_blocks_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.owner_operator_unit_blocks is
  'Blocks of a unit for overdue service (equipment.status blocked while active); set and cleared through owner_operator_unit_block / _unblock.';
create unique index owner_operator_unit_blocks_active_unique on public.owner_operator_unit_blocks (unit_id) where cleared_at is null;
select ops.attach_rails('public.owner_operator_unit_blocks', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.owner_operator_unit_blocks',
  '{"tenant_id": "$tenant", "unit_id": "$ref:equipment", "carrier_party_id": "$carrier", "reason": "service overdue"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The tenant of an owner operator a call is for: the caller's permission there, a carrier
-- user only for its own party (freight_require_party), and the party has a profile.
create function app_private.owner_operator_tenant_of(p_party_id uuid, p_permission text) returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.parties', p_party_id, p_permission);
begin
  perform app_private.freight_require_party(v_tenant, p_party_id);
  if not exists (select 1 from public.owner_operator_profiles where tenant_id = v_tenant and carrier_party_id = p_party_id) then
    perform app_private.raise_error('not_owner_operator', format('party %s is not an owner operator', p_party_id),
      jsonb_build_object('party_id', p_party_id));
  end if;
  return v_tenant;
end $$;
revoke execute on function app_private.owner_operator_tenant_of(uuid, text) from public;

-- A unit of an owner operator (registered under maintenance on first use): returns its party.
create function app_private.owner_operator_unit_party(p_unit_id uuid, p_permission text) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  u        public.equipment;
  v_tenant uuid := app_private.freight_tenant_of('public.equipment', p_unit_id, p_permission);
begin
  select * into u from public.equipment where id = p_unit_id;
  perform app_private.owner_operator_tenant_of(u.carrier_party_id, p_permission);
  insert into public.owner_operator_units (tenant_id, unit_id, carrier_party_id) values (v_tenant, u.id, u.carrier_party_id)
  on conflict do nothing;
  return u.carrier_party_id;
end $$;
revoke execute on function app_private.owner_operator_unit_party(uuid, text) from public;

-- A ledger account of the tenant by code, created on first use (the settlement's chart).
create function app_private.owner_operator_account(p_tenant_id uuid, p_code text, p_name text, p_kind text, p_subtype text,
                                                   p_party_id uuid, p_currency text) returns text
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.ledger_accounts (tenant_id, code, name, kind, subtype, party_id, currency)
  values (p_tenant_id, p_code, p_name, p_kind, p_subtype, p_party_id, p_currency)
  on conflict on constraint ledger_accounts_code_unique do nothing;
  return p_code;
end $$;
revoke execute on function app_private.owner_operator_account(uuid, text, text, text, text, uuid, text) from public;

-- Records the miles of a load the owner operator covers (owner_operator.maintenance.write;
-- a carrier user its own loads).
create function app_private.owner_operator_miles_record(p_load_id uuid, p_loaded_miles int, p_empty_miles int default 0) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'owner_operator.maintenance.write');
  v_party  uuid := (select carrier_party_id from public.loads where id = p_load_id);
begin
  perform app_private.owner_operator_tenant_of(v_party, 'owner_operator.maintenance.write');
  insert into public.owner_operator_load_miles (tenant_id, load_id, carrier_party_id, loaded_miles, empty_miles)
  values (v_tenant, p_load_id, v_party, p_loaded_miles, coalesce(p_empty_miles, 0))
  on conflict (tenant_id, load_id) do update set loaded_miles = excluded.loaded_miles, empty_miles = excluded.empty_miles, recorded_at = now();
  perform app_private.audit_write(v_tenant, 'owner_operator.miles.record', 'load', p_load_id::text, null,
    jsonb_build_object('loaded_miles', p_loaded_miles, 'empty_miles', coalesce(p_empty_miles, 0)));
  return jsonb_build_object('load_id', p_load_id, 'loaded_miles', p_loaded_miles, 'empty_miles', coalesce(p_empty_miles, 0));
end $$;
comment on function app_private.owner_operator_miles_record(uuid, int, int) is
  'Records loaded and empty miles of an owner operator''s load (owner_operator.maintenance.write; carrier users their own).';
grant execute on function app_private.owner_operator_miles_record(uuid, int, int) to authenticated;

-- A fuel advance to an owner operator (owner_operator.settle): Dr its fuel advance
-- receivable, Cr cash; recovered by the next settlement.
create function app_private.owner_operator_fuel_advance(p_party_id uuid, p_amount_cents bigint, p_note text default null) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.owner_operator_tenant_of(p_party_id, 'owner_operator.settle');
  v_cur    text := (select currency from public.owner_operator_profiles where tenant_id = v_tenant and carrier_party_id = p_party_id);
  v_id     uuid := gen_random_uuid();
  v_entry  uuid;
begin
  if p_amount_cents is null or p_amount_cents <= 0 then
    perform app_private.raise_error('bad_amount', 'a fuel advance is positive integer cents');
  end if;
  v_entry := app_private.ledger_post_internal(v_tenant, v_cur, jsonb_build_array(
      jsonb_build_object('account', app_private.owner_operator_account(v_tenant, 'oo.fuel_advance:' || p_party_id, 'Owner operator fuel advances',
                                                                       'asset', 'receivable', p_party_id, v_cur), 'amount_cents', p_amount_cents),
      jsonb_build_object('account', app_private.owner_operator_account(v_tenant, 'oo.cash:' || v_cur, 'Cash (owner operator payments)',
                                                                       'asset', 'cash', null, v_cur), 'amount_cents', -p_amount_cents)),
    'fuel advance', 'owner_operator_fuel_advance', v_id, 'oo-fuel-advance:' || v_id);
  insert into public.owner_operator_fuel_advances (id, tenant_id, carrier_party_id, amount_cents, currency, note, journal_entry_id)
  values (v_id, v_tenant, p_party_id, p_amount_cents, v_cur, p_note, v_entry);
  perform app_private.audit_write(v_tenant, 'owner_operator.fuel_advance', 'party', p_party_id::text, null,
    jsonb_build_object('fuel_advance_id', v_id, 'amount_cents', p_amount_cents));
  return jsonb_build_object('fuel_advance_id', v_id, 'carrier_party_id', p_party_id, 'amount_cents', p_amount_cents,
                            'currency', v_cur, 'journal_entry_id', v_entry);
end $$;
comment on function app_private.owner_operator_fuel_advance(uuid, bigint, text) is
  'Pays a fuel advance to an owner operator (owner_operator.settle): a balanced ledger entry; recovered by its next settlement.';
grant execute on function app_private.owner_operator_fuel_advance(uuid, bigint, text) to authenticated;

-- Creates and posts a settlement (owner_operator.settle) in the caller's transaction:
--   gross      = the party's buy charge lines of p_load_ids (each delivered or completed, its own)
--   deductions = its open fuel advances + escrow + lease + insurance (p_deductions
--                {"escrow_cents", "lease_cents", "insurance_cents"}, else the profile's)
--   net        = gross - deductions (>= 0)
-- and one journal entry: Dr linehaul cost (gross); Cr the owner operator's payable (net),
-- its fuel advance receivable, its escrow (liability), lease and insurance income. The
-- profile row is locked so two settlements of one party serialize; a load already on a
-- settlement is settlement_duplicate (and the unique index holds for every door).
create function app_private.owner_operator_settlement_create(p_party_id uuid, p_load_ids uuid[], p_deductions jsonb default '{}'::jsonb)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.owner_operator_tenant_of(p_party_id, 'owner_operator.settle');
  prof      public.owner_operator_profiles;
  v_id      uuid := gen_random_uuid();
  v_number  text;
  v_loads   jsonb;
  v_gross   bigint;
  v_fuel    bigint;
  v_escrow  bigint;
  v_lease   bigint;
  v_ins     bigint;
  v_ded     bigint;
  v_entry   uuid;
  v_dup     record;
  v_bad     uuid;
  v_lines   jsonb;
  v_stmt    jsonb;
begin
  select * into prof from public.owner_operator_profiles where tenant_id = v_tenant and carrier_party_id = p_party_id for update;
  if p_load_ids is null or cardinality(p_load_ids) = 0 or cardinality(p_load_ids) > 200 then
    perform app_private.raise_error('settlement_invalid', 'a settlement names 1 to 200 loads');
  end if;
  select l.load_id, s.number into v_dup
  from public.owner_operator_settlement_lines l join public.owner_operator_settlements s on s.id = l.settlement_id
  where l.tenant_id = v_tenant and l.load_id = any(p_load_ids) limit 1;
  if v_dup.load_id is not null then
    perform app_private.raise_error('settlement_duplicate', format('load %s is on settlement %s already', v_dup.load_id, v_dup.number),
      jsonb_build_object('load_id', v_dup.load_id, 'settlement', v_dup.number));
  end if;
  select x into v_bad from unnest(p_load_ids) x
  where not exists (select 1 from public.loads l where l.id = x and l.tenant_id = v_tenant and l.carrier_party_id = p_party_id
                      and l.status in ('delivered', 'completed')
                      and exists (select 1 from public.charge_lines c where c.load_id = l.id and c.side = 'buy' and c.party_id = p_party_id))
  limit 1;
  if v_bad is not null then
    perform app_private.raise_error('settlement_invalid', format('load %s is not a delivered load of owner operator %s with buy charges', v_bad, p_party_id),
      jsonb_build_object('load_id', v_bad));
  end if;
  if exists (select 1 from public.charge_lines c where c.load_id = any(p_load_ids) and c.side = 'buy' and c.party_id = p_party_id
               and c.currency <> prof.currency) then
    perform app_private.raise_error('currency_mismatch', format('owner operator %s settles in %s', p_party_id, prof.currency));
  end if;
  select jsonb_agg(jsonb_build_object('load_id', l.id, 'reference', l.reference, 'pay_cents', p.cents,
                                      'loaded_miles', m.loaded_miles, 'empty_miles', m.empty_miles) order by l.reference),
         sum(p.cents)
    into v_loads, v_gross
  from public.loads l
  cross join lateral (select sum(c.amount_cents)::bigint as cents from public.charge_lines c
                      where c.load_id = l.id and c.side = 'buy' and c.party_id = p_party_id) p
  left join public.owner_operator_load_miles m on m.load_id = l.id
  where l.id = any(p_load_ids);
  if v_gross is null or v_gross <= 0 then
    perform app_private.raise_error('settlement_invalid', 'the loads'' pay sums to no positive amount');
  end if;
  v_fuel   := coalesce((select sum(amount_cents) from public.owner_operator_fuel_advances
                        where tenant_id = v_tenant and carrier_party_id = p_party_id and settlement_id is null), 0);
  v_escrow := app_private.freight_cents(coalesce(p_deductions -> 'escrow_cents', to_jsonb(prof.escrow_cents)), 'escrow_cents');
  v_lease  := app_private.freight_cents(coalesce(p_deductions -> 'lease_cents', to_jsonb(prof.lease_cents)), 'lease_cents');
  v_ins    := app_private.freight_cents(coalesce(p_deductions -> 'insurance_cents', to_jsonb(prof.insurance_cents)), 'insurance_cents');
  v_ded    := v_fuel + v_escrow + v_lease + v_ins;
  if v_ded > v_gross then
    perform app_private.raise_error('settlement_invalid', format('deductions %s exceed the gross %s (cents)', v_ded, v_gross),
      jsonb_build_object('gross_cents', v_gross, 'deductions_cents', v_ded));
  end if;
  v_number := 'OOS-' || to_char(now(), 'YYYYMMDD') || '-' || upper(substr(replace(v_id::text, '-', ''), 1, 8));

  -- the entry: one debit, a credit per non-zero part (ledger_post_internal refuses zero lines)
  v_lines := jsonb_build_array(jsonb_build_object('account',
      app_private.owner_operator_account(v_tenant, 'oo.linehaul_cost:' || prof.currency, 'Owner operator linehaul cost', 'expense', 'cost', null, prof.currency),
      'amount_cents', v_gross, 'memo', 'gross'));
  if v_gross - v_ded > 0 then
    v_lines := v_lines || jsonb_build_object('account',
      app_private.owner_operator_account(v_tenant, 'oo.payable:' || p_party_id, 'Owner operator payable', 'liability', 'payable', p_party_id, prof.currency),
      'amount_cents', -(v_gross - v_ded), 'memo', 'net pay');
  end if;
  if v_fuel > 0 then
    v_lines := v_lines || jsonb_build_object('account',
      app_private.owner_operator_account(v_tenant, 'oo.fuel_advance:' || p_party_id, 'Owner operator fuel advances', 'asset', 'receivable', p_party_id, prof.currency),
      'amount_cents', -v_fuel, 'memo', 'fuel advances');
  end if;
  if v_escrow > 0 then
    v_lines := v_lines || jsonb_build_object('account',
      app_private.owner_operator_account(v_tenant, 'oo.escrow:' || p_party_id, 'Owner operator escrow held', 'liability', 'escrow', p_party_id, prof.currency),
      'amount_cents', -v_escrow, 'memo', 'escrow');
  end if;
  if v_lease > 0 then
    v_lines := v_lines || jsonb_build_object('account',
      app_private.owner_operator_account(v_tenant, 'oo.lease_income:' || prof.currency, 'Owner operator lease income', 'revenue', 'revenue', null, prof.currency),
      'amount_cents', -v_lease, 'memo', 'lease');
  end if;
  if v_ins > 0 then
    v_lines := v_lines || jsonb_build_object('account',
      app_private.owner_operator_account(v_tenant, 'oo.insurance_recovery:' || prof.currency, 'Owner operator insurance recovered', 'revenue', 'revenue', null, prof.currency),
      'amount_cents', -v_ins, 'memo', 'insurance');
  end if;
  v_entry := app_private.ledger_post_internal(v_tenant, prof.currency, v_lines, 'settlement ' || v_number,
                                              'owner_operator_settlement', v_id, 'oo-settlement:' || v_id);

  v_stmt := jsonb_build_object('number', v_number, 'carrier_party_id', p_party_id, 'currency', prof.currency,
    'loads', v_loads,
    'deductions', jsonb_build_object('fuel_advance_cents', v_fuel, 'escrow_cents', v_escrow, 'lease_cents', v_lease, 'insurance_cents', v_ins),
    'gross_cents', v_gross, 'deductions_cents', v_ded, 'net_cents', v_gross - v_ded);
  insert into public.owner_operator_settlements (id, tenant_id, carrier_party_id, number, currency, gross_cents, deductions_cents, net_cents,
                                                 journal_entry_id, statement, created_by, trace_id)
  values (v_id, v_tenant, p_party_id, v_number, prof.currency, v_gross, v_ded, v_gross - v_ded, v_entry, v_stmt,
          app_private.principal_id(), (app_private.request_context()).trace_id);
  insert into public.owner_operator_settlement_lines (tenant_id, settlement_id, carrier_party_id, kind, load_id, amount_cents)
  select v_tenant, v_id, p_party_id, 'load', (x ->> 'load_id')::uuid, (x ->> 'pay_cents')::bigint from jsonb_array_elements(v_loads) x;
  insert into public.owner_operator_settlement_lines (tenant_id, settlement_id, carrier_party_id, kind, fuel_advance_id, amount_cents)
  select v_tenant, v_id, p_party_id, 'fuel_advance', a.id, a.amount_cents from public.owner_operator_fuel_advances a
  where a.tenant_id = v_tenant and a.carrier_party_id = p_party_id and a.settlement_id is null;
  insert into public.owner_operator_settlement_lines (tenant_id, settlement_id, carrier_party_id, kind, amount_cents)
  select v_tenant, v_id, p_party_id, k, c from (values ('escrow', v_escrow), ('lease', v_lease), ('insurance', v_ins)) d(k, c) where c > 0;
  update public.owner_operator_fuel_advances set settlement_id = v_id
   where tenant_id = v_tenant and carrier_party_id = p_party_id and settlement_id is null;

  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_tenant, 'settlement', v_id::text, 'owner_operator.settlement.posted',
          jsonb_build_object('settlement_id', v_id, 'carrier_party_id', p_party_id, 'number', v_number, 'currency', prof.currency,
                             'gross_cents', v_gross, 'deductions_cents', v_ded, 'net_cents', v_gross - v_ded,
                             'loads', cardinality(p_load_ids), 'journal_entry_id', v_entry,
                             'source_portal', app_private.freight_source_portal()));
  perform app_private.audit_write(v_tenant, 'owner_operator.settlement.create', 'settlement', v_id::text, null,
    jsonb_build_object('number', v_number, 'gross_cents', v_gross, 'deductions_cents', v_ded, 'net_cents', v_gross - v_ded,
                       'journal_entry_id', v_entry));
  return v_stmt || jsonb_build_object('settlement_id', v_id, 'journal_entry_id', v_entry);
end $$;
comment on function app_private.owner_operator_settlement_create(uuid, uuid[], jsonb) is
  'Creates and posts an owner operator settlement (owner_operator.settle): gross of delivered loads minus deductions, a balanced journal entry, once per load.';
grant execute on function app_private.owner_operator_settlement_create(uuid, uuid[], jsonb) to authenticated;

-- The statement document of a settlement (stored through packages/shared/storage and
-- recorded with freight_document_record), attached once.
create function app_private.owner_operator_settlement_document(p_settlement_id uuid, p_document_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.owner_operator_settlements', p_settlement_id, 'owner_operator.settle');
  s        public.owner_operator_settlements;
begin
  select * into s from public.owner_operator_settlements where id = p_settlement_id for update;
  if s.document_id is not null then
    perform app_private.raise_error('illegal_transition', format('settlement %s has its statement document already', s.number),
      jsonb_build_object('machine', 'settlement_document', 'from', 'attached', 'to', 'attached'));
  end if;
  if not exists (select 1 from public.documents d where d.id = p_document_id and d.tenant_id = v_tenant and d.party_id = s.carrier_party_id) then
    perform app_private.raise_error('bad_request', format('document %s is not the owner operator''s', p_document_id));
  end if;
  update public.owner_operator_settlements set document_id = p_document_id where id = p_settlement_id;
end $$;
comment on function app_private.owner_operator_settlement_document(uuid, uuid) is
  'Attaches the stored statement document to a settlement, once (owner_operator.settle).';
grant execute on function app_private.owner_operator_settlement_document(uuid, uuid) to authenticated;

-- Maintenance: set a unit's service interval (owner_operator.maintenance.write; a carrier
-- user its own units). The baseline is today and the current odometer.
create function app_private.owner_operator_service_interval_set(p_unit_id uuid, p_service_kind text, p_every_miles int, p_every_days int)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_party  uuid := app_private.owner_operator_unit_party(p_unit_id, 'owner_operator.maintenance.write');
  u        public.owner_operator_units;
  v_id     uuid;
begin
  select * into u from public.owner_operator_units where unit_id = p_unit_id;
  insert into public.owner_operator_service_intervals (tenant_id, unit_id, carrier_party_id, service_kind, every_miles, every_days, baseline_miles)
  values (u.tenant_id, p_unit_id, v_party, p_service_kind, p_every_miles, p_every_days, u.odometer_miles)
  on conflict on constraint owner_operator_service_intervals_unique
    do update set every_miles = excluded.every_miles, every_days = excluded.every_days
  returning id into v_id;
  perform app_private.audit_write(u.tenant_id, 'owner_operator.service_interval.set', 'unit', p_unit_id::text, null,
    jsonb_build_object('service_kind', p_service_kind, 'every_miles', p_every_miles, 'every_days', p_every_days));
  return jsonb_build_object('interval_id', v_id, 'unit_id', p_unit_id, 'service_kind', p_service_kind,
                            'every_miles', p_every_miles, 'every_days', p_every_days);
end $$;
comment on function app_private.owner_operator_service_interval_set(uuid, text, int, int) is
  'Sets a unit''s service interval by miles and / or days (owner_operator.maintenance.write; carrier users their own units).';
grant execute on function app_private.owner_operator_service_interval_set(uuid, text, int, int) to authenticated;

-- An odometer reading (never backwards).
create function app_private.owner_operator_odometer_set(p_unit_id uuid, p_miles bigint) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_party uuid := app_private.owner_operator_unit_party(p_unit_id, 'owner_operator.maintenance.write');
  u       public.owner_operator_units;
begin
  select * into u from public.owner_operator_units where unit_id = p_unit_id for update;
  if p_miles is null or p_miles < u.odometer_miles then
    perform app_private.raise_error('bad_request', format('the odometer reads %s miles; a reading never goes back', u.odometer_miles));
  end if;
  update public.owner_operator_units set odometer_miles = p_miles, odometer_read_at = now() where unit_id = p_unit_id;
  return jsonb_build_object('unit_id', p_unit_id, 'carrier_party_id', v_party, 'odometer_miles', p_miles);
end $$;
comment on function app_private.owner_operator_odometer_set(uuid, bigint) is
  'Records a unit''s odometer (owner_operator.maintenance.write; never backwards).';
grant execute on function app_private.owner_operator_odometer_set(uuid, bigint) to authenticated;

-- A service performed (raises the odometer to its reading when higher).
create function app_private.owner_operator_service_record(p_unit_id uuid, p_record jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_party uuid := app_private.owner_operator_unit_party(p_unit_id, 'owner_operator.maintenance.write');
  v_miles bigint := app_private.freight_cents(p_record -> 'odometer_miles', 'odometer_miles');
  v_cost  bigint := app_private.freight_cents(coalesce(p_record -> 'cost_cents', '0'::jsonb), 'cost_cents');
  v_on    date := coalesce((p_record ->> 'performed_on')::date, current_date);
  u       public.owner_operator_units;
  v_id    uuid;
begin
  select * into u from public.owner_operator_units where unit_id = p_unit_id for update;
  if v_on > current_date then
    perform app_private.raise_error('bad_request', 'a service is recorded once performed (performed_on is not in the future)');
  end if;
  insert into public.owner_operator_service_records (tenant_id, unit_id, carrier_party_id, service_kind, performed_on, odometer_miles, cost_cents, note)
  values (u.tenant_id, p_unit_id, v_party, p_record ->> 'service_kind', v_on, v_miles, v_cost, p_record ->> 'note')
  returning id into v_id;
  update public.owner_operator_units set odometer_miles = greatest(odometer_miles, v_miles), odometer_read_at = now() where unit_id = p_unit_id;
  perform app_private.audit_write(u.tenant_id, 'owner_operator.service.record', 'unit', p_unit_id::text, null,
    jsonb_build_object('record_id', v_id, 'service_kind', p_record ->> 'service_kind', 'performed_on', v_on, 'odometer_miles', v_miles, 'cost_cents', v_cost));
  return jsonb_build_object('record_id', v_id, 'unit_id', p_unit_id, 'service_kind', p_record ->> 'service_kind',
                            'performed_on', v_on, 'odometer_miles', v_miles, 'cost_cents', v_cost);
end $$;
comment on function app_private.owner_operator_service_record(uuid, jsonb) is
  'Records a service performed on a unit (owner_operator.maintenance.write; carrier users their own units).';
grant execute on function app_private.owner_operator_service_record(uuid, jsonb) to authenticated;

-- Each interval's status: due by day and by miles since the last service of its kind (or
-- the baseline), overdue when either is passed. Security invoker: readers see what RLS lets.
create view public.owner_operator_service_status with (security_invoker = true) as
select i.tenant_id, i.id as interval_id, i.unit_id, i.carrier_party_id, i.service_kind, i.every_miles, i.every_days,
       coalesce(r.performed_on, i.baseline_on) as last_on,
       coalesce(r.odometer_miles, i.baseline_miles) as last_miles,
       u.odometer_miles,
       coalesce(r.performed_on, i.baseline_on) + i.every_days as due_on,
       coalesce(r.odometer_miles, i.baseline_miles) + i.every_miles as due_miles,
       coalesce(current_date > coalesce(r.performed_on, i.baseline_on) + i.every_days, false)
         or coalesce(u.odometer_miles >= coalesce(r.odometer_miles, i.baseline_miles) + i.every_miles, false) as overdue
from public.owner_operator_service_intervals i
join public.owner_operator_units u on u.tenant_id = i.tenant_id and u.unit_id = i.unit_id
left join lateral (select sr.performed_on, sr.odometer_miles from public.owner_operator_service_records sr
                   where sr.unit_id = i.unit_id and sr.service_kind = i.service_kind
                   order by sr.performed_on desc, sr.odometer_miles desc limit 1) r on true;
comment on view public.owner_operator_service_status is
  'Service intervals with their last service, due day and miles, and whether overdue (security invoker).';
revoke all on public.owner_operator_service_status from anon, authenticated;
grant select on public.owner_operator_service_status to authenticated, service_role;

-- Whether a unit is overdue for any interval (the dispatch trigger; definer: every door).
create function app_private.owner_operator_unit_overdue(p_unit_id uuid) returns text
language sql stable security definer set search_path = '' as $$
  select string_agg(service_kind, ', ' order by service_kind) from public.owner_operator_service_status
  where unit_id = p_unit_id and overdue
$$;
revoke execute on function app_private.owner_operator_unit_overdue(uuid) from public;

-- Assigning an overdue unit to a load while owner_operator.blockOverdueDispatch is on.
create function app_private.owner_operator_dispatch_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_unit uuid;
  v_due  text;
begin
  -- flag_raw: the guard runs as whichever writer, who need not hold flags.read
  if app_private.flag_raw('owner_operator.blockOverdueDispatch', new.tenant_id) is distinct from 'true' then
    return new;
  end if;
  foreach v_unit in array array_remove(array[new.tractor_id, new.trailer_id], null) loop
    if tg_op = 'UPDATE' and v_unit in (old.tractor_id, old.trailer_id) then
      continue;
    end if;
    v_due := app_private.owner_operator_unit_overdue(v_unit);
    if v_due is not null then
      perform app_private.raise_error('unit_service_overdue', format('unit %s is overdue for %s', v_unit, v_due),
        jsonb_build_object('unit_id', v_unit, 'service', v_due));
    end if;
  end loop;
  return new;
end $$;
revoke execute on function app_private.owner_operator_dispatch_guard() from public;

-- The maintenance agent's block (owner_operator.unit.block): the unit becomes blocked (the
-- core's dispatch refuses it: asset_blocked) with a reason; one active block per unit.
create function app_private.owner_operator_unit_block(p_unit_id uuid, p_reason text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_party uuid := app_private.owner_operator_unit_party(p_unit_id, 'owner_operator.unit.block');
  e       public.equipment;
  v_id    uuid;
begin
  select * into e from public.equipment where id = p_unit_id for update;
  if e.status <> 'active' then
    perform app_private.raise_error('illegal_transition', format('unit %s is %s already', p_unit_id, e.status),
      jsonb_build_object('machine', 'unit', 'from', e.status, 'to', 'blocked'));
  end if;
  insert into public.owner_operator_unit_blocks (tenant_id, unit_id, carrier_party_id, reason, set_by, trace_id)
  values (e.tenant_id, p_unit_id, v_party, coalesce(nullif(btrim(p_reason), ''), 'service overdue'), app_private.principal_id(),
          (app_private.request_context()).trace_id)
  returning id into v_id;
  update public.equipment set status = 'blocked' where id = p_unit_id;
  perform app_private.audit_write(e.tenant_id, 'owner_operator.unit.block', 'unit', p_unit_id::text,
    jsonb_build_object('status', e.status), jsonb_build_object('status', 'blocked', 'block_id', v_id, 'reason', p_reason));
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (e.tenant_id, 'unit', p_unit_id::text, 'owner_operator.unit.blocked',
          jsonb_build_object('unit_id', p_unit_id, 'carrier_party_id', v_party, 'block_id', v_id, 'source_portal', app_private.freight_source_portal()));
  return jsonb_build_object('block_id', v_id, 'unit_id', p_unit_id, 'carrier_party_id', v_party, 'blocked', true);
end $$;
comment on function app_private.owner_operator_unit_block(uuid, text) is
  'Blocks an owner operator''s unit for overdue service (owner_operator.unit.block): equipment blocked, audited, evented.';
grant execute on function app_private.owner_operator_unit_block(uuid, text) to authenticated;

create function app_private.owner_operator_unit_unblock(p_block_id uuid, p_clear_reason text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.owner_operator_unit_blocks', p_block_id, 'owner_operator.unit.block');
  b        public.owner_operator_unit_blocks;
begin
  if p_clear_reason is null or length(btrim(p_clear_reason)) = 0 then
    perform app_private.raise_error('bad_request', 'clearing a block needs a reason');
  end if;
  select * into b from public.owner_operator_unit_blocks where id = p_block_id for update;
  if b.cleared_at is not null then
    perform app_private.raise_error('illegal_transition', format('block %s is already cleared', p_block_id),
      jsonb_build_object('machine', 'unit_block', 'from', 'cleared', 'to', 'cleared'));
  end if;
  update public.owner_operator_unit_blocks set cleared_at = now(), cleared_by = app_private.principal_id(), clear_reason = p_clear_reason
   where id = p_block_id;
  -- only the block's own status goes back (a unit blocked for another reason meanwhile stays)
  update public.equipment set status = 'active' where id = b.unit_id and status = 'blocked';
  perform app_private.audit_write(v_tenant, 'owner_operator.unit.unblock', 'unit', b.unit_id::text,
    jsonb_build_object('status', 'blocked', 'block_id', b.id), jsonb_build_object('status', 'active'), p_clear_reason);
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_tenant, 'unit', b.unit_id::text, 'owner_operator.unit.unblocked',
          jsonb_build_object('unit_id', b.unit_id, 'carrier_party_id', b.carrier_party_id, 'block_id', b.id, 'source_portal', app_private.freight_source_portal()));
  return jsonb_build_object('block_id', b.id, 'unit_id', b.unit_id, 'carrier_party_id', b.carrier_party_id, 'cleared', true);
end $$;
comment on function app_private.owner_operator_unit_unblock(uuid, text) is
  'Clears an overdue-service block with a reason (owner_operator.unit.block): the unit is active again, audited, evented.';
grant execute on function app_private.owner_operator_unit_unblock(uuid, text) to authenticated;

-------------------------------------------------------------------------------------------
-- party policies and triggers
-------------------------------------------------------------------------------------------
select ops.party_rls('public.owner_operator_profiles', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_load_miles', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_fuel_advances', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_settlements', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_settlement_lines', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_units', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_service_intervals', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_service_records', 'carrier', 'carrier_party_id');
select ops.party_rls('public.owner_operator_unit_blocks', 'carrier', 'carrier_party_id');

create trigger owner_operator_dispatch_guard before insert or update of tractor_id, trailer_id on public.loads
  for each row when (new.tractor_id is not null or new.trailer_id is not null) execute function app_private.owner_operator_dispatch_guard();
