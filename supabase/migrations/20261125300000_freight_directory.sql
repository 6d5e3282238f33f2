-- Freight (the shared domain every portal uses): the directory of companies and people,
-- and the outside parties as principals.
--
-- One directory for the whole tenant: parties (shipper, carrier, factor, vendor, and the
-- tenant's own brokerage), their contacts, carrier compliance (authority, insurance,
-- safety, out-of-service), drivers, equipment, facilities (with an IANA time zone) and
-- party blocks (insurance | authority | out_of_service | sanctions | manual), which the
-- tendering, dispatch and payment functions check in Postgres.
--
-- Outside users (shipper users, carrier users, drivers) are principals of the tenant that
-- also belong to ONE party there (public.party_members). RLS has two dimensions: the tenant
-- (permitted_tenants, as for every table), then the party: ops.party_rls(table, audience,
-- column) adds a SELECT policy "the row's <column> is one of the caller's parties" for the
-- roles holding freight.<audience>.read, and records it in ops.rls_party_registry, from
-- which the RLS matrix (supabase/tests/platform/030_rls_matrix_test.sql) derives the party
-- cells. Outside roles hold no domain.* permission: they read only what a party policy
-- gives them and write only through the freight functions (which check the party again).
--
-- Sections: permissions and grants (error codes, roles, permissions); tables; functions;
-- party policies and triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Every freight error code (the other freight files raise them too); mirrored in
-- packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('illegal_transition',       'SY100', 409, 'Illegal transition',       'The state machine (public.freight_transitions) has no such transition; DETAIL names the machine, from and to.'),
  ('status_bypass',            'SY101', 409, 'Status changed outside its function', 'A status column changes only through its transition function (app_private.freight_load_transition, freight_tender_*).'),
  ('credit_hold',              'SY102', 422, 'Credit hold',              'Booking would take the customer over its credit limit (open loads + receivable balance).'),
  ('stop_window_overlap',      'SY103', 422, 'Stop windows overlap',     'Two consecutive stops of a load have overlapping appointment windows.'),
  ('stops_out_of_sequence',    'SY104', 422, 'Stops out of sequence',    'A stop''s window starts before the previous stop''s ends, or the load does not start with a pickup and end with a delivery.'),
  ('party_blocked',            'SY105', 422, 'Party blocked',            'The party has an active block (insurance, authority, out_of_service, sanctions, manual) or is suspended.'),
  ('carrier_no_authority',     'SY106', 422, 'Carrier has no authority', 'The carrier has no active operating authority on file (or is not allowed to operate).'),
  ('carrier_no_insurance',     'SY107', 422, 'Carrier has no insurance', 'The carrier has no auto liability and cargo insurance in force.'),
  ('carrier_out_of_service',   'SY108', 422, 'Carrier out of service',   'The carrier is under an out-of-service order.'),
  ('foreign_asset',            'SY110', 422, 'Another carrier''s asset', 'The driver, tractor or trailer belongs to another carrier.'),
  ('asset_blocked',            'SY111', 422, 'Asset blocked',            'The driver or unit is blocked or inactive.'),
  ('driver_documents_expired', 'SY112', 422, 'Driver documents expired', 'The driver''s CDL or medical card has expired (or has no expiry on file).'),
  ('duplicate_source_event',   'SY113', 409, 'Duplicate source event',   'The source_event_id was already recorded for this tenant with other content.'),
  ('bad_amount',               'SY114', 400, 'Bad amount',               'Money is integer cents: a missing, negative or non-integer amount is refused.'),
  ('bad_time_zone',            'SY115', 400, 'Bad time zone',            'The time zone is not an IANA zone name (Area/Location, e.g. America/Chicago).'),
  ('ledger_unbalanced',        'SY116', 422, 'Ledger entry unbalanced',  'The lines of a journal entry do not sum to zero (or it has fewer than two lines).'),
  ('ledger_immutable',         'SY117', 409, 'Ledger is immutable',      'Posted journal entries and lines never change; post a reversing entry.'),
  ('currency_mismatch',        'SY118', 422, 'Currency mismatch',        'An account, line or charge is in another currency than its entry or load.'),
  ('tender_expired',           'SY119', 409, 'Tender expired',           'The tender''s SLA deadline has passed; it can no longer be accepted.'),
  ('freight_not_found',        'SY120', 404, 'Not found',                'The freight entity does not exist in the caller''s tenant (or is not visible to its party).')
on conflict (code) do nothing;

