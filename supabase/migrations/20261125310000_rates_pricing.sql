-- Rates portal (charter §4: instant pricing, contracts, index blending, guards).
--
-- The pricing math lives in packages/shared/rates (pure TypeScript). Postgres holds the
-- evidence it blends (the tenant's lane history, the market index, the diesel table,
-- contracts, guard rules) and the quotes it produced. Every tenant table is under the
-- rails (RLS from the permission matrix, kill switch, row audit) via ops.attach_rails.
--
-- Sections: permissions and grants; flags; tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
insert into public.permissions (permission, description) values
  ('rates.quote',   'Price loads (rates.price_one)'),
  ('rates.manage',  'Maintain rate contracts, index data and pricing guards'),
  ('rates.approve', 'Approve quotes flagged needs_approval')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'rates.quote'), ('super_admin', 'rates.manage'), ('super_admin', 'rates.approve'),
  ('tenant_admin', 'rates.manage'),
  ('ops_manager', 'rates.quote'), ('ops_manager', 'rates.manage'), ('ops_manager', 'rates.approve'),
  ('dispatcher', 'rates.quote'),
  ('finance_manager', 'rates.quote'),
  ('agents', 'rates.quote'), ('agents', 'rates.manage'),
  ('n8n', 'rates.quote')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('rates.indexStaleDays', 'integer', 1, 365, null, false, '{global,tenant}', '7', 'flags.global.write',
   'The market index of a tenant is stale when its newest row is older than this many days'),
  ('rates.approvalSlaMinutes', 'integer', 1, 10080, null, false, '{global,tenant}', '60', 'flags.global.write',
   'Quotes waiting for approval longer than this are escalated')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Reference data: the weekly diesel table (DOE-style, USD per gallon, week starting Monday)
create table public.rates_diesel_weeks (
  week_of date primary key,
  price   numeric(6, 3) not null constraint rates_diesel_weeks_price_range_check check (price > 0 and price < 20)
);
comment on table public.rates_diesel_weeks is
  'Weekly diesel price (USD per gallon, week starting Monday), reference data.';
alter table public.rates_diesel_weeks enable row level security;
revoke all on public.rates_diesel_weeks from anon, authenticated;
grant select on public.rates_diesel_weeks to authenticated, service_role;
create policy reference_read on public.rates_diesel_weeks for select to authenticated using (true);

-- Evidence: the tenant's own lane history and the market index
create table public.rates_lane_history (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  origin_zip3        text not null constraint rates_lane_history_origin_zip3_format_check check (origin_zip3 ~ '^\d{3}$'),
  destination_zip3   text not null constraint rates_lane_history_destination_zip3_format_check check (destination_zip3 ~ '^\d{3}$'),
  origin_region      text not null,
  destination_region text not null,
  equipment          text not null constraint rates_lane_history_equipment_allowed_check check (equipment in ('van', 'reefer', 'flatbed')),
  rate_per_mile      numeric(8, 4) not null constraint rates_lane_history_rate_per_mile_positive_check check (rate_per_mile > 0),
  shipped_on         date not null
);
comment on table public.rates_lane_history is
  'A tenant''s own shipped lanes and rates per mile: pricing evidence.';
create index rates_lane_history_zip3_idx
  on public.rates_lane_history (tenant_id, equipment, origin_zip3, destination_zip3, shipped_on desc);
create index rates_lane_history_region_idx
  on public.rates_lane_history (tenant_id, equipment, origin_region, destination_region, shipped_on desc);
select ops.attach_rails('public.rates_lane_history', p_audit => 'none');
-- RLS matrix sample row
select ops.set_rls_sample('public.rates_lane_history',
  '{"tenant_id": "$tenant", "origin_zip3": "606", "destination_zip3": "752", "origin_region": "east_north_central",
    "destination_region": "west_south_central", "equipment": "van", "rate_per_mile": 2.5, "shipped_on": "2026-11-02"}');

create table public.rates_index (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  origin_zip3        text not null constraint rates_index_origin_zip3_format_check check (origin_zip3 ~ '^\d{3}$'),
  destination_zip3   text not null constraint rates_index_destination_zip3_format_check check (destination_zip3 ~ '^\d{3}$'),
  origin_region      text not null,
  destination_region text not null,
  equipment          text not null constraint rates_index_equipment_allowed_check check (equipment in ('van', 'reefer', 'flatbed')),
  rate_per_mile      numeric(8, 4) not null constraint rates_index_rate_per_mile_positive_check check (rate_per_mile > 0),
  sample_size        int constraint rates_index_sample_size_positive_check check (sample_size > 0),
  effective_date     date not null,
  source             text not null,
  ingested_at        timestamptz not null default now(),
  trace_id           text,
  constraint rates_index_row_unique unique (tenant_id, origin_zip3, destination_zip3, equipment, effective_date, source)
);
comment on table public.rates_index is
  'Market index rates per lane, source and effective date: pricing evidence.';
