-- Freight: the functions the portals (and agents, EDI, psql) call. Each is one piece of
-- work in the caller's transaction: its permission in the entity's tenant, the party check
-- for outside users, the domain writes, the outbox events (freight.<entity>.<verb>, the door
-- in source_portal, no PII) and an audit row, all sharing the request's trace. Refusals
-- are catalogued codes (public.rail_errors).
--
--   freight_order_book          order + load + stops (+ sell lines) in one call; credit_hold
--   freight_tender_offer        a load to a carrier at a buy rate, with an SLA deadline
--   freight_tender_accept       covers the load at the tender's rate (a counter: the broker accepts it)
--   freight_tender_decline / _counter / _cancel / _expire
--   freight_load_cover          covers a load without a tender (a bid, a phone call)
--   freight_load_dispatch       the carrier assigns driver, tractor and trailer
--   freight_load_event_record   a tracking event (214 code), idempotent by source_event_id; drives the load
--   freight_load_exception      raises or clears the exception flag
--   freight_document_record     the metadata of bytes stored behind packages/shared/storage
--
-- Sections: flags; functions.

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('freight.tenderSlaMinutes', 'integer', 1, 10080, null, false, '{global,tenant}', '30', 'freight.settings.manage',
   'How long a carrier has to answer a tender when the offer names no deadline')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Integer cents >= 0 from a jsonb value (bad_amount otherwise: floats, strings, negatives).
create function app_private.freight_cents(p_value jsonb, p_what text, p_required boolean default true) returns bigint
language plpgsql stable set search_path = '' as $$
begin
  if p_value is null or jsonb_typeof(p_value) = 'null' then
    if p_required then
      perform app_private.raise_error('bad_amount', format('%s is required (integer cents)', p_what));
    end if;
    return null;
  end if;
  if jsonb_typeof(p_value) <> 'number' or (p_value #>> '{}')::numeric <> trunc((p_value #>> '{}')::numeric)
     or (p_value #>> '{}')::numeric < 0 or (p_value #>> '{}')::numeric > 100000000000 then
    perform app_private.raise_error('bad_amount', format('%s must be a non-negative integer of cents, not %s', p_what, p_value));
  end if;
  return (p_value #>> '{}')::bigint;
end $$;
revoke execute on function app_private.freight_cents(jsonb, text, boolean) from public;

-- What a customer owes or will owe: sell lines of its loads still in flight plus its
-- receivable balance in the ledger.
create function app_private.freight_credit_exposure(p_party_id uuid) returns bigint
language sql stable security definer set search_path = '' as $$
  select coalesce((select sum(c.amount_cents) from public.charge_lines c join public.loads l on l.id = c.load_id
                   where c.party_id = p_party_id and c.side = 'sell' and l.status not in ('completed', 'cancelled', 'tonu')), 0)::bigint
         + app_private.ledger_party_balance(p_party_id, 'receivable')
$$;
revoke execute on function app_private.freight_credit_exposure(uuid) from public;

-- A short reference for orders and loads when the caller gives none.
create function app_private.freight_reference(p_prefix text) returns text
language sql volatile set search_path = '' as $$
  select p_prefix || '-' || upper(substr(replace(gen_random_uuid()::text, '-', ''), 1, 10))
$$;
revoke execute on function app_private.freight_reference(text) from public;

-- Writes a load's stops from p_stops ([{"kind", "facility_id", "window_start_local",
-- "window_end_local"} in each facility's own time, or "window_start" / "window_end" as
-- timestamptz; "sequence", "reference" optional]) and validates them (stop_window_overlap,
-- stops_out_of_sequence). Returns how many. Shared by booking and routing; internal (their
-- callers check the permission).
create function app_private.freight_stops_write(p_tenant uuid, p_load uuid, p_shipper uuid, p_stops jsonb) returns int
language plpgsql set search_path = '' as $$
declare
  s        jsonb;
  v_fac    public.facilities;
  v_window tstzrange;
  v_seq    int := 0;
begin
  for s in select * from jsonb_array_elements(p_stops) loop
    v_seq := v_seq + 1;
    select * into v_fac from public.facilities f where f.id = (s ->> 'facility_id')::uuid and f.tenant_id = p_tenant;
    if v_fac.id is null then
      perform app_private.raise_error('freight_not_found', format('stop %s: no facility %s', v_seq, s ->> 'facility_id'));
    end if;
    if s ? 'window_start_local' then
      -- wall-clock times at the facility: a window across a DST change keeps its wall times
      v_window := tstzrange((s ->> 'window_start_local')::timestamp at time zone v_fac.time_zone,
                            (s ->> 'window_end_local')::timestamp at time zone v_fac.time_zone, '[)');
    else
      v_window := tstzrange((s ->> 'window_start')::timestamptz, (s ->> 'window_end')::timestamptz, '[)');
    end if;
    if isempty(v_window) or lower_inf(v_window) or upper_inf(v_window) then
      perform app_private.raise_error('bad_request', format('stop %s: the window needs a start before its end', v_seq));
    end if;
    insert into public.stops (tenant_id, load_id, sequence, kind, facility_id, appointment, reference, shipper_party_id)
    values (p_tenant, p_load, coalesce((s ->> 'sequence')::int, v_seq), s ->> 'kind', v_fac.id, v_window, s ->> 'reference', p_shipper);
  end loop;
  perform app_private.freight_validate_stops(p_load);
  return v_seq;
end $$;
comment on function app_private.freight_stops_write(uuid, uuid, uuid, jsonb) is
  'Writes and validates a load''s stops (windows in facility time); internal to booking and routing.';
revoke execute on function app_private.freight_stops_write(uuid, uuid, uuid, jsonb) from public;