-- Outside parties' roles: tenant roles, each reading only its own party's rows.
insert into public.roles (role, kind, scope, description) values
  ('shipper_user', 'human', 'tenant', 'A shipper (customer) user: its own orders, loads, documents and invoices'),
  ('carrier_user', 'human', 'tenant', 'A carrier user: tenders offered to its company, its loads, drivers and equipment'),
  ('driver',       'human', 'tenant', 'A driver: the stops of the loads assigned to them, nothing financial')
on conflict (role) do nothing;

insert into public.permissions (permission, description) values
  ('freight.shipper.read',   'Read the rows of one''s own shipper party (party RLS)'),
  ('freight.carrier.read',   'Read the rows of one''s own carrier party (party RLS)'),
  ('freight.driver.read',    'Read the rows of the loads assigned to oneself as a driver (party RLS)'),
  ('freight.order.book',     'Book an order (order + load + stops)'),
  ('freight.load.transition','Move a load through its state machine (staff, agents, EDI)'),
  ('freight.tender.offer',   'Offer (and cancel, expire) tenders'),
  ('freight.tender.respond', 'Accept, decline or counter a tender'),
  ('freight.dispatch',       'Assign driver, tractor and trailer to a covered load'),
  ('freight.event.record',   'Record tracking events (arrival, departure, 214 status codes)'),
  ('freight.block.manage',   'Set and clear party blocks'),
  ('freight.document.upload','Record an uploaded document (outside users: BOL / POD of their own loads)'),
  ('freight.settings.manage','Maintain the tenant''s lanes, accessorial catalogue and SLA policy flags (TMS Admin)')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'freight.shipper.read'), ('super_admin', 'freight.carrier.read'), ('super_admin', 'freight.driver.read'),
  ('super_admin', 'freight.order.book'), ('super_admin', 'freight.load.transition'), ('super_admin', 'freight.tender.offer'),
  ('super_admin', 'freight.tender.respond'), ('super_admin', 'freight.dispatch'), ('super_admin', 'freight.event.record'),
  ('super_admin', 'freight.block.manage'), ('super_admin', 'freight.document.upload'),
  ('super_admin', 'freight.settings.manage'), ('tenant_admin', 'freight.settings.manage'), ('ops_manager', 'freight.settings.manage'),
  ('ops_manager', 'freight.document.upload'), ('dispatcher', 'freight.document.upload'),
  ('agents', 'freight.document.upload'), ('n8n', 'freight.document.upload'),
  ('shipper_user', 'freight.document.upload'), ('carrier_user', 'freight.document.upload'), ('driver', 'freight.document.upload'),
  -- broker staff
  ('ops_manager', 'freight.order.book'), ('ops_manager', 'freight.load.transition'), ('ops_manager', 'freight.tender.offer'),
  ('ops_manager', 'freight.tender.respond'), ('ops_manager', 'freight.dispatch'), ('ops_manager', 'freight.event.record'),
  ('ops_manager', 'freight.block.manage'),
  ('dispatcher', 'freight.order.book'), ('dispatcher', 'freight.load.transition'), ('dispatcher', 'freight.tender.offer'),
  ('dispatcher', 'freight.tender.respond'), ('dispatcher', 'freight.dispatch'), ('dispatcher', 'freight.event.record'),
  -- machines: agents re-tender, suspend and track; n8n carries EDI (204 in, 990, 214)
  ('agents', 'freight.load.transition'), ('agents', 'freight.tender.offer'), ('agents', 'freight.event.record'),
  ('agents', 'freight.block.manage'),
  ('n8n', 'freight.order.book'), ('n8n', 'freight.tender.respond'), ('n8n', 'freight.event.record'),
  -- outside parties: their own party's rows, their own actions; no domain.*, no outbox.publish
  ('shipper_user', 'tenant.read'), ('shipper_user', 'flags.read'), ('shipper_user', 'rails.use'),
  ('shipper_user', 'audit.write'), ('shipper_user', 'freight.shipper.read'), ('shipper_user', 'freight.order.book'),
  ('carrier_user', 'tenant.read'), ('carrier_user', 'flags.read'), ('carrier_user', 'rails.use'),
  ('carrier_user', 'audit.write'), ('carrier_user', 'freight.carrier.read'), ('carrier_user', 'freight.tender.respond'),
  ('carrier_user', 'freight.dispatch'), ('carrier_user', 'freight.event.record'),
  ('driver', 'tenant.read'), ('driver', 'flags.read'), ('driver', 'rails.use'), ('driver', 'audit.write'),
  ('driver', 'freight.driver.read'), ('driver', 'freight.event.record')
) as m(r, p)
on conflict do nothing;

