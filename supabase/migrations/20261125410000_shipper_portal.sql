-- Shipper portal: a customer quotes itself (rates/price_one: the quote is made for the
-- caller's own party), books an order from a quote (the core's freight_order_book, at the
-- quote's sell price: a shipper never types its own price), and reads its loads' tracking
-- timeline, documents, invoices and messages through party RLS (the core's policies:
-- orders, loads, stops, load_events, documents by shipper_party_id; the broker's on
-- load_messages). A shipper never sees a buy rate: tenders, bids and buy charge lines
-- have no shipper policy, and quotes answer shippers without their cost side.
--
-- Sections: permissions and grants; functions.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('quote_not_bookable', 'SY410', 422, 'Quote cannot be booked', 'The quote waits for approval or was rejected, was booked already, or prices another pickup day or equipment (DETAIL says which).')
on conflict (code) do nothing;

-- shipper users quote themselves (rates/price_one; the evidence is read by a definer function)
insert into public.role_permissions (role, permission) values ('shipper_user', 'rates.quote')
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Book an order from a quote (freight.order.book). p_order: {"shipper_party_id"? (staff;
-- a shipper user books for its own party), "customer_reference"?, "weight_lbs"?,
-- "commodity"?, "stops": [{"kind", "facility_id", "window_start_local", "window_end_local",
-- "reference"?}]}. The quote must be the customer's (or made for no customer, by staff),
-- priced or approved, not booked before, and price this pickup day (the first stop's,
-- in its facility's time); the sell lines are the quote's linehaul and fuel in cents, the
-- equipment the quote's. Then freight_order_book: order + load + stops + sell lines in
-- this transaction (credit_hold over the customer's limit).
create function app_private.shipper_order_book(p_quote_id uuid, p_order jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.freight_tenant_of('public.rates_quotes', p_quote_id, 'freight.order.book');
  m         public.party_members := app_private.freight_member(v_tenant);
  q         public.rates_quotes;
  v_shipper uuid;
  v_first   jsonb := p_order #> '{stops,0}';
  v_day     date;
  v_order   uuid;
begin
  select * into q from public.rates_quotes where id = p_quote_id for update;
  v_shipper := coalesce(m.party_id, nullif(p_order ->> 'shipper_party_id', '')::uuid, q.party_id);
  if m.principal_id is not null and (q.party_id is distinct from m.party_id
                                     or coalesce(nullif(p_order ->> 'shipper_party_id', '')::uuid, m.party_id) <> m.party_id) then
    perform app_private.raise_error('forbidden', format('quote %s was not made for party %s', q.id, m.party_id),
      jsonb_build_object('party_id', m.party_id));
  end if;
  if q.status not in ('priced', 'approved') then
    perform app_private.raise_error('quote_not_bookable', format('quote %s is %s', q.id, q.status),
      jsonb_build_object('quote_id', q.id, 'status', q.status));
  end if;
  select o.id into v_order from public.orders o where o.tenant_id = v_tenant and o.quote_id = q.id limit 1;
  if v_order is not null then
    perform app_private.raise_error('quote_not_bookable', format('quote %s was booked already (order %s)', q.id, v_order),
      jsonb_build_object('quote_id', q.id, 'order_id', v_order));
  end if;
  select ((v_first ->> 'window_start_local')::timestamp)::date into v_day;
  if v_first ->> 'kind' = 'pickup' and v_day is distinct from (q.request ->> 'pickup_date')::date then
    perform app_private.raise_error('quote_not_bookable',
      format('quote %s prices a pickup on %s, the first stop is on %s', q.id, q.request ->> 'pickup_date', v_day),
      jsonb_build_object('quote_id', q.id, 'pickup_date', q.request ->> 'pickup_date'));
  end if;
  return app_private.freight_order_book(jsonb_strip_nulls(jsonb_build_object(
    'shipper_party_id', v_shipper, 'quote_id', q.id, 'currency', coalesce(q.quote ->> 'currency', 'USD'),
    'equipment_type', q.request ->> 'equipment', 'customer_reference', p_order ->> 'customer_reference',
    'weight_lbs', p_order -> 'weight_lbs', 'commodity', p_order ->> 'commodity', 'stops', p_order -> 'stops',
    'sell', jsonb_build_object('linehaul_cents', round((q.quote #>> '{linehaul,total}')::numeric * 100)::bigint,
                               'fuel_cents', round((q.quote #>> '{fuel,total}')::numeric * 100)::bigint))));
end $$;
comment on function app_private.shipper_order_book(uuid, jsonb) is
  'Books an order from a priced quote at its sell price (freight.order.book; shipper users their own quotes only).';
grant execute on function app_private.shipper_order_book(uuid, jsonb) to authenticated;
