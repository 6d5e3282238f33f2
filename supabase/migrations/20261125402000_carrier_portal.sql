-- Carrier portal: a carrier user's day (a person of a carrier party inside the tenant,
-- party RLS): the tenders offered to its company (accept, decline, counter: the core's
-- freight_tender_*), dispatch of its covered loads (the core's freight_load_dispatch:
-- foreign_asset, asset_blocked, driver_documents_expired), capacity (trucks available by
-- lane and date), contract lanes, compliance (insurance certificates referencing an
-- uploaded document, authority) and its own scorecard. The compliance agent suspends a
-- carrier whose insurance lapses within carrier.insuranceHorizonDays or that is out of
-- service (a party_blocks row through the core's freight_party_block_set); a tender to a
-- blocked or suspended carrier is refused in Postgres from every door (the core's
-- eligibility check in the functions, and its tender_block_guard trigger for a raw insert).
--
-- Sections: permissions and grants (error codes, permissions); flags; tables; functions;
-- party policies.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('insurance_document_invalid', 'SY130', 422, 'Insurance certificate document invalid',
   'An insurance certificate references an uploaded document of kind insurance_certificate recorded for the same carrier (POST /documents/upload?kind=insurance_certificate&party_id=...).'),
  ('capacity_date_past', 'SY131', 422, 'Capacity date in the past',
   'Capacity is offered for today or a later day (in UTC), within a year.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('carrier.capacity.write',   'Publish a carrier''s trucks available by lane and date'),
  ('carrier.compliance.write', 'Submit a carrier''s insurance certificates (referencing an uploaded document)')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'carrier.capacity.write'), ('super_admin', 'carrier.compliance.write'),
  ('ops_manager', 'carrier.capacity.write'), ('ops_manager', 'carrier.compliance.write'),
  ('dispatcher', 'carrier.capacity.write'), ('dispatcher', 'carrier.compliance.write'),
  ('carrier_user', 'carrier.capacity.write'), ('carrier_user', 'carrier.compliance.write')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('carrier.insuranceHorizonDays', 'integer', 1, 60, null, false, '{global,tenant}', '7', 'flags.global.write',
   'The compliance agent suspends a carrier whose auto liability or cargo coverage ends within this many days')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Capacity: trucks a carrier offers on a lane (origin and destination region, US state or
-- CA province code) on a day. Written through app_private.carrier_capacity_set (0 trucks
-- removes the row).
create table public.carrier_capacity (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  carrier_party_id   uuid not null,
  origin_region      text not null constraint carrier_capacity_origin_region_format_check check (origin_region ~ '^[A-Z]{2}$'),
  destination_region text not null constraint carrier_capacity_destination_region_format_check check (destination_region ~ '^[A-Z]{2}$'),
  equipment_type     text not null constraint carrier_capacity_equipment_type_allowed_check
                     check (equipment_type in ('van', 'reefer', 'flatbed', 'step_deck', 'tanker', 'power_only')),
  available_on       date not null,
  trucks             int not null constraint carrier_capacity_trucks_range_check check (trucks between 1 and 500),
  updated_by         uuid default auth.uid(),
  updated_at         timestamptz not null default now(),
  trace_id           text,
  constraint carrier_capacity_lane_day_unique unique (tenant_id, carrier_party_id, origin_region, destination_region, equipment_type, available_on),
  constraint carrier_capacity_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.carrier_capacity is
  'Trucks a carrier offers by lane (origin / destination region, equipment) and day; written through app_private.carrier_capacity_set.';
create index carrier_capacity_day_idx on public.carrier_capacity (tenant_id, available_on, origin_region, destination_region);
select ops.attach_rails('public.carrier_capacity', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.carrier_capacity',
  '{"tenant_id": "$tenant", "carrier_party_id": "$carrier", "origin_region": "IL", "destination_region": "TX",
    "equipment_type": "van", "available_on": "2030-01-01", "trucks": "$n"}');

-- Contract lanes: the lanes a carrier runs for the brokerage at an agreed buy rate (cents)
-- over a validity period. Agreed with the brokerage: staff write them (domain.write), the
-- carrier reads its own.
create table public.carrier_contract_lanes (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  carrier_party_id   uuid not null,
  origin_city        text,
  origin_region      text not null constraint carrier_contract_lanes_origin_region_format_check check (origin_region ~ '^[A-Z]{2}$'),
  destination_city   text,
  destination_region text not null constraint carrier_contract_lanes_destination_region_format_check check (destination_region ~ '^[A-Z]{2}$'),
  equipment_type     text not null constraint carrier_contract_lanes_equipment_type_allowed_check
                     check (equipment_type in ('van', 'reefer', 'flatbed', 'step_deck', 'tanker', 'power_only')),
  rate_cents         bigint not null constraint carrier_contract_lanes_rate_cents_positive_check check (rate_cents > 0),
  currency           char(3) not null default 'USD' constraint carrier_contract_lanes_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  trucks_per_week    int constraint carrier_contract_lanes_trucks_per_week_range_check check (trucks_per_week between 1 and 500),
  valid_from         date not null,
  valid_to           date not null,
  created_at         timestamptz not null default now(),
  constraint carrier_contract_lanes_valid_to_after_valid_from_check check (valid_to >= valid_from),
  constraint carrier_contract_lanes_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.carrier_contract_lanes is
  'Lanes a carrier runs for the brokerage at an agreed buy rate in cents over a validity period (staff write, the carrier reads its own).';
create index carrier_contract_lanes_carrier_idx on public.carrier_contract_lanes (carrier_party_id, valid_to);
select ops.attach_rails('public.carrier_contract_lanes', p_audit => 'deferred');
select ops.set_rls_sample('public.carrier_contract_lanes',
  '{"tenant_id": "$tenant", "carrier_party_id": "$carrier", "origin_region": "IL", "destination_region": "TX",
    "equipment_type": "van", "rate_cents": 180000, "valid_from": "2030-01-01", "valid_to": "2030-12-31"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The tenant of a carrier party a write is for, after checking the caller's permission
-- there and that a carrier user acts for its own company (freight_require_party).
create function app_private.carrier_tenant_of(p_carrier_party_id uuid, p_permission text) returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.parties', p_carrier_party_id, p_permission);
begin
  perform app_private.freight_require_party(v_tenant, p_carrier_party_id);
  if (select kind from public.parties where id = p_carrier_party_id) <> 'carrier' then
    perform app_private.raise_error('bad_request', format('party %s is not a carrier', p_carrier_party_id));
  end if;
  return v_tenant;
end $$;
revoke execute on function app_private.carrier_tenant_of(uuid, text) from public;

-- Capacity (carrier.capacity.write; a carrier user for its own party): sets the trucks
-- available on a lane and day (0 removes it). Event carrier.capacity.updated.
create function app_private.carrier_capacity_set(p_carrier_party_id uuid, p_origin_region text, p_destination_region text,
                                                 p_equipment_type text, p_available_on date, p_trucks int)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.carrier_tenant_of(p_carrier_party_id, 'carrier.capacity.write');
  v_id     uuid;
begin
  if p_available_on is null or p_available_on < (now() at time zone 'UTC')::date or p_available_on > (now() at time zone 'UTC')::date + 366 then
    perform app_private.raise_error('capacity_date_past', format('capacity on %s: today or later, within a year', coalesce(p_available_on::text, 'null')),
      jsonb_build_object('available_on', p_available_on));
  end if;
  if p_trucks is null or p_trucks < 0 or p_trucks > 500 then
    perform app_private.raise_error('bad_request', 'trucks is 0 (remove) .. 500');
  end if;
  if p_trucks = 0 then
    delete from public.carrier_capacity
     where tenant_id = v_tenant and carrier_party_id = p_carrier_party_id and origin_region = p_origin_region
       and destination_region = p_destination_region and equipment_type = p_equipment_type and available_on = p_available_on
    returning id into v_id;
  else
    insert into public.carrier_capacity (tenant_id, carrier_party_id, origin_region, destination_region, equipment_type, available_on,
                                         trucks, updated_by, trace_id)
    values (v_tenant, p_carrier_party_id, p_origin_region, p_destination_region, p_equipment_type, p_available_on, p_trucks,
            app_private.principal_id(), (app_private.request_context()).trace_id)
    on conflict on constraint carrier_capacity_lane_day_unique
      do update set trucks = excluded.trucks, updated_by = excluded.updated_by, updated_at = now(), trace_id = excluded.trace_id
    returning id into v_id;
  end if;
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_tenant, 'carrier', p_carrier_party_id::text, 'carrier.capacity.updated',
          jsonb_build_object('carrier_party_id', p_carrier_party_id, 'capacity_id', v_id, 'origin_region', p_origin_region,
                             'destination_region', p_destination_region, 'equipment_type', p_equipment_type,
                             'available_on', p_available_on, 'trucks', p_trucks, 'source_portal', app_private.freight_source_portal()));
  perform app_private.audit_write(v_tenant, 'carrier.capacity.set', 'party', p_carrier_party_id::text, null,
    jsonb_build_object('origin_region', p_origin_region, 'destination_region', p_destination_region,
                       'equipment_type', p_equipment_type, 'available_on', p_available_on, 'trucks', p_trucks));
  return jsonb_build_object('capacity_id', v_id, 'carrier_party_id', p_carrier_party_id, 'origin_region', p_origin_region,
                            'destination_region', p_destination_region, 'equipment_type', p_equipment_type,
                            'available_on', p_available_on, 'trucks', p_trucks);
end $$;
comment on function app_private.carrier_capacity_set(uuid, text, text, text, date, int) is
  'Sets a carrier''s trucks available on a lane and day (carrier.capacity.write; carrier users their own party); event carrier.capacity.updated.';
grant execute on function app_private.carrier_capacity_set(uuid, text, text, text, date, int) to authenticated;

-- An insurance certificate (carrier.compliance.write; a carrier user for its own party):
-- p_cert {"kind", "insurer"?, "policy_number"?, "amount_cents", "currency"?, "effective_on",
-- "expires_on", "document_id"}: the document is the certificate's bytes, uploaded through
-- the documents function as kind insurance_certificate for this party
-- (insurance_document_invalid otherwise). Event freight.insurance.recorded (no insurer,
-- no policy number: ids, kind, cents and dates).
create function app_private.carrier_insurance_submit(p_carrier_party_id uuid, p_cert jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.carrier_tenant_of(p_carrier_party_id, 'carrier.compliance.write');
  v_doc    uuid := nullif(p_cert ->> 'document_id', '')::uuid;
  v_amount bigint := app_private.freight_cents(p_cert -> 'amount_cents', 'amount_cents');
  v_from   date := (p_cert ->> 'effective_on')::date;
  v_to     date := (p_cert ->> 'expires_on')::date;
  v_id     uuid;
begin
  if v_amount <= 0 then
    perform app_private.raise_error('bad_amount', 'an insurance amount is positive integer cents');
  end if;
  if v_from is null or v_to is null or v_to < v_from then
    perform app_private.raise_error('bad_request', 'effective_on and expires_on are dates, expires_on not before effective_on');
  end if;
  if v_doc is null or not exists (select 1 from public.documents d where d.id = v_doc and d.tenant_id = v_tenant
                                    and d.party_id = p_carrier_party_id and d.kind = 'insurance_certificate') then
    perform app_private.raise_error('insurance_document_invalid',
      format('document %s is not an insurance certificate of carrier %s', coalesce(v_doc::text, 'null'), p_carrier_party_id),
      jsonb_build_object('document_id', v_doc));
  end if;
  insert into public.carrier_insurance (tenant_id, party_id, kind, insurer, policy_number, amount_cents, currency, effective_on,
                                        expires_on, document_id)
  values (v_tenant, p_carrier_party_id, p_cert ->> 'kind', p_cert ->> 'insurer', p_cert ->> 'policy_number', v_amount,
          coalesce(p_cert ->> 'currency', 'USD'), v_from, v_to, v_doc)
  returning id into v_id;
  perform app_private.freight_publish(v_tenant, 'insurance', v_id, 'recorded',
    jsonb_build_object('carrier_party_id', p_carrier_party_id, 'kind', p_cert ->> 'kind', 'amount_cents', v_amount,
                       'effective_on', v_from, 'expires_on', v_to, 'document_id', v_doc));
  perform app_private.audit_write(v_tenant, 'freight.insurance.record', 'party', p_carrier_party_id::text, null,
    jsonb_build_object('insurance_id', v_id, 'kind', p_cert ->> 'kind', 'amount_cents', v_amount, 'expires_on', v_to, 'document_id', v_doc));
  return jsonb_build_object('insurance_id', v_id, 'carrier_party_id', p_carrier_party_id, 'kind', p_cert ->> 'kind',
                            'amount_cents', v_amount, 'currency', coalesce(p_cert ->> 'currency', 'USD'),
                            'effective_on', v_from, 'expires_on', v_to, 'document_id', v_doc);
end $$;
comment on function app_private.carrier_insurance_submit(uuid, jsonb) is
  'Records an insurance certificate referencing its uploaded document (carrier.compliance.write; carrier users their own party); event freight.insurance.recorded.';
grant execute on function app_private.carrier_insurance_submit(uuid, jsonb) to authenticated;

-------------------------------------------------------------------------------------------
-- party policies (a raw INSERT of an offer to a blocked carrier: the core's tender_block_guard)
-------------------------------------------------------------------------------------------
select ops.party_rls('public.carrier_capacity', 'carrier', 'carrier_party_id');
select ops.party_rls('public.carrier_contract_lanes', 'carrier', 'carrier_party_id');