create index rates_index_region_idx
  on public.rates_index (tenant_id, equipment, origin_region, destination_region, effective_date desc);
-- Row audit off: an ingest writes thousands of rows; the ingest action audits itself.
select ops.attach_rails('public.rates_index', 'domain.read', 'rates.manage', 'rates.manage', 'rates.manage', 'domain', 'none');
-- RLS matrix sample row
select ops.set_rls_sample('public.rates_index',
  '{"tenant_id": "$tenant", "origin_zip3": "606", "destination_zip3": "752", "origin_region": "east_north_central",
    "destination_region": "west_south_central", "equipment": "van", "rate_per_mile": 2.5,
    "effective_date": "2026-11-02", "source": "matrix-$n"}');

-- Contracts and guards
create table public.rates_contracts (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  customer_ref text,
  origin       text not null,   -- ZIP3 or region
  destination  text not null,
  equipment    text not null constraint rates_contracts_equipment_allowed_check check (equipment in ('van', 'reefer', 'flatbed')),
  rate         jsonb not null constraint rates_contracts_rate_kind_allowed_check check (rate ->> 'kind' in ('per_mile', 'flat')),
  valid_from   date not null,
  valid_to     date not null,
  notes        text,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint rates_contracts_valid_from_before_valid_to_check check (valid_from <= valid_to)
);
comment on table public.rates_contracts is
  'Customer rate contracts in force between valid_from and valid_to.';
create index rates_contracts_lane_idx on public.rates_contracts (tenant_id, equipment, valid_to);
-- Deferred row audit: the tenant's audit chain lock is taken at COMMIT, not held across the
-- action's round trips (see ops.attach_rails).
select ops.attach_rails('public.rates_contracts', 'domain.read', 'rates.manage', 'rates.manage', 'rates.manage',
                        p_audit => 'deferred');
-- RLS matrix sample row
select ops.set_rls_sample('public.rates_contracts',
  '{"tenant_id": "$tenant", "origin": "606", "destination": "752", "equipment": "van",
    "rate": {"kind": "flat", "amount": 1000}, "valid_from": "2026-01-01", "valid_to": "2026-12-31"}');

create table public.rates_guards (
  id                      uuid primary key default gen_random_uuid(),
  tenant_id               uuid not null references public.tenants (id) on delete cascade,
  label                   text not null,
  equipment               text constraint rates_guards_equipment_allowed_check check (equipment in ('van', 'reefer', 'flatbed')),
  origin                  text,   -- ZIP3 or region; null = any
  destination             text,
  min_margin_pct          numeric(6, 2),
  max_index_deviation_pct numeric(6, 2) constraint rates_guards_max_index_deviation_pct_nonnegative_check check (max_index_deviation_pct >= 0),
  floor_total             numeric(12, 2) constraint rates_guards_floor_total_nonnegative_check check (floor_total >= 0),
  ceiling_total           numeric(12, 2) constraint rates_guards_ceiling_total_nonnegative_check check (ceiling_total >= 0),
  floor_per_mile          numeric(8, 4) constraint rates_guards_floor_per_mile_nonnegative_check check (floor_per_mile >= 0),
  ceiling_per_mile        numeric(8, 4) constraint rates_guards_ceiling_per_mile_nonnegative_check check (ceiling_per_mile >= 0),
  constraint rates_guards_floor_total_not_above_ceiling_check check (floor_total <= ceiling_total),
  constraint rates_guards_floor_per_mile_not_above_ceiling_check check (floor_per_mile <= ceiling_per_mile)
);
comment on table public.rates_guards is
  'Pricing guard rules (margins, index deviation, floors and ceilings).';
select ops.attach_rails('public.rates_guards', 'domain.read', 'rates.manage', 'rates.manage', 'rates.manage');
-- RLS matrix sample row
select ops.set_rls_sample('public.rates_guards', '{"tenant_id": "$tenant", "label": "matrix-$n", "min_margin_pct": 5}');

-- Quotes
create table public.rates_quotes (
  id              uuid primary key,
  tenant_id       uuid not null references public.tenants (id) on delete cascade,
  -- the customer (a shipper party) the quote was made for; booking checks it (freight_order_book)
  party_id        uuid,
  request         jsonb not null,            -- the validated input
  quote           jsonb not null,            -- figures, guards and explanation
  total           numeric(12, 2) not null,
  status          text not null constraint rates_quotes_status_allowed_check check (status in ('priced', 'needs_approval', 'approved', 'rejected')),
  needs_approval_since timestamptz,
  escalated_at    timestamptz,
  trace_id        text,
  created_by      uuid default auth.uid(),
  created_at      timestamptz not null default now(),
  constraint rates_quotes_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id)
);
comment on table public.rates_quotes is
  'Quotes the rates portal produced, with the request and the explanation.';