-- The party policies: which column of a table names the party (or driver) of an audience.
-- party_column null: every member of that audience in the tenant reads the row (facilities,
-- load board posts). The RLS matrix reads this table.
create table ops.rls_party_registry (
  table_name   regclass not null,
  audience     text not null constraint rls_party_registry_audience_allowed_check check (audience in ('shipper', 'carrier', 'driver')),
  party_column name,
  primary key (table_name, audience)
);
comment on table ops.rls_party_registry is
  'Party RLS: per table and audience (shipper, carrier, driver) the column holding the party; the policies and the RLS matrix come from it.';

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Parties: one directory of companies. Money in integer cents.
create table public.parties (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  kind               text not null constraint parties_kind_allowed_check
                     check (kind in ('shipper', 'carrier', 'factor', 'vendor', 'broker')),
  name               text not null constraint parties_name_not_blank_check check (length(btrim(name)) > 0),
  legal_name         text,
  mc_number          text constraint parties_mc_number_format_check check (mc_number ~ '^[0-9]{1,8}$'),
  dot_number         text constraint parties_dot_number_format_check check (dot_number ~ '^[0-9]{1,8}$'),
  scac               text constraint parties_scac_format_check check (scac ~ '^[A-Z]{2,4}$'),
  -- remit-to: where payments go (a factor party once a Notice of Assignment is on file)
  remit_to_party_id  uuid,
  remit_to_name      text,
  remit_to_address   text,
  -- customers: the credit limit booking checks (null: no limit set, no check)
  credit_limit_cents bigint constraint parties_credit_limit_cents_nonnegative_check check (credit_limit_cents >= 0),
  currency           char(3) not null default 'USD' constraint parties_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  status             text not null default 'active' constraint parties_status_allowed_check
                     check (status in ('active', 'suspended', 'inactive')),
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  constraint parties_tenant_id_unique unique (tenant_id, id),
  constraint parties_name_unique unique (tenant_id, kind, name),
  constraint parties_remit_to_fk foreign key (tenant_id, remit_to_party_id) references public.parties (tenant_id, id)
);
comment on table public.parties is
  'The company directory of a tenant: shippers, carriers, factors, vendors and the brokerage itself (MC/DOT/SCAC, remit-to, credit limit in cents).';
create index parties_kind_idx on public.parties (tenant_id, kind);
create unique index parties_mc_number_unique on public.parties (tenant_id, mc_number) where mc_number is not null;
select ops.attach_rails('public.parties');
select ops.set_rls_sample('public.parties', '{"tenant_id": "$tenant", "kind": "carrier", "name": "Matrix Party $n"}');