-- Book an order: order + load + stops (+ the sell lines) in one call. p_order:
--   {"shipper_party_id", "reference"?, "customer_reference"?, "quote_id"?, "currency"? (USD),
--    "equipment_type"?, "weight_lbs"?, "commodity"?, "open"? (true: the load is opened),
--    "sell": {"linehaul_cents", "fuel_cents"?, "accessorials"?: [{"code", "amount_cents"}]},
--    "stops": [{"kind", "facility_id", "window_start", "window_end"}            -- timestamptz
--            | {"kind", "facility_id", "window_start_local", "window_end_local"}]}  -- facility time
-- Refused: a shipper user for another party (forbidden), a blocked customer (party_blocked),
-- over the credit limit (credit_hold), overlapping / out-of-sequence stops, bad amounts.
create function app_private.freight_order_book(p_order jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_shipper  uuid := nullif(p_order ->> 'shipper_party_id', '')::uuid;
  v_tenant   uuid := app_private.freight_tenant_of('public.parties', v_shipper, 'freight.order.book');
  v_party    public.parties;
  v_currency text := coalesce(p_order ->> 'currency', 'USD');
  v_order    uuid;
  v_load     uuid;
  v_linehaul bigint := app_private.freight_cents(p_order #> '{sell,linehaul_cents}', 'sell.linehaul_cents');
  v_fuel     bigint := app_private.freight_cents(p_order #> '{sell,fuel_cents}', 'sell.fuel_cents', false);
  v_total    bigint;
  v_exposure bigint;
  a          jsonb;
  v_acc      public.accessorials;
  v_seq      int;
  v_quote_party uuid;
begin
  perform app_private.freight_require_party(v_tenant, v_shipper);
  select * into v_party from public.parties where id = v_shipper;
  if v_party.kind <> 'shipper' then
    perform app_private.raise_error('bad_request', format('party %s is a %s, not a shipper', v_shipper, v_party.kind));
  end if;
  perform app_private.freight_require_eligible(v_shipper);
  if v_currency <> v_party.currency then
    perform app_private.raise_error('currency_mismatch', format('the order is in %s, the customer bills in %s', v_currency, v_party.currency));
  end if;
  if jsonb_typeof(p_order -> 'stops') is distinct from 'array' or jsonb_array_length(p_order -> 'stops') < 2 then
    perform app_private.raise_error('bad_request', 'an order needs at least two stops (a pickup and a delivery)');
  end if;
  -- a quote made for another customer is not this one's price
  if p_order ? 'quote_id' then
    select q.party_id into v_quote_party from public.rates_quotes q
     where q.id = (p_order ->> 'quote_id')::uuid and q.tenant_id = v_tenant;
    if not found then
      perform app_private.raise_error('freight_not_found', format('no quote %s', p_order ->> 'quote_id'));
    end if;
    if v_quote_party is not null and v_quote_party <> v_shipper then
      perform app_private.raise_error('forbidden', format('quote %s was made for another customer', p_order ->> 'quote_id'));
    end if;
  end if;

  -- credit: what is in flight and owed, plus this order
  v_total := v_linehaul + coalesce(v_fuel, 0);
  for a in select * from jsonb_array_elements(coalesce(p_order #> '{sell,accessorials}', '[]')) loop
    v_total := v_total + app_private.freight_cents(a -> 'amount_cents', 'accessorial amount_cents');
  end loop;
  if v_party.credit_limit_cents is not null then
    v_exposure := app_private.freight_credit_exposure(v_shipper);
    if v_exposure + v_total > v_party.credit_limit_cents then
      perform app_private.raise_error('credit_hold',
        format('party %s: %s cents in flight or owed + %s for this order exceed the credit limit of %s',
               v_shipper, v_exposure, v_total, v_party.credit_limit_cents),
        jsonb_build_object('party_id', v_shipper, 'limit_cents', v_party.credit_limit_cents,
                           'exposure_cents', v_exposure, 'order_cents', v_total));
    end if;
  end if;

  insert into public.orders (tenant_id, reference, shipper_party_id, customer_reference, quote_id, currency, booked_by)
  values (v_tenant, coalesce(p_order ->> 'reference', app_private.freight_reference('ORD')), v_shipper,
          p_order ->> 'customer_reference', (p_order ->> 'quote_id')::uuid, v_currency, app_private.principal_id())
  returning id into v_order;
  insert into public.loads (tenant_id, order_id, reference, shipper_party_id, equipment_type, weight_lbs, commodity)
  values (v_tenant, v_order, coalesce(p_order ->> 'load_reference', app_private.freight_reference('LD')), v_shipper,
          coalesce(p_order ->> 'equipment_type', 'van'), (p_order ->> 'weight_lbs')::int, p_order ->> 'commodity')
  returning id into v_load;

  v_seq := app_private.freight_stops_write(v_tenant, v_load, v_shipper, p_order -> 'stops');

  insert into public.charge_lines (tenant_id, load_id, side, party_id, kind, amount_cents, currency, source_type, source_id)
  values (v_tenant, v_load, 'sell', v_shipper, 'linehaul', v_linehaul, v_currency,
          case when p_order ? 'quote_id' then 'quote' else 'order' end, coalesce((p_order ->> 'quote_id')::uuid, v_order));
  if coalesce(v_fuel, 0) > 0 then
    insert into public.charge_lines (tenant_id, load_id, side, party_id, kind, amount_cents, currency, source_type, source_id)
    values (v_tenant, v_load, 'sell', v_shipper, 'fuel', v_fuel, v_currency, 'order', v_order);
  end if;
  for a in select * from jsonb_array_elements(coalesce(p_order #> '{sell,accessorials}', '[]')) loop
    select * into v_acc from public.accessorials x where x.tenant_id = v_tenant and x.code = a ->> 'code' and x.active;
    if v_acc.id is null then
      perform app_private.raise_error('bad_request', format('no active accessorial %s', a ->> 'code'));
    end if;
    insert into public.charge_lines (tenant_id, load_id, side, party_id, kind, accessorial_id, description, amount_cents,
                                     currency, source_type, source_id)
    values (v_tenant, v_load, 'sell', v_shipper, 'accessorial', v_acc.id, v_acc.code, (a ->> 'amount_cents')::bigint,
            v_currency, 'order', v_order);
  end loop;

  perform app_private.freight_publish(v_tenant, 'order', v_order, 'booked',
    jsonb_build_object('load_id', v_load, 'shipper_party_id', v_shipper, 'quote_id', p_order ->> 'quote_id',
                       'sell_total_cents', v_total, 'currency', v_currency, 'stops', v_seq));
  perform app_private.audit_write(v_tenant, 'freight.order.book', 'order', v_order::text, null,
    jsonb_build_object('load_id', v_load, 'stops', v_seq, 'sell_total_cents', v_total));
  if coalesce((p_order ->> 'open')::boolean, true) then
    perform app_private.freight_load_move(v_load, 'open', 'booked');
  end if;
  return jsonb_build_object('order_id', v_order, 'load_id', v_load,
                            'status', (select status from public.loads where id = v_load), 'sell_total_cents', v_total);
end $$;
comment on function app_private.freight_order_book(jsonb) is
  'Books an order, its load and stops (and sell lines) in one call (freight.order.book); credit_hold over the limit.';
grant execute on function app_private.freight_order_book(jsonb) to authenticated;

-- The lane a carrier decides on: stops' cities, regions, windows (UTC and facility time), equipment.
create function app_private.freight_lane(p_load_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object(
    'load_id', l.id, 'reference', l.reference, 'equipment_type', l.equipment_type, 'weight_lbs', l.weight_lbs,
    'stops', coalesce((select jsonb_agg(jsonb_build_object(
        'sequence', s.sequence, 'kind', s.kind, 'city', f.city, 'region', f.region, 'time_zone', f.time_zone,
        'window_start', lower(s.appointment), 'window_end', upper(s.appointment),
        'window_start_local', lower(s.appointment) at time zone f.time_zone,
        'window_end_local', upper(s.appointment) at time zone f.time_zone) order by s.sequence)
      from public.stops s join public.facilities f on f.id = s.facility_id where s.load_id = l.id), '[]'))
  from public.loads l where l.id = p_load_id
$$;
revoke execute on function app_private.freight_lane(uuid) from public;

-- The first pickup's day (insurance and driver documents must be good then too).
create function app_private.freight_pickup_date(p_load_id uuid) returns date
language sql stable security definer set search_path = '' as $$
  select coalesce((select (lower(s.appointment) at time zone f.time_zone)::date
                   from public.stops s join public.facilities f on f.id = s.facility_id
                   where s.load_id = p_load_id order by s.sequence limit 1), current_date)
$$;
revoke execute on function app_private.freight_pickup_date(uuid) from public;

-- Offer a load to a carrier (freight.tender.offer): refused to a blocked, suspended or out-
-- of-service carrier, or one without authority or insurance in force on the pickup day.
-- The load goes open -> tendered (already tendered: stays). Returns the tender id.
create function app_private.freight_tender_offer(p_load_id uuid, p_carrier_party_id uuid, p_rate_cents bigint,
                                                 p_sla_deadline timestamptz default null, p_currency text default 'USD')
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'freight.tender.offer');
  l        public.loads;
  v_id     uuid;
  v_due    timestamptz;
begin
  select * into l from public.loads where id = p_load_id for update;
  if p_rate_cents is null or p_rate_cents <= 0 then
    perform app_private.raise_error('bad_amount', format('the offered rate must be positive integer cents, not %s', coalesce(p_rate_cents::text, 'null')));
  end if;
  if not exists (select 1 from public.parties p where p.id = p_carrier_party_id and p.tenant_id = v_tenant and p.kind = 'carrier') then
    perform app_private.raise_error('freight_not_found', format('no carrier %s in the tenant', p_carrier_party_id));
  end if;
  if l.status not in ('open', 'tendered') then
    perform app_private.raise_error('illegal_transition', format('load %s is %s: only open or tendered loads are tendered', l.id, l.status),
      jsonb_build_object('machine', 'load', 'id', l.id, 'from', l.status, 'to', 'tendered'));
  end if;
  perform app_private.freight_require_eligible(p_carrier_party_id, app_private.freight_pickup_date(l.id));
  v_due := coalesce(p_sla_deadline, now() + make_interval(mins => app_private.flag_number('freight.tenderSlaMinutes', v_tenant)::int));
  if v_due <= now() then
    perform app_private.raise_error('bad_request', 'the SLA deadline is in the past');
  end if;
  insert into public.tenders (tenant_id, load_id, carrier_party_id, offered_rate_cents, currency, sla_deadline, lane,
                              offered_by, trace_id)
  values (v_tenant, l.id, p_carrier_party_id, p_rate_cents, coalesce(p_currency, 'USD'), v_due, app_private.freight_lane(l.id),
          app_private.principal_id(), (app_private.request_context()).trace_id)
  returning id into v_id;
  perform app_private.freight_publish(v_tenant, 'tender', v_id, 'offered',
    jsonb_build_object('load_id', l.id, 'carrier_party_id', p_carrier_party_id, 'rate_cents', p_rate_cents,
                       'currency', coalesce(p_currency, 'USD'), 'sla_deadline', v_due));
  perform app_private.audit_write(v_tenant, 'freight.tender.offer', 'tender', v_id::text, null,
    jsonb_build_object('load_id', l.id, 'carrier_party_id', p_carrier_party_id, 'rate_cents', p_rate_cents, 'sla_deadline', v_due));
  if l.status = 'open' then
    perform app_private.freight_load_move(l.id, 'tendered', 'tender ' || v_id, null, jsonb_build_object('tender_id', v_id));
  end if;
  return v_id;
end $$;
comment on function app_private.freight_tender_offer(uuid, uuid, bigint, timestamptz, text) is
  'Tenders a load to an eligible carrier at a buy rate with an SLA deadline (freight.tender.offer).';
grant execute on function app_private.freight_tender_offer(uuid, uuid, bigint, timestamptz, text) to authenticated;

-- Covers a load with a carrier at a buy rate: the carrier on the load, its buy linehaul
-- line, the other live tenders cancelled, load -> covered. No permission check (callers).
create function app_private.freight_cover_internal(p_load_id uuid, p_carrier_party_id uuid, p_rate_cents bigint,
                                                   p_currency text, p_source_type text, p_source_id uuid)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  l public.loads;
  t record;
begin
  select * into l from public.loads where id = p_load_id for update;
  perform app_private.freight_transition_check('load', l.id, l.status, 'covered');
  perform app_private.freight_require_eligible(p_carrier_party_id, app_private.freight_pickup_date(l.id));
  update public.loads set carrier_party_id = p_carrier_party_id, updated_at = now() where id = l.id;
  insert into public.charge_lines (tenant_id, load_id, side, party_id, kind, amount_cents, currency, source_type, source_id)
  values (l.tenant_id, l.id, 'buy', p_carrier_party_id, 'linehaul', p_rate_cents, p_currency, p_source_type, p_source_id);
  for t in select id from public.tenders
           where load_id = l.id and status in ('offered', 'countered') and id is distinct from p_source_id loop
    perform app_private.freight_tender_move(t.id, 'cancelled', 'load covered');
  end loop;
  perform app_private.freight_load_move(l.id, 'covered', p_source_type || ' ' || p_source_id, null,
    jsonb_build_object('rate_source', p_source_type, 'source_id', p_source_id));
end $$;
revoke execute on function app_private.freight_cover_internal(uuid, uuid, bigint, text, text, uuid) from public;

-- Covers a load without a tender (an accepted bid, a carrier booked by phone): freight.tender.offer.
create function app_private.freight_load_cover(p_load_id uuid, p_carrier_party_id uuid, p_rate_cents bigint,
                                               p_source_type text default 'manual', p_source_id uuid default null,
                                               p_currency text default 'USD')
returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'freight.tender.offer');
begin
  if p_rate_cents is null or p_rate_cents < 0 then
    perform app_private.raise_error('bad_amount', format('the buy rate must be non-negative integer cents, not %s', coalesce(p_rate_cents::text, 'null')));
  end if;
  if not exists (select 1 from public.parties p where p.id = p_carrier_party_id and p.tenant_id = v_tenant and p.kind = 'carrier') then
    perform app_private.raise_error('freight_not_found', format('no carrier %s in the tenant', p_carrier_party_id));
  end if;
  perform app_private.freight_cover_internal(p_load_id, p_carrier_party_id, p_rate_cents, coalesce(p_currency, 'USD'),
                                             coalesce(p_source_type, 'manual'), coalesce(p_source_id, gen_random_uuid()));
  return 'covered';
end $$;
comment on function app_private.freight_load_cover(uuid, uuid, bigint, text, uuid, text) is
  'Covers a load with an eligible carrier at a buy rate without a tender (freight.tender.offer).';
grant execute on function app_private.freight_load_cover(uuid, uuid, bigint, text, uuid, text) to authenticated;

-- The tender a responder may act on: freight.tender.respond in its tenant, and a carrier
-- user only for its own company.
create function app_private.freight_tender_for_response(p_tender_id uuid) returns public.tenders
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.tenders', p_tender_id, 'freight.tender.respond');
  t public.tenders;
begin
  select * into t from public.tenders where id = p_tender_id for update;
  perform app_private.freight_require_party(v_tenant, t.carrier_party_id);
  return t;
end $$;
revoke execute on function app_private.freight_tender_for_response(uuid) from public;

-- Accept: the carrier accepts an offer before its deadline, or the broker accepts a
-- counter; the load is covered at that rate.
create function app_private.freight_tender_accept(p_tender_id uuid, p_note text default null) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  t      public.tenders := app_private.freight_tender_for_response(p_tender_id);
  v_rate bigint;
begin
  if t.status = 'countered' then
    -- the counter went back to the broker: a carrier user cannot accept its own counter
    if (app_private.freight_member(t.tenant_id)).principal_id is not null then
      perform app_private.raise_error('illegal_transition', format('tender %s is countered: the broker answers it', t.id),
        jsonb_build_object('machine', 'tender', 'id', t.id, 'from', t.status, 'to', 'accepted'));
    end if;
    v_rate := t.counter_rate_cents;
  else
    v_rate := t.offered_rate_cents;
  end if;
  if t.status in ('offered', 'countered') and now() > t.sla_deadline then
    perform app_private.raise_error('tender_expired', format('tender %s expired at %s', t.id, t.sla_deadline),
      jsonb_build_object('tender_id', t.id, 'sla_deadline', t.sla_deadline));
  end if;
  perform app_private.freight_tender_move(t.id, 'accepted', p_note, jsonb_build_object('rate_cents', v_rate, 'currency', t.currency));
  update public.tenders set accepted_rate_cents = v_rate where id = t.id;
  perform app_private.freight_cover_internal(t.load_id, t.carrier_party_id, v_rate, t.currency, 'tender', t.id);
  return jsonb_build_object('tender_id', t.id, 'load_id', t.load_id, 'status', 'accepted', 'rate_cents', v_rate,
                            'load_status', (select status from public.loads where id = t.load_id));
end $$;
comment on function app_private.freight_tender_accept(uuid, text) is
  'Accepts a tender (freight.tender.respond; carriers their own offers, the broker a counter): the load is covered.';
grant execute on function app_private.freight_tender_accept(uuid, text) to authenticated;

-- After a tender ends without cover: a tendered load with no live tender is open again.
create function app_private.freight_reopen_if_untendered(p_load_id uuid, p_reason text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  if (select status from public.loads where id = p_load_id) = 'tendered'
     and not exists (select 1 from public.tenders where load_id = p_load_id and status in ('offered', 'countered')) then
    perform app_private.freight_load_move(p_load_id, 'open', p_reason);
  end if;
end $$;
revoke execute on function app_private.freight_reopen_if_untendered(uuid, text) from public;

create function app_private.freight_tender_decline(p_tender_id uuid, p_reason text default null) returns text
language plpgsql security definer set search_path = '' as $$
declare
  t public.tenders := app_private.freight_tender_for_response(p_tender_id);
begin
  perform app_private.freight_tender_move(t.id, 'declined', p_reason);
  perform app_private.freight_reopen_if_untendered(t.load_id, 'tender ' || t.id || ' declined');
  return 'declined';
end $$;
comment on function app_private.freight_tender_decline(uuid, text) is
  'Declines a tender (freight.tender.respond); a tendered load without live tenders reopens.';
grant execute on function app_private.freight_tender_decline(uuid, text) to authenticated;

-- Counter: the carrier answers an offer with another rate (> 0 cents); back to the broker.
create function app_private.freight_tender_counter(p_tender_id uuid, p_counter_cents bigint, p_note text default null)
returns text
language plpgsql security definer set search_path = '' as $$
declare
  t public.tenders := app_private.freight_tender_for_response(p_tender_id);
begin
  if p_counter_cents is null or p_counter_cents <= 0 then
    perform app_private.raise_error('bad_amount', format('a counter is a positive integer of cents, not %s', coalesce(p_counter_cents::text, 'null')));
  end if;
  if now() > t.sla_deadline then
    perform app_private.raise_error('tender_expired', format('tender %s expired at %s', t.id, t.sla_deadline),
      jsonb_build_object('tender_id', t.id, 'sla_deadline', t.sla_deadline));
  end if;
  update public.tenders set counter_rate_cents = p_counter_cents where id = t.id;
  perform app_private.freight_tender_move(t.id, 'countered', p_note,
    jsonb_build_object('counter_rate_cents', p_counter_cents, 'offered_rate_cents', t.offered_rate_cents, 'currency', t.currency));
  return 'countered';
end $$;
comment on function app_private.freight_tender_counter(uuid, bigint, text) is
  'Counters a tender with another rate (freight.tender.respond; > 0 cents, bad_amount otherwise).';
grant execute on function app_private.freight_tender_counter(uuid, bigint, text) to authenticated;

-- Cancel (the broker withdraws it; an accepted tender only while the load is covered, which
-- then reopens) and expire (past its deadline: the agents' SLA sweep): freight.tender.offer.
create function app_private.freight_tender_cancel(p_tender_id uuid, p_reason text default null) returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.tenders', p_tender_id, 'freight.tender.offer');
  t public.tenders;
begin
  select * into t from public.tenders where id = p_tender_id for update;
  if t.status = 'accepted' then
    -- the carrier fell off: the load is open again, without it
    perform app_private.freight_load_move(t.load_id, 'open', coalesce(p_reason, 'tender ' || t.id || ' cancelled'));
    update public.loads set carrier_party_id = null, updated_at = now() where id = t.load_id;
    delete from public.charge_lines where load_id = t.load_id and side = 'buy' and source_type = 'tender' and source_id = t.id;
  end if;
  perform app_private.freight_tender_move(t.id, 'cancelled', p_reason);
  perform app_private.freight_reopen_if_untendered(t.load_id, 'tender ' || t.id || ' cancelled');
  return 'cancelled';
end $$;
comment on function app_private.freight_tender_cancel(uuid, text) is
  'Withdraws a tender (freight.tender.offer); an accepted one reopens its covered load.';
grant execute on function app_private.freight_tender_cancel(uuid, text) to authenticated;

create function app_private.freight_tender_expire(p_tender_id uuid) returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.tenders', p_tender_id, 'freight.tender.offer');
  t public.tenders;
begin
  select * into t from public.tenders where id = p_tender_id for update;
  if t.status in ('offered', 'countered') and now() <= t.sla_deadline then
    perform app_private.raise_error('bad_request', format('tender %s is due at %s, not yet expired', t.id, t.sla_deadline));
  end if;
  perform app_private.freight_tender_move(t.id, 'expired', 'SLA deadline ' || t.sla_deadline);
  perform app_private.freight_reopen_if_untendered(t.load_id, 'tender ' || t.id || ' expired');
  return 'expired';
end $$;
comment on function app_private.freight_tender_expire(uuid) is
  'Expires a tender past its SLA deadline (freight.tender.offer: the agents'' sweep); the load reopens when none is left.';
grant execute on function app_private.freight_tender_expire(uuid) to authenticated;

-- Dispatch: the covering carrier (or the broker for it) assigns a driver, a tractor and
-- optionally a trailer: each must be the carrier's own (foreign_asset), active
-- (asset_blocked), the driver's CDL and medical card valid on the pickup day
-- (driver_documents_expired), and the carrier still eligible. covered -> dispatched.
create function app_private.freight_load_dispatch(p_load_id uuid, p_driver_id uuid, p_tractor_id uuid,
                                                  p_trailer_id uuid default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'freight.dispatch');
  l   public.loads;
  d   public.drivers;
  u   public.equipment;
  v_on date;
  v_unit uuid;
  v_kind text;
begin
  select * into l from public.loads where id = p_load_id for update;
  perform app_private.freight_require_party(v_tenant, l.carrier_party_id);
  perform app_private.freight_transition_check('load', l.id, l.status, 'dispatched');
  v_on := greatest(app_private.freight_pickup_date(l.id), current_date);
  select * into d from public.drivers where id = p_driver_id and tenant_id = v_tenant;
  if d.id is null then
    perform app_private.raise_error('freight_not_found', format('no driver %s', p_driver_id));
  end if;
  if d.carrier_party_id <> l.carrier_party_id then
    perform app_private.raise_error('foreign_asset', format('driver %s drives for another carrier', d.id),
      jsonb_build_object('asset', 'driver', 'id', d.id));
  end if;
  if d.status <> 'active' then
    perform app_private.raise_error('asset_blocked', format('driver %s is %s', d.id, d.status),
      jsonb_build_object('asset', 'driver', 'id', d.id, 'status', d.status));
  end if;
  if d.cdl_expires_on is null or d.cdl_expires_on < v_on
     or d.medical_card_expires_on is null or d.medical_card_expires_on < v_on then
    perform app_private.raise_error('driver_documents_expired',
      format('driver %s: CDL valid to %s, medical card to %s; the load picks up %s', d.id,
             coalesce(d.cdl_expires_on::text, 'unknown'), coalesce(d.medical_card_expires_on::text, 'unknown'), v_on),
      jsonb_build_object('driver_id', d.id, 'cdl_expires_on', d.cdl_expires_on, 'medical_card_expires_on', d.medical_card_expires_on));
  end if;
  foreach v_unit in array array[p_tractor_id, p_trailer_id] loop
    continue when v_unit is null;
    select * into u from public.equipment where id = v_unit and tenant_id = v_tenant;
    if u.id is null then
      perform app_private.raise_error('freight_not_found', format('no unit %s', v_unit));
    end if;
    if u.carrier_party_id <> l.carrier_party_id then
      perform app_private.raise_error('foreign_asset', format('unit %s belongs to another carrier', u.id),
        jsonb_build_object('asset', u.kind, 'id', u.id));
    end if;
    v_kind := case when v_unit = p_tractor_id then 'tractor' else 'trailer' end;
    if u.kind <> v_kind then
      perform app_private.raise_error('bad_request', format('unit %s is a %s', u.id, u.kind));
    end if;
    if u.status <> 'active' then
      perform app_private.raise_error('asset_blocked', format('unit %s is %s', u.id, u.status),
        jsonb_build_object('asset', u.kind, 'id', u.id, 'status', u.status));
    end if;
  end loop;
  if p_tractor_id is null then
    perform app_private.raise_error('bad_request', 'dispatch needs a tractor');
  end if;
  perform app_private.freight_require_eligible(l.carrier_party_id, v_on);
  update public.loads set driver_id = p_driver_id, tractor_id = p_tractor_id, trailer_id = p_trailer_id, updated_at = now()
   where id = l.id;
  perform app_private.freight_load_move(l.id, 'dispatched', null, null,
    jsonb_build_object('driver_id', p_driver_id, 'tractor_id', p_tractor_id, 'trailer_id', p_trailer_id));
  return jsonb_build_object('load_id', l.id, 'status', 'dispatched', 'driver_id', p_driver_id,
                            'tractor_id', p_tractor_id, 'trailer_id', p_trailer_id);
end $$;
comment on function app_private.freight_load_dispatch(uuid, uuid, uuid, uuid) is
  'Dispatches a covered load: the carrier''s own active driver (documents valid) and units (freight.dispatch).';
grant execute on function app_private.freight_load_dispatch(uuid, uuid, uuid, uuid) to authenticated;

-- Raise (p_on) or clear the exception flag beside the status; evented and audited.
create function app_private.freight_exception_set(p_load_id uuid, p_on boolean, p_reason text) returns void
language plpgsql security definer set search_path = '' as $$
declare
  l public.loads;
begin
  select * into l from public.loads where id = p_load_id for update;
  if l.exception = p_on then
    return;
  end if;
  update public.loads set exception = p_on, exception_reason = case when p_on then coalesce(p_reason, 'exception') end,
                          updated_at = now()
   where id = l.id;
  perform app_private.freight_publish(l.tenant_id, 'load', l.id, case when p_on then 'exception_raised' else 'exception_cleared' end,
    jsonb_build_object('status', l.status, 'reason', p_reason));
  perform app_private.audit_write(l.tenant_id, 'freight.load.exception', 'load', l.id::text,
    jsonb_build_object('exception', l.exception), jsonb_build_object('exception', p_on), p_reason);
end $$;
revoke execute on function app_private.freight_exception_set(uuid, boolean, text) from public;

create function app_private.freight_load_exception(p_load_id uuid, p_on boolean, p_reason text default null) returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'freight.event.record');
  l public.loads;
begin
  select * into l from public.loads where id = p_load_id;
  perform app_private.freight_require_party(v_tenant, l.carrier_party_id, l.driver_id);
  if p_on and (p_reason is null or length(btrim(p_reason)) = 0) then
    perform app_private.raise_error('bad_request', 'an exception needs a reason');
  end if;
  perform app_private.freight_exception_set(p_load_id, coalesce(p_on, false), p_reason);
  return coalesce(p_on, false);
end $$;
comment on function app_private.freight_load_exception(uuid, boolean, text) is
  'Raises or clears a load''s exception flag (freight.event.record); the status is untouched.';
grant execute on function app_private.freight_load_exception(uuid, boolean, text) to authenticated;

-- Record a tracking event (freight.event.record: the load's carrier, its driver, the
-- broker, agents, EDI). p_event: {"source_event_id", "status_code" (214), "stop_id" |
-- "stop_sequence", "occurred_at"?, "source"?, "city"?, "region"?, "note"?}.
-- Idempotent: the same source_event_id with the same content answers the first recording
-- (replayed: true); with other content it is duplicate_source_event. The event stamps its
-- stop's actual arrival / departure and drives the load along its trip (dispatched ->
-- at_pickup -> picked_up -> in_transit -> at_delivery -> delivered, through each step
-- it skipped); a late event (a later stop already has actuals, or the load is past it) is
-- recorded and moves nothing. SD / AP raise the exception flag.
create function app_private.freight_load_event_record(p_load_id uuid, p_event jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'freight.event.record');
  l        public.loads;
  c        public.x12_214_status_codes;
  st       public.stops;
  v_key    text := nullif(btrim(p_event ->> 'source_event_id'), '');
  v_at     timestamptz := coalesce((p_event ->> 'occurred_at')::timestamptz, now());
  v_prev   public.load_events;
  v_id     uuid;
  v_final  boolean;
  v_target text;
  v_cur    int;
  v_goal   int;
  v_step   text;
  v_moves  text[] := '{}';
begin
  select * into l from public.loads where id = p_load_id for update;
  perform app_private.freight_require_party(v_tenant, l.carrier_party_id, l.driver_id);
  if v_key is null or length(v_key) > 200 then
    perform app_private.raise_error('bad_request', 'source_event_id (1..200 characters) is required: it is the idempotency key');
  end if;
  select * into c from public.x12_214_status_codes where code = p_event ->> 'status_code';
  if c.code is null then
    perform app_private.raise_error('bad_request', format('"%s" is not a 214 status code this timeline speaks (%s)',
      coalesce(p_event ->> 'status_code', ''), (select string_agg(code, ', ' order by code) from public.x12_214_status_codes)));
  end if;
  if p_event ? 'stop_id' then
    select * into st from public.stops where id = (p_event ->> 'stop_id')::uuid and load_id = l.id;
  elsif p_event ? 'stop_sequence' then
    select * into st from public.stops where sequence = (p_event ->> 'stop_sequence')::int and load_id = l.id;
  end if;
  if (p_event ? 'stop_id' or p_event ? 'stop_sequence') and st.id is null then
    perform app_private.raise_error('freight_not_found', format('load %s has no such stop', l.id));
  end if;

  -- idempotency: the first recording answers a replay
  select * into v_prev from public.load_events e where e.tenant_id = v_tenant and e.source_event_id = v_key;
  if v_prev.id is not null then
    -- (a replay without occurred_at is the same event: the first recording's time stands)
    if v_prev.load_id = l.id and v_prev.status_code is not distinct from c.code
       and v_prev.stop_id is not distinct from st.id and (not (p_event ? 'occurred_at') or v_prev.occurred_at = v_at) then
      return jsonb_build_object('event_id', v_prev.id, 'replayed', true, 'status', l.status, 'exception', l.exception);
    end if;
    perform app_private.raise_error('duplicate_source_event',
      format('source_event_id %s was recorded already (event %s) with other content', v_key, v_prev.id),
      jsonb_build_object('source_event_id', v_key, 'event_id', v_prev.id));
  end if;

  if c.stop_kind is not null and (st.id is null or st.kind <> c.stop_kind) then
    perform app_private.raise_error('bad_request', format('%s is reported at a %s stop', c.code, c.stop_kind));
  end if;
  insert into public.load_events (tenant_id, load_id, stop_id, source_event_id, kind, status_code, occurred_at, source,
                                  source_portal, city, region, note, principal_id, trace_id, shipper_party_id)
  values (v_tenant, l.id, st.id, v_key, case when c.exception then 'exception' else 'tracking' end, c.code, v_at,
          coalesce(p_event ->> 'source', 'portal'), app_private.freight_source_portal(), p_event ->> 'city',
          p_event ->> 'region', p_event ->> 'note', app_private.principal_id(), (app_private.request_context()).trace_id,
          l.shipper_party_id)
  returning id into v_id;
  if c.stamps = 'arrival' then
    update public.stops set actual_arrival_at = coalesce(actual_arrival_at, v_at) where id = st.id;
  elsif c.stamps = 'departure' then
    update public.stops set actual_arrival_at = coalesce(actual_arrival_at, v_at),
                            actual_departure_at = coalesce(actual_departure_at, greatest(v_at, coalesce(actual_arrival_at, v_at)))
     where id = st.id;
  end if;
  perform app_private.freight_publish(v_tenant, 'load', l.id, 'event_recorded',
    jsonb_build_object('event_id', v_id, 'status_code', c.code, 'stop_id', st.id, 'stop_sequence', st.sequence,
                       'occurred_at', v_at));
  if c.exception then
    perform app_private.freight_exception_set(l.id, true, c.code || ': ' || c.description);
  end if;

  -- where the event takes the load (nowhere when it is late)
  v_final := st.id is not null
             and not exists (select 1 from public.stops s2 where s2.load_id = l.id and s2.sequence > st.sequence);
  v_target := case when v_final then c.final_load_state else c.load_state end;
  if v_target is not null and st.id is not null
     and exists (select 1 from public.stops s2 where s2.load_id = l.id and s2.sequence > st.sequence
                   and (s2.actual_arrival_at is not null or s2.actual_departure_at is not null)) then
    v_target := null;
  end if;
  if v_target is not null and v_target <> l.status then
    select position into v_cur from public.freight_states where machine = 'load' and state = l.status;
    select position into v_goal from public.freight_states where machine = 'load' and state = v_target;
    if exists (select 1 from public.freight_transitions t where t.machine = 'load' and t.from_state = l.status and t.to_state = v_target) then
      perform app_private.freight_load_move(l.id, v_target, c.code, v_key || '#' || v_target, null, v_id, v_at);
      v_moves := v_moves || v_target;
    elsif v_cur between 5 and 9 and v_goal > v_cur then
      -- the trip, step by step through what was not reported (e.g. AF before X3 after an offline replay)
      for v_step in select s.state from public.freight_states s
                    where s.machine = 'load' and s.position > v_cur and s.position <= v_goal order by s.position loop
        perform app_private.freight_load_move(l.id, v_step, c.code, v_key || '#' || v_step, null, v_id, v_at);
        v_moves := v_moves || v_step;
      end loop;
    elsif not (v_cur between 5 and 11) then
      -- before dispatch (or after a cancel / TONU) a stop event moves nothing it may: refused;
      -- on a completed load (its POD in) it is late: recorded, it moves nothing (a phone's
      -- 'departed' synced after the POD completed the load)
      perform app_private.freight_transition_check('load', l.id, l.status, v_target);
    end if;
  end if;
  return jsonb_build_object('event_id', v_id, 'replayed', false, 'transitions', to_jsonb(v_moves),
                            'status', (select status from public.loads where id = l.id),
                            'exception', (select exception from public.loads where id = l.id));
end $$;
comment on function app_private.freight_load_event_record(uuid, jsonb) is
  'Records a 214 tracking event (freight.event.record), idempotent by source_event_id; stamps stop actuals and drives the load.';
grant execute on function app_private.freight_load_event_record(uuid, jsonb) to authenticated;

-- Record a document whose bytes were stored (and hash-verified) through
-- packages/shared/storage. p_doc: {"load_id" | "party_id", "kind", "file_name",
-- "content_type"?, "size_bytes", "sha256", "storage_key", "retain_until"?}. Staff record any
-- kind; outside users only for their own loads: carriers and drivers a BOL or POD,
-- shippers a BOL; and a carrier user its own party's insurance certificate or W-9. Who
-- may read it follows from its kind (public.documents).
create function app_private.freight_document_record(p_doc jsonb) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_load   uuid := nullif(p_doc ->> 'load_id', '')::uuid;
  v_party  uuid := nullif(p_doc ->> 'party_id', '')::uuid;
  v_tenant uuid;
  v_kind   text := p_doc ->> 'kind';
  m        public.party_members;
  l        public.loads;
  v_id     uuid;
begin
  if v_load is not null then
    v_tenant := app_private.freight_tenant_of('public.loads', v_load, 'freight.document.upload');
    select * into l from public.loads where id = v_load;
  else
    v_tenant := app_private.freight_tenant_of('public.parties', v_party, 'freight.document.upload');
  end if;
  m := app_private.freight_member(v_tenant);
  if m.principal_id is not null then
    -- (coalesce: a load without a carrier yet makes the carrier test null, not false)
    if not coalesce(case when v_load is null
                         -- a carrier user's own compliance papers (the Carrier portal's insurance certificates)
                         then v_party = m.party_id and m.driver_id is null and v_kind in ('insurance_certificate', 'w9')
                              and (select p.kind from public.parties p where p.id = v_party) = 'carrier'
                         else (m.party_id = l.carrier_party_id and (m.driver_id is null or m.driver_id = l.driver_id) and v_kind in ('bol', 'pod'))
                              or (m.party_id = l.shipper_party_id and v_kind = 'bol') end, false) then
      perform app_private.raise_error('forbidden',
        format('principal %s may record a BOL or POD of its own loads (a carrier its own insurance certificate or W-9) only', m.principal_id),
        jsonb_build_object('party_id', m.party_id));
    end if;
  end if;
  insert into public.documents (tenant_id, load_id, party_id, kind, file_name, content_type, size_bytes, sha256, storage_key,
                                retain_until, uploaded_by)
  values (v_tenant, v_load, v_party, v_kind, p_doc ->> 'file_name', coalesce(p_doc ->> 'content_type', 'application/pdf'),
          (p_doc ->> 'size_bytes')::bigint, lower(p_doc ->> 'sha256'), p_doc ->> 'storage_key',
          (p_doc ->> 'retain_until')::date, app_private.principal_id())
  returning id into v_id;
  perform app_private.freight_publish(v_tenant, 'document', v_id, 'recorded',
    jsonb_build_object('load_id', v_load, 'party_id', v_party, 'kind', v_kind, 'size_bytes', (p_doc ->> 'size_bytes')::bigint,
                       'sha256', lower(p_doc ->> 'sha256')));
  perform app_private.audit_write(v_tenant, 'freight.document.record', 'document', v_id::text, null,
    jsonb_build_object('load_id', v_load, 'kind', v_kind, 'sha256', lower(p_doc ->> 'sha256')));
  return v_id;
end $$;
comment on function app_private.freight_document_record(jsonb) is
  'Records a stored document''s metadata (freight.document.upload; outside users: BOL / POD of their own loads).';
grant execute on function app_private.freight_document_record(jsonb) to authenticated;