create index rates_quotes_pending_idx on public.rates_quotes (tenant_id, needs_approval_since)
  where status = 'needs_approval';
create index rates_quotes_trace_idx on public.rates_quotes (trace_id);
-- Updates (escalation, approval) need rates.manage; approving is its own action (rates.approve).
-- Deferred row audit, as for contracts: price_one's hot path.
select ops.attach_rails('public.rates_quotes', 'domain.read', 'rates.quote', 'rates.manage', null,
                        p_audit => 'deferred');
-- RLS matrix sample row
select ops.set_rls_sample('public.rates_quotes',
  '{"id": "$uuid", "tenant_id": "$tenant", "request": {}, "quote": {}, "total": 100, "status": "priced"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Evidence for one quote, in one round trip, for a holder of rates.quote in the tenant.
-- Security definer: a shipper user quotes itself (rates/price_one) without reading the
-- evidence tables (its RLS shows it none of them; it never sees the cost side either: the
-- portal answers customers without it).
-- Returns {history_zip3, history_region, index_zip3, index_region, diesel, contracts, guards}:
-- the last 50 loads and the newest index row per source at each lane level, the diesel
-- weeks up to the pickup date, contracts in force at pickup and every guard rule.
-- PL/pgSQL, so its seven-part query is planned once per session, not on every quote.
create function public.rates_evidence(
  p_tenant_id uuid, p_equipment text,
  p_origin_zip3 text, p_destination_zip3 text, p_origin_region text, p_destination_region text,
  p_pickup date)
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
begin
  perform app_private.require_permission(p_tenant_id, 'rates.quote');
  return (
  select jsonb_build_object(
      'history_zip3', coalesce((
        select jsonb_agg(h.rate_per_mile) from (
          select rate_per_mile from public.rates_lane_history
          where tenant_id = p_tenant_id and equipment = p_equipment
            and origin_zip3 = p_origin_zip3 and destination_zip3 = p_destination_zip3
          order by shipped_on desc limit 50) h), '[]'),
      'history_region', coalesce((
        select jsonb_agg(h.rate_per_mile) from (
          select rate_per_mile from public.rates_lane_history
          where tenant_id = p_tenant_id and equipment = p_equipment
            and origin_region = p_origin_region and destination_region = p_destination_region
          order by shipped_on desc limit 50) h), '[]'),
      'index_zip3', coalesce((
        select jsonb_agg(jsonb_build_object('rate_per_mile', i.rate_per_mile, 'sample_size', i.sample_size,
                                            'effective_date', i.effective_date, 'source', i.source))
        from (select distinct on (source) * from public.rates_index
              where tenant_id = p_tenant_id and equipment = p_equipment
                and origin_zip3 = p_origin_zip3 and destination_zip3 = p_destination_zip3
                and effective_date <= p_pickup
              order by source, effective_date desc) i), '[]'),
      'index_region', coalesce((
        select jsonb_agg(jsonb_build_object('rate_per_mile', i.rate_per_mile, 'sample_size', i.sample_size,
                                            'effective_date', i.effective_date, 'source', i.source))
        from (select distinct on (source, origin_zip3, destination_zip3) * from public.rates_index
              where tenant_id = p_tenant_id and equipment = p_equipment
                and origin_region = p_origin_region and destination_region = p_destination_region
                and effective_date <= p_pickup
              order by source, origin_zip3, destination_zip3, effective_date desc) i), '[]'),
      'diesel', coalesce((
        select jsonb_agg(jsonb_build_object('week_of', d.week_of, 'price', d.price) order by d.week_of desc)
        from (select * from public.rates_diesel_weeks where week_of <= p_pickup
              order by week_of desc limit 8) d), '[]'),
      'contracts', coalesce((
        select jsonb_agg(jsonb_build_object('id', c.id, 'origin', c.origin, 'destination', c.destination,
                 'equipment', c.equipment, 'rate', c.rate, 'valid_from', c.valid_from,
                 'valid_to', c.valid_to, 'customer_ref', c.customer_ref))
        from public.rates_contracts c
        where c.tenant_id = p_tenant_id and c.equipment = p_equipment
          and p_pickup between c.valid_from and c.valid_to), '[]'),
      'guards', coalesce((
        select jsonb_agg(jsonb_strip_nulls(to_jsonb(g) - 'tenant_id'))
        from public.rates_guards g where g.tenant_id = p_tenant_id), '[]')
    )
  );
end $$;
comment on function public.rates_evidence(uuid, text, text, text, text, text, date) is
  'Everything one quote blends, in one round trip, for a holder of rates.quote in the tenant.';
-- (anon too: hosted Supabase's default privileges grant new public functions to anon)
revoke execute on function public.rates_evidence(uuid, text, text, text, text, text, date) from public, anon;
grant execute on function public.rates_evidence(uuid, text, text, text, text, text, date) to authenticated;

-- Records a quote price_one made and publishes rates.quote.created, in the caller's
-- transaction (rates.quote in the request's tenant). Security definer so that shipper
-- users quote themselves without outbox.publish (outside roles never hold it: they could
-- inject any event); the event's payload is built here from the quote, never taken from
-- the caller.
create function app_private.rates_quote_record(p_id uuid, p_party_id uuid, p_request jsonb, p_quote jsonb,
                                               p_needs_approval_since timestamptz, p_trace_id text)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
begin
  perform app_private.require_permission(v_tenant, 'rates.quote');
  insert into public.rates_quotes (id, tenant_id, party_id, request, quote, total, status, needs_approval_since, trace_id)
  values (p_id, v_tenant, p_party_id, p_request, p_quote, (p_quote ->> 'total')::numeric, p_quote ->> 'status',
          p_needs_approval_since, p_trace_id);
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_tenant, 'rates_quote', p_id::text, 'rates.quote.created', jsonb_build_object(
    'quote_id', p_id, 'status', p_quote ->> 'status', 'total', (p_quote ->> 'total')::numeric, 'currency', 'USD',
    'equipment', p_quote ->> 'equipment', 'origin', p_quote #>> '{origin,zip3}', 'destination', p_quote #>> '{destination,zip3}',
    'pickup_date', p_quote ->> 'pickup_date',
    'guards_breached', coalesce((select jsonb_agg(b ->> 'guard') from jsonb_array_elements(p_quote #> '{guards,breaches}') b), '[]'::jsonb)));
end $$;
comment on function app_private.rates_quote_record(uuid, uuid, jsonb, jsonb, timestamptz, text) is
  'Stores a quote and publishes rates.quote.created (rates.quote in the request''s tenant; the payload is built from the quote).';
revoke execute on function app_private.rates_quote_record(uuid, uuid, jsonb, jsonb, timestamptz, text) from public;
grant execute on function app_private.rates_quote_record(uuid, uuid, jsonb, jsonb, timestamptz, text) to authenticated;

-- The customer a quote is made for: a shipper user's quotes are its own party's (naming
-- another is forbidden); staff may name a shipper of the tenant, or none.
create function app_private.rates_quote_party() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  m public.party_members := app_private.freight_member(new.tenant_id);
begin
  if m.principal_id is not null then
    if new.party_id is not null and new.party_id <> m.party_id then
      perform app_private.raise_error('forbidden', format('principal %s quotes for party %s only', m.principal_id, m.party_id),
        jsonb_build_object('party_id', m.party_id));
    end if;
    new.party_id := m.party_id;
  elsif new.party_id is not null
        and (select p.kind from public.parties p where p.id = new.party_id and p.tenant_id = new.tenant_id) is distinct from 'shipper' then
    perform app_private.raise_error('freight_not_found', format('no shipper %s in the tenant', new.party_id));
  end if;
  return new;
end $$;
comment on function app_private.rates_quote_party() is
  'Sets a quote''s customer: a shipper user''s own party (another is forbidden); staff a shipper of the tenant.';
revoke execute on function app_private.rates_quote_party() from public;

-- rates/price_one's post-condition read. As an ad-hoc statement it was planned on every
-- call against every outbox partition (about 6 ms of planning at 16 daily partitions,
-- for a 0.4 ms read; the edge sends unnamed statements, whose plans are not kept). As a
-- function its plan is cached per session. The quote's event is looked up by tenant,
-- aggregate type and id, which the outbox's aggregate index serves (by aggregate id
-- alone it was a scan of every partition: seconds at a million rows).
create function app_private.rates_quote_proof(p_tenant_id uuid, p_quote_id uuid,
                                              out total numeric, out status text, out events int)
language plpgsql stable security definer set search_path = '' as $$
begin
  select q.total, q.status into total, status
  from public.rates_quotes q where q.id = p_quote_id and q.tenant_id = p_tenant_id;
  select count(*)::int into events
  from public.outbox_events o
  where o.tenant_id = p_tenant_id and o.aggregate_type = 'rates_quote' and o.aggregate_id = p_quote_id::text
    and o.event_type = 'rates.quote.created';
end $$;
comment on function app_private.rates_quote_proof(uuid, uuid) is
  'price_one''s post-condition: the quote''s total and status and its outbox event count.';
revoke execute on function app_private.rates_quote_proof(uuid, uuid) from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger quote_party before insert or update of party_id on public.rates_quotes
  for each row execute function app_private.rates_quote_party();