-- Drivers belong to a carrier. Documents: CDL and medical card expiry (dispatch checks them).
create table public.drivers (
  id                      uuid primary key default gen_random_uuid(),
  tenant_id               uuid not null references public.tenants (id) on delete cascade,
  carrier_party_id        uuid not null,
  name                    text not null constraint drivers_name_not_blank_check check (length(btrim(name)) > 0),
  phone                   text,
  cdl_number              text,
  cdl_state               text constraint drivers_cdl_state_format_check check (cdl_state ~ '^[A-Z]{2}$'),
  cdl_expires_on          date,
  medical_card_expires_on date,
  status                  text not null default 'active' constraint drivers_status_allowed_check
                          check (status in ('active', 'blocked', 'inactive')),
  created_at              timestamptz not null default now(),
  constraint drivers_tenant_id_unique unique (tenant_id, id),
  constraint drivers_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.drivers is
  'Drivers of a carrier, with the expiry of their CDL and medical card (dispatch refuses expired documents).';
create index drivers_carrier_idx on public.drivers (carrier_party_id);
select ops.attach_rails('public.drivers', p_audit => 'deferred');
select ops.set_rls_sample('public.drivers', '{"tenant_id": "$tenant", "carrier_party_id": "$carrier", "name": "Matrix Driver $n"}');

-- Principal -> party membership: an outside user belongs to one party of the tenant (a
-- driver: to its carrier, and to its drivers row).
create table public.party_members (
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  principal_id uuid not null references public.principals (id) on delete cascade,
  party_id     uuid not null,
  driver_id    uuid,
  created_at   timestamptz not null default now(),
  primary key (tenant_id, principal_id),
  constraint party_members_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade,
  constraint party_members_driver_fk foreign key (tenant_id, driver_id) references public.drivers (tenant_id, id) on delete cascade
);
comment on table public.party_members is
  'Outside principals (shipper users, carrier users, drivers) and the one party (and driver) they act for in a tenant.';
create index party_members_principal_idx on public.party_members (principal_id);
create index party_members_party_idx on public.party_members (party_id);
select ops.attach_rails('public.party_members', 'members.read', 'members.manage', 'members.manage', 'members.manage');
-- A principal also sees its own membership.
create policy own_membership on public.party_members for select to authenticated
  using (principal_id = (select auth.uid()));
select ops.set_rls_sample('public.party_members', '{"tenant_id": "$tenant", "principal_id": "$principal", "party_id": "$shipper"}');

create table public.contacts (
  id         uuid primary key default gen_random_uuid(),
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  party_id   uuid not null,
  name       text not null constraint contacts_name_not_blank_check check (length(btrim(name)) > 0),
  title      text,
  email      text constraint contacts_email_format_check check (email ~ '^[^@\s]+@[^@\s]+$'),
  phone      text,
  is_primary boolean not null default false,
  created_at timestamptz not null default now(),
  constraint contacts_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.contacts is 'People at a party (PII: never in events; the audit log redacts names, emails, phones).';
create index contacts_party_idx on public.contacts (party_id);
select ops.attach_rails('public.contacts', p_audit => 'deferred');
select ops.set_rls_sample('public.contacts', '{"tenant_id": "$tenant", "party_id": "$carrier", "name": "Matrix Contact $n"}');

-- Carrier compliance (FMCSA census style): authority, safety rating, out-of-service.
create table public.carrier_profiles (
  id                   uuid primary key default gen_random_uuid(),
  tenant_id            uuid not null references public.tenants (id) on delete cascade,
  party_id             uuid not null,
  authority_status     text not null default 'pending' constraint carrier_profiles_authority_status_allowed_check
                       check (authority_status in ('active', 'pending', 'inactive', 'revoked')),
  allowed_to_operate   boolean not null default false,
  safety_rating        text not null default 'unrated' constraint carrier_profiles_safety_rating_allowed_check
                       check (safety_rating in ('satisfactory', 'conditional', 'unsatisfactory', 'unrated')),
  out_of_service       boolean not null default false,
  out_of_service_since date,
  checked_at           timestamptz,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  constraint carrier_profiles_party_unique unique (tenant_id, party_id),
  constraint carrier_profiles_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.carrier_profiles is
  'A carrier''s compliance: operating authority, safety rating, out-of-service order (tendering checks them).';
create index carrier_profiles_party_idx on public.carrier_profiles (party_id);
select ops.attach_rails('public.carrier_profiles', p_audit => 'deferred');
select ops.set_rls_sample('public.carrier_profiles', '{"tenant_id": "$tenant", "party_id": "$carrier"}');

create table public.carrier_insurance (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null references public.tenants (id) on delete cascade,
  party_id       uuid not null,
  kind           text not null constraint carrier_insurance_kind_allowed_check
                 check (kind in ('auto_liability', 'cargo', 'general_liability', 'workers_comp')),
  insurer        text,
  policy_number  text,
  amount_cents   bigint not null constraint carrier_insurance_amount_cents_positive_check check (amount_cents > 0),
  currency       char(3) not null default 'USD' constraint carrier_insurance_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  effective_on   date not null,
  expires_on     date not null,
  document_id    uuid,
  created_at     timestamptz not null default now(),
  constraint carrier_insurance_expires_on_after_effective_on_check check (expires_on >= effective_on),
  constraint carrier_insurance_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.carrier_insurance is
  'Insurance certificates of a carrier: kind, amount in cents, effective and expiry dates.';
create index carrier_insurance_party_idx on public.carrier_insurance (party_id, kind, expires_on);
select ops.attach_rails('public.carrier_insurance', p_audit => 'deferred');
select ops.set_rls_sample('public.carrier_insurance',
  '{"tenant_id": "$tenant", "party_id": "$carrier", "kind": "cargo", "amount_cents": 10000000,
    "effective_on": "2026-01-01", "expires_on": "2027-01-01"}');

-- Equipment: a carrier's tractors and trailers.
create table public.equipment (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  carrier_party_id uuid not null,
  unit_number      text not null constraint equipment_unit_number_not_blank_check check (length(btrim(unit_number)) > 0),
  kind             text not null constraint equipment_kind_allowed_check check (kind in ('tractor', 'trailer')),
  trailer_type     text constraint equipment_trailer_type_allowed_check
                   check (trailer_type in ('van', 'reefer', 'flatbed', 'step_deck', 'tanker')),
  status           text not null default 'active' constraint equipment_status_allowed_check
                   check (status in ('active', 'blocked', 'inactive')),
  created_at       timestamptz not null default now(),
  constraint equipment_trailer_type_required_check check ((kind = 'trailer') = (trailer_type is not null)),
  constraint equipment_tenant_id_unique unique (tenant_id, id),
  constraint equipment_unit_unique unique (tenant_id, carrier_party_id, unit_number),
  constraint equipment_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.equipment is 'Tractors and trailers of a carrier (trailer type van, reefer, flatbed, ...).';
create index equipment_carrier_idx on public.equipment (carrier_party_id);
select ops.attach_rails('public.equipment', p_audit => 'deferred');
select ops.set_rls_sample('public.equipment',
  '{"tenant_id": "$tenant", "carrier_party_id": "$carrier", "unit_number": "M-$n", "kind": "tractor"}');

-- Facilities: where stops happen; appointment windows are shown in the facility's zone.
create table public.facilities (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  party_id     uuid,
  name         text not null constraint facilities_name_not_blank_check check (length(btrim(name)) > 0),
  address_line text,
  city         text,
  region       text,
  postal_code  text,
  country      char(2) not null default 'US' constraint facilities_country_format_check check (country ~ '^[A-Z]{2}$'),
  time_zone    text not null,
  created_at   timestamptz not null default now(),
  constraint facilities_tenant_id_unique unique (tenant_id, id),
  constraint facilities_name_unique unique (tenant_id, name),
  constraint facilities_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id)
);
comment on table public.facilities is
  'Pickup and delivery locations with their IANA time zone (validated: bad_time_zone).';
select ops.attach_rails('public.facilities', p_audit => 'deferred');
select ops.set_rls_sample('public.facilities', '{"tenant_id": "$tenant", "name": "Matrix Facility $n", "time_zone": "America/Chicago"}');

-- Party blocks: why a party may not be tendered, dispatched or paid. Active while
-- cleared_at is null; clearing keeps the row (who, why).
create table public.party_blocks (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  party_id     uuid not null,
  reason       text not null constraint party_blocks_reason_allowed_check
               check (reason in ('insurance', 'authority', 'out_of_service', 'sanctions', 'manual')),
  note         text,
  set_by       uuid default auth.uid(),
  set_at       timestamptz not null default now(),
  trace_id     text,
  cleared_by   uuid,
  cleared_at   timestamptz,
  clear_reason text,
  constraint party_blocks_clear_reason_required_check check ((cleared_at is null) = (clear_reason is null)),
  constraint party_blocks_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.party_blocks is
  'Blocks on a party (insurance, authority, out_of_service, sanctions, manual): active while not cleared; set and cleared through app_private.freight_party_block_set / _clear.';
-- one active block per party and reason
create unique index party_blocks_active_unique on public.party_blocks (party_id, reason) where cleared_at is null;
-- written only through the block functions (audited, evented)
select ops.attach_rails('public.party_blocks', 'domain.read', null, null, null);
select ops.set_rls_sample('public.party_blocks', '{"tenant_id": "$tenant", "party_id": "$carrier", "reason": "manual"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The parties (audience shipper / carrier) or drivers (audience driver) the caller acts for
-- in the request's tenant. A driver is not a carrier user: its membership names a driver.
create function app_private.party_ids(p_audience text) returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(case when p_audience = 'driver' then m.driver_id else m.party_id end), '{}'::uuid[])
  from public.party_members m
  join public.parties p on p.id = m.party_id
  where m.principal_id = auth.uid()
    and (app_private.claim_tenant() is null or m.tenant_id = app_private.claim_tenant())
    and case p_audience
          when 'driver'  then m.driver_id is not null
          when 'carrier' then p.kind = 'carrier' and m.driver_id is null
          else p.kind = p_audience and m.driver_id is null end
$$;
comment on function app_private.party_ids(text) is
  'The caller''s parties (shipper, carrier) or driver ids (driver) in the request''s tenant: what the party policies compare with.';
grant execute on function app_private.party_ids(text) to authenticated, service_role;

-- The caller's membership in a tenant (null for staff, machines and trusted sessions).
create function app_private.freight_member(p_tenant_id uuid) returns public.party_members
language sql stable security definer set search_path = '' as $$
  select m.* from public.party_members m where m.tenant_id = p_tenant_id and m.principal_id = auth.uid()
$$;
revoke execute on function app_private.freight_member(uuid) from public;

-- An outside principal acts only for its own party (and a driver only as itself): raises
-- forbidden otherwise. Staff (no membership in the tenant), machines and trusted sessions
-- pass: their permission was checked by the caller.
create function app_private.freight_require_party(p_tenant_id uuid, p_party_id uuid, p_driver_id uuid default null)
returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  m public.party_members := app_private.freight_member(p_tenant_id);
begin
  if m.principal_id is null then
    return;
  end if;
  if p_party_id is null or m.party_id <> p_party_id
     or (m.driver_id is not null and m.driver_id is distinct from p_driver_id) then
    perform app_private.raise_error('forbidden',
      format('principal %s acts for party %s only', m.principal_id, m.party_id),
      jsonb_build_object('party_id', m.party_id));
  end if;
end $$;
comment on function app_private.freight_require_party(uuid, uuid, uuid) is
  'Outside principals act only for their own party (drivers only as themselves); staff pass.';
revoke execute on function app_private.freight_require_party(uuid, uuid, uuid) from public;

-- The door label events carry as source_portal: the request's portal claim, else the
-- kind of caller (agent, machine, psql).
create function app_private.freight_source_portal() returns text
language sql stable security definer set search_path = '' as $$
  select coalesce(app_private.claim_portal(),
                  case when app_private.is_trusted_session() then 'psql'
                       when (select p.kind from public.principals p where p.id = auth.uid()) = 'machine'
                         then (select p.name from public.principals p where p.id = auth.uid())
                       else 'api' end)
$$;
revoke execute on function app_private.freight_source_portal() from public;

-- Publishes a freight event (freight.<entity>.<verb>) with the door in source_portal, as
-- part of the calling function's transaction. Payloads carry ids, states and figures,
-- never names, emails or phones.
create function app_private.freight_publish(p_tenant_id uuid, p_entity text, p_id uuid, p_verb text, p_payload jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (p_tenant_id, p_entity, p_id::text, 'freight.' || p_entity || '.' || p_verb,
          jsonb_build_object(p_entity || '_id', p_id, 'source_portal', app_private.freight_source_portal())
            || coalesce(p_payload, '{}'::jsonb));
end $$;
comment on function app_private.freight_publish(uuid, text, uuid, text, jsonb) is
  'Writes freight.<entity>.<verb> to the outbox in the caller''s transaction, with source_portal.';
revoke execute on function app_private.freight_publish(uuid, text, uuid, text, jsonb) from public;

-- Loads a row of a freight table by id or raises freight_not_found; the caller's permission
-- is checked in the row's tenant (has_permission also refuses a tenant other than the
-- request's). Returns the tenant.
create function app_private.freight_tenant_of(p_table regclass, p_id uuid, p_permission text)
returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  v_tenant uuid;
begin
  if p_id is null then
    perform app_private.raise_error('bad_request', format('%s id is required', p_table));
  end if;
  execute format('select tenant_id from %s where id = $1', p_table) into v_tenant using p_id;
  -- another tenant's row is as absent as a missing one; in its own tenant, forbidden says why
  if v_tenant is null
     or not (app_private.is_trusted_session() or app_private.has_permission(v_tenant, 'tenant.read')) then
    perform app_private.raise_error('freight_not_found', format('no %s %s', p_table, p_id));
  end if;
  perform app_private.require_permission(v_tenant, p_permission);
  return v_tenant;
end $$;
comment on function app_private.freight_tenant_of(regclass, uuid, text) is
  'The tenant of a freight row, after checking the caller''s permission there (freight_not_found / forbidden).';
revoke execute on function app_private.freight_tenant_of(regclass, uuid, text) from public;

-- Why a party may not be tendered, dispatched or paid right now (null: nothing), as
-- (code, reason): an active block, a suspended party, or (carriers) authority, out-of-
-- service and insurance in force on p_on.
create function app_private.freight_party_refusal(p_party_id uuid, p_on date default current_date,
                                                  out code text, out reason text)
language plpgsql stable security definer set search_path = '' as $$
declare
  v_party public.parties;
  v_prof  public.carrier_profiles;
  v_block text;
begin
  select * into v_party from public.parties where id = p_party_id;
  -- the gravest active block is the one named (an agent's insurance block may predate a sanctions hit)
  select b.reason into v_block from public.party_blocks b
   where b.party_id = p_party_id and b.cleared_at is null
   order by array_position(array['sanctions', 'authority', 'out_of_service', 'insurance', 'manual'], b.reason), b.set_at limit 1;
  if v_block is not null then
    code := 'party_blocked'; reason := v_block; return;
  end if;
  if v_party.status <> 'active' then
    code := 'party_blocked'; reason := v_party.status; return;
  end if;
  if v_party.kind <> 'carrier' then
    return;
  end if;
  select * into v_prof from public.carrier_profiles where party_id = p_party_id;
  if v_prof.out_of_service then
    code := 'carrier_out_of_service'; reason := 'out_of_service'; return;
  end if;
  if v_prof.id is null or v_prof.authority_status <> 'active' or not v_prof.allowed_to_operate then
    code := 'carrier_no_authority'; reason := coalesce(v_prof.authority_status, 'no profile'); return;
  end if;
  if (select count(distinct i.kind) from public.carrier_insurance i
       where i.party_id = p_party_id and i.kind in ('auto_liability', 'cargo')
         and p_on between i.effective_on and i.expires_on) < 2 then
    code := 'carrier_no_insurance'; reason := 'auto_liability and cargo in force on ' || p_on; return;
  end if;
end $$;
comment on function app_private.freight_party_refusal(uuid, date) is
  'Why a party may not be tendered / dispatched / paid (block, suspended, authority, out-of-service, insurance), or null.';
revoke execute on function app_private.freight_party_refusal(uuid, date) from public;

-- Raises the refusal of freight_party_refusal, if any.
create function app_private.freight_require_eligible(p_party_id uuid, p_on date default current_date)
returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  r record;
begin
  select * into r from app_private.freight_party_refusal(p_party_id, p_on);
  if r.code is not null then
    perform app_private.raise_error(r.code, format('party %s: %s', p_party_id, r.reason),
      jsonb_build_object('party_id', p_party_id, 'reason', r.reason));
  end if;
end $$;
revoke execute on function app_private.freight_require_eligible(uuid, date) from public;

-- Block a party (freight.block.manage): one active block per reason; a second set of the
-- same reason returns the active one. Audited and evented (freight.party.blocked).
create function app_private.freight_party_block_set(p_party_id uuid, p_reason text, p_note text default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.parties', p_party_id, 'freight.block.manage');
  v_id     uuid;
begin
  if p_reason is null or p_reason not in ('insurance', 'authority', 'out_of_service', 'sanctions', 'manual') then
    perform app_private.raise_error('bad_request', 'reason is one of insurance, authority, out_of_service, sanctions, manual');
  end if;
  select id into v_id from public.party_blocks where party_id = p_party_id and reason = p_reason and cleared_at is null;
  if v_id is not null then
    return v_id;
  end if;
  insert into public.party_blocks (tenant_id, party_id, reason, note, set_by, trace_id)
  values (v_tenant, p_party_id, p_reason, p_note, app_private.principal_id(), (app_private.request_context()).trace_id)
  returning id into v_id;
  perform app_private.audit_write(v_tenant, 'freight.party.block_set', 'party', p_party_id::text, null,
                                  jsonb_build_object('block_id', v_id, 'reason', p_reason));
  perform app_private.freight_publish(v_tenant, 'party', p_party_id, 'blocked',
                                      jsonb_build_object('block_id', v_id, 'reason', p_reason));
  return v_id;
end $$;
comment on function app_private.freight_party_block_set(uuid, text, text) is
  'Blocks a party for a reason (freight.block.manage), audited, event freight.party.blocked.';
grant execute on function app_private.freight_party_block_set(uuid, text, text) to authenticated;

-- Clear an active block (freight.block.manage) with a reason; keeps who and why.
create function app_private.freight_party_block_clear(p_block_id uuid, p_clear_reason text)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.party_blocks', p_block_id, 'freight.block.manage');
  b        public.party_blocks;
begin
  if p_clear_reason is null or length(btrim(p_clear_reason)) = 0 then
    perform app_private.raise_error('bad_request', 'clearing a block needs a reason');
  end if;
  select * into b from public.party_blocks where id = p_block_id for update;
  -- a sanctions hit is lifted by a person (the directory portal's rule, SY242), never by an agent
  if b.reason = 'sanctions' and not app_private.is_trusted_session()
     and coalesce((select p.kind from public.principals p where p.id = app_private.principal_id()), 'machine') <> 'human' then
    perform app_private.raise_error('sanctions_clear_human', format('sanctions block %s is cleared by a human with a reason', p_block_id));
  end if;
  if b.cleared_at is not null then
    perform app_private.raise_error('illegal_transition', format('block %s is already cleared', p_block_id),
      jsonb_build_object('machine', 'party_block', 'from', 'cleared', 'to', 'cleared'));
  end if;
  update public.party_blocks set cleared_at = now(), cleared_by = app_private.principal_id(), clear_reason = p_clear_reason
   where id = p_block_id;
  perform app_private.audit_write(v_tenant, 'freight.party.block_cleared', 'party', b.party_id::text,
                                  jsonb_build_object('block_id', b.id, 'reason', b.reason), null, p_clear_reason);
  perform app_private.freight_publish(v_tenant, 'party', b.party_id, 'unblocked',
                                      jsonb_build_object('block_id', b.id, 'reason', b.reason));
end $$;
comment on function app_private.freight_party_block_clear(uuid, text) is
  'Clears a party block with a reason (freight.block.manage), audited, event freight.party.unblocked.';
grant execute on function app_private.freight_party_block_clear(uuid, text) to authenticated;

-- Party RLS generator: a SELECT policy party_<audience> on the table for the holders of
-- freight.<audience>.read whose party (or driver) the row's column names; registered in
-- ops.rls_party_registry (the RLS matrix reads it). party_column null: every member of the
-- audience in the tenant.
create function ops.party_rls(p_table regclass, p_audience text, p_column name) returns void
language plpgsql set search_path = '' as $$
declare
  v_perm text := 'freight.' || p_audience || '.read';
  v_expr text := format('tenant_id = any ((select app_private.permitted_tenants(%L))::uuid[])', v_perm);
begin
  insert into ops.rls_party_registry (table_name, audience, party_column) values (p_table, p_audience, p_column)
  on conflict (table_name, audience) do update set party_column = excluded.party_column;
  if p_column is null then
    v_expr := v_expr || format(' and cardinality((select app_private.party_ids(%L))) > 0', p_audience);
  else
    v_expr := v_expr || format(' and %I = any ((select app_private.party_ids(%L))::uuid[])', p_column, p_audience);
    if not exists (select 1 from pg_catalog.pg_index i
                   join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                   where i.indrelid = p_table and a.attname = p_column) then
      execute format('create index on %s (%I)', p_table, p_column);
    end if;
  end if;
  execute format('drop policy if exists %I on %s', 'party_' || p_audience, p_table);
  execute format('create policy %I on %s as permissive for select to authenticated using (%s)',
                 'party_' || p_audience, p_table, v_expr);
end $$;
comment on function ops.party_rls(regclass, text, name) is
  'Adds the party dimension to a tenant table: SELECT for freight.<audience>.read holders whose party the column names.';
revoke execute on function ops.party_rls(regclass, text, name) from public;

-- Facilities carry an IANA zone (Area/Location, or UTC), one Postgres knows.
create function app_private.freight_check_time_zone() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.time_zone is null
     or not (new.time_zone = 'UTC' or new.time_zone ~ '^[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+)+$')
     or not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = new.time_zone) then
    perform app_private.raise_error('bad_time_zone',
      format('"%s" is not an IANA time zone (e.g. America/Chicago)', coalesce(new.time_zone, '(null)')));
  end if;
  return new;
end $$;
revoke execute on function app_private.freight_check_time_zone() from public;

-- A membership names a party of an outside kind; a driver's, a driver of that carrier.
create function app_private.freight_check_member() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_kind text := (select p.kind from public.parties p where p.id = new.party_id);
begin
  if v_kind = 'broker' then
    perform app_private.raise_error('bad_request', 'staff of the brokerage are not party members; give them a staff role');
  end if;
  if new.driver_id is not null
     and not exists (select 1 from public.drivers d where d.id = new.driver_id and d.carrier_party_id = new.party_id) then
    perform app_private.raise_error('foreign_asset', format('driver %s does not drive for party %s', new.driver_id, new.party_id));
  end if;
  return new;
end $$;
revoke execute on function app_private.freight_check_member() from public;

-------------------------------------------------------------------------------------------
-- party policies and triggers
-------------------------------------------------------------------------------------------
select ops.party_rls('public.parties', 'shipper', 'id');
select ops.party_rls('public.parties', 'carrier', 'id');
select ops.party_rls('public.contacts', 'shipper', 'party_id');
select ops.party_rls('public.contacts', 'carrier', 'party_id');
select ops.party_rls('public.carrier_profiles', 'carrier', 'party_id');
select ops.party_rls('public.carrier_insurance', 'carrier', 'party_id');
select ops.party_rls('public.drivers', 'carrier', 'carrier_party_id');
select ops.party_rls('public.drivers', 'driver', 'id');
select ops.party_rls('public.equipment', 'carrier', 'carrier_party_id');
select ops.party_rls('public.party_blocks', 'carrier', 'party_id');
-- the facility directory: every outside user of the tenant reads it (stops name facilities)
select ops.party_rls('public.facilities', 'shipper', null);
select ops.party_rls('public.facilities', 'carrier', null);
select ops.party_rls('public.facilities', 'driver', null);

create trigger check_time_zone before insert or update of time_zone on public.facilities
  for each row execute function app_private.freight_check_time_zone();
create trigger check_member before insert or update on public.party_members
  for each row execute function app_private.freight_check_member();
