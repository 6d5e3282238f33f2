-- Order to dispatch as the real users (the demo tenant's seeded parties and people:
-- supabase/seeds/20_freight.sql): a shipper user books, a broker dispatcher tenders, the
-- carrier's user accepts and dispatches; every step is one call whose outbox events and
-- audit rows share the request's trace. Then each refusal on the way, with its code, and
-- nothing half-written.
begin;
alter default privileges grant execute on functions to public;
select plan(68);

-- Demo ids (seeds): shippers Acme / Bluebird, carriers Prairie / Eastline / Lone Star,
-- drivers Pat (Prairie) / Sam (Prairie, medical card expired) / Eve (Eastline), units.
create temp table ids (name text primary key, id uuid);
insert into ids values
  ('acme', 'c1000000-0000-4000-8000-000000000002'), ('bluebird', 'c1000000-0000-4000-8000-000000000003'),
  ('prairie', 'c1000000-0000-4000-8000-000000000011'), ('eastline', 'c1000000-0000-4000-8000-000000000012'),
  ('lonestar', 'c1000000-0000-4000-8000-000000000013'),
  ('pat', 'c2000000-0000-4000-8000-000000000011'), ('sam', 'c2000000-0000-4000-8000-000000000012'),
  ('eve', 'c2000000-0000-4000-8000-000000000021'),
  ('p_tractor', 'c3000000-0000-4000-8000-000000000011'), ('p_trailer', 'c3000000-0000-4000-8000-000000000012'),
  ('e_tractor', 'c3000000-0000-4000-8000-000000000021'),
  ('chicago', 'c4000000-0000-4000-8000-000000000001'), ('dallas', 'c4000000-0000-4000-8000-000000000002');
grant select on ids to public;
create function pg_temp.id(p text) returns uuid language sql as $$ select id from ids where name = p $$;

-- An order of Acme's from Chicago to Dallas; windows in facility time, days from today.
create function pg_temp.order_json(p_shipper text, p_linehaul jsonb, p_stops jsonb default null) returns jsonb language sql as $$
  select jsonb_build_object('shipper_party_id', pg_temp.id(p_shipper), 'equipment_type', 'van',
    'sell', jsonb_build_object('linehaul_cents', p_linehaul, 'fuel_cents', 15000),
    'stops', coalesce(p_stops, jsonb_build_array(
      jsonb_build_object('kind', 'pickup', 'facility_id', pg_temp.id('chicago'),
        'window_start_local', (current_date + 10) || ' 08:00', 'window_end_local', (current_date + 10) || ' 10:00'),
      jsonb_build_object('kind', 'delivery', 'facility_id', pg_temp.id('dallas'),
        'window_start_local', (current_date + 11) || ' 13:00', 'window_end_local', (current_date + 11) || ' 15:00'))))
$$;
-- Acts as a principal with a trace of its own (what the edge sets per request).
create function pg_temp.as_user(p_name text, p_trace text) returns void language sql as $$
  select tests.act_as(p_name, 'd0000000-0000-4000-8000-000000000001', '{"portal": "shipper"}'::jsonb
                      || jsonb_build_object('portal', case when p_name like '%acme%' then 'shipper'
                                                           when p_name like '%haulers%' or p_name like '%eastline%' then 'carrier'
                                                           else 'broker' end));
  select set_config('request.headers', jsonb_build_object('traceparent', '00-' || p_trace || '-00f067aa0ba902b7-01')::text, true);
$$;
create temp table golden (step text primary key, trace text, result jsonb);
grant all on golden to public;

-------------------------------------------------------------------------------------------
-- The golden path
-------------------------------------------------------------------------------------------
select pg_temp.as_user('shipper@acme-foods.test', '11111111111111111111111111111111');
insert into golden select 'book', '11111111111111111111111111111111', app_private.freight_order_book(pg_temp.order_json('acme', '250000'));
select is((select result ->> 'status' from golden where step = 'book'), 'open', 'the shipper user books: order + load + stops, the load open');
select is((select result ->> 'sell_total_cents' from golden where step = 'book'), '265000', 'linehaul + fuel, in cents');

select pg_temp.as_user('dispatch@demo-freight.test', '22222222222222222222222222222222');
insert into golden select 'offer', '22222222222222222222222222222222',
  to_jsonb(app_private.freight_tender_offer((select (result ->> 'load_id')::uuid from golden where step = 'book'), pg_temp.id('prairie'), 200000));
select is((select status from public.loads where id = (select (result ->> 'load_id')::uuid from golden where step = 'book')), 'tendered',
          'the broker tenders it to Prairie Haulers: tendered');

select pg_temp.as_user('dispatch@prairie-haulers.test', '33333333333333333333333333333333');
insert into golden select 'accept', '33333333333333333333333333333333',
  app_private.freight_tender_accept((select (result #>> '{}')::uuid from golden where step = 'offer'));
select is((select result ->> 'load_status' from golden where step = 'accept'), 'covered', 'the carrier''s user accepts: covered');

select pg_temp.as_user('dispatch@prairie-haulers.test', '44444444444444444444444444444444');
insert into golden select 'dispatch', '44444444444444444444444444444444',
  app_private.freight_load_dispatch((select (result ->> 'load_id')::uuid from golden where step = 'book'),
                                    pg_temp.id('pat'), pg_temp.id('p_tractor'), pg_temp.id('p_trailer'));
select is((select result ->> 'status' from golden where step = 'dispatch'), 'dispatched', 'and dispatches Pat with P-101 and P-201: dispatched');
select tests.act_as_owner();

create temp table gl as select (result ->> 'load_id')::uuid as load_id, (result ->> 'order_id')::uuid as order_id from golden where step = 'book';
grant select on gl to public;
select results_eq(
  $$select g.step, o.event_type, o.payload ->> 'source_portal' from golden g
    join public.outbox_events o on o.trace_id = g.trace
    order by o.seq$$,
  $$values ('book', 'freight.order.booked', 'shipper'), ('book', 'freight.load.opened', 'shipper'),
           ('offer', 'freight.tender.offered', 'broker'), ('offer', 'freight.load.tendered', 'broker'),
           ('accept', 'freight.tender.accepted', 'carrier'), ('accept', 'freight.load.covered', 'carrier'),
           ('dispatch', 'freight.load.dispatched', 'carrier')$$,
  'each step''s outbox events carry its trace and the door (source_portal)');
select results_eq(
  $$select g.step, a.action, a.principal_name from golden g join public.audit_log a on a.trace_id = g.trace
    where a.action like 'freight.%' order by a.chain_seq$$,
  $$values ('book', 'freight.order.book', 'shipper@acme-foods.test'), ('book', 'freight.load.transition', 'shipper@acme-foods.test'),
           ('offer', 'freight.tender.offer', 'dispatch@demo-freight.test'), ('offer', 'freight.load.transition', 'dispatch@demo-freight.test'),
           ('accept', 'freight.tender.transition', 'dispatch@prairie-haulers.test'),
           ('accept', 'freight.load.transition', 'dispatch@prairie-haulers.test'),
           ('dispatch', 'freight.load.transition', 'dispatch@prairie-haulers.test')$$,
  'and its audit rows, by the user who acted');
select ok(not exists (select 1 from golden g join public.outbox_events o on o.trace_id = g.trace
                      where o.payload::text ~* '(acme|prairie|pat |@|555)'),
          'event payloads carry ids, states and cents: no names, emails or phones');
select results_eq($$select side, party_id, amount_cents from public.charge_lines where load_id = (select load_id from gl) order by side, amount_cents desc$$,
  $$values ('buy', 'c1000000-0000-4000-8000-000000000011'::uuid, 200000::bigint),
           ('sell', 'c1000000-0000-4000-8000-000000000002'::uuid, 250000::bigint),
           ('sell', 'c1000000-0000-4000-8000-000000000002'::uuid, 15000::bigint)$$,
  'the sell lines bill Acme, the buy line (the accepted tender''s rate) pays Prairie');
select results_eq($$select from_status, to_status from public.load_events where load_id = (select load_id from gl) and kind = 'status' order by recorded_at, occurred_at, from_status = 'draft' desc$$,
  $$values ('draft', 'open'), ('open', 'tendered'), ('tendered', 'covered'), ('covered', 'dispatched')$$,
  'every status change is on the timeline');

-------------------------------------------------------------------------------------------
-- Party isolation (SQL): buy vs sell, one carrier vs another
-------------------------------------------------------------------------------------------
select pg_temp.as_user('dispatch@eastline-freight.test', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
select is((select count(*)::int from public.tenders where carrier_party_id = pg_temp.id('prairie')), 0,
          'Eastline''s user reads none of Prairie''s tenders (or their rates)');
select is((select count(*)::int from public.loads where id = (select load_id from gl)), 0, 'nor Prairie''s load');
select is((select count(*)::int from public.charge_lines where side = 'sell'), 0, 'a carrier never reads a sell line');
select ok((select count(*) from public.loads) > 0 and not exists (select 1 from public.loads where carrier_party_id <> pg_temp.id('eastline')),
          'it reads its own loads only');
select pg_temp.as_user('dispatch@prairie-haulers.test', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
select results_eq($$select offered_rate_cents, status from public.tenders where load_id = (select load_id from gl)$$,
  $$values (200000::bigint, 'accepted')$$, 'Prairie''s user reads its own tender and rate');
select is((select count(*)::int from public.orders), 0, 'carriers read no orders');
select pg_temp.as_user('shipper@acme-foods.test', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
select is((select count(*)::int from public.tenders), 0, 'a shipper reads no tender');
select is((select count(*)::int from public.charge_lines where side = 'buy'), 0, 'and never a buy line');
select is((select count(*)::int from public.stops where load_id = (select load_id from gl)), 2, 'it reads its load''s stops');
select ok(not exists (select 1 from public.orders where shipper_party_id <> pg_temp.id('acme')) and exists (select 1 from public.orders),
          'and only its own orders');
select pg_temp.as_user('driver@prairie-haulers.test', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
select is((select count(*)::int from public.stops where load_id = (select load_id from gl)), 2, 'the driver reads the stops of its load');
select is((select count(*)::int from public.charge_lines) + (select count(*)::int from public.tenders), 0,
          'and nothing financial');
select tests.act_as_owner();

-------------------------------------------------------------------------------------------
-- Booking refusals
-------------------------------------------------------------------------------------------
select pg_temp.as_user('shipper@acme-foods.test', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('bluebird', '1000'))$$, 'SY021', null,
  'a shipper user books for its own party only');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('bluebird', '1000'))$$, 'SY102', null,
  'Bluebird''s loads in flight already exceed its $2,000 limit: credit_hold');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '1.5'))$$, 'SY114', null, 'a float amount is bad_amount');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '-100'))$$, 'SY114', null, 'so is a negative one');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '"100"'))$$, 'SY114', null, 'and a string');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '100', jsonb_build_array(
    jsonb_build_object('kind', 'pickup', 'facility_id', pg_temp.id('chicago'), 'window_start', '2027-01-04 14:00Z', 'window_end', '2027-01-04 18:00Z'),
    jsonb_build_object('kind', 'delivery', 'facility_id', pg_temp.id('dallas'), 'window_start', '2027-01-04 17:00Z', 'window_end', '2027-01-04 19:00Z'))))$$,
  'SY103', null, 'overlapping windows: stop_window_overlap');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '100', jsonb_build_array(
    jsonb_build_object('kind', 'pickup', 'facility_id', pg_temp.id('chicago'), 'window_start', '2027-01-05 14:00Z', 'window_end', '2027-01-05 16:00Z'),
    jsonb_build_object('kind', 'delivery', 'facility_id', pg_temp.id('dallas'), 'window_start', '2027-01-04 17:00Z', 'window_end', '2027-01-04 19:00Z'))))$$,
  'SY104', null, 'a delivery window before its pickup: stops_out_of_sequence');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '100', jsonb_build_array(
    jsonb_build_object('kind', 'delivery', 'facility_id', pg_temp.id('chicago'), 'window_start', '2027-01-04 14:00Z', 'window_end', '2027-01-04 16:00Z'),
    jsonb_build_object('kind', 'pickup', 'facility_id', pg_temp.id('dallas'), 'window_start', '2027-01-05 17:00Z', 'window_end', '2027-01-05 19:00Z'))))$$,
  'SY104', null, 'a load that starts with a delivery: stops_out_of_sequence');
select tests.act_as('viewer@demo-freight.test');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '100'))$$, 'SY021', null, 'a viewer may not book');
select tests.act_as('dispatch@demo-freight.test', 'b0000000-0000-4000-8000-00000000000b');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '100'))$$, 'SY120', null,
  'a request narrowed to another tenant finds no such customer');
select tests.act_as_owner();
select is((select count(*)::int from public.orders where reference not like 'DEMO-ORD-%'), 1,
          'nothing half-written: besides the seeded orders only the golden one exists');
select throws_ok($$insert into public.facilities (tenant_id, name, time_zone) values ('d0000000-0000-4000-8000-000000000001', 'Nowhere', 'CST')$$,
  'SY115', null, 'a facility in "CST" is bad_time_zone (IANA names only)');
select lives_ok($$insert into public.facilities (tenant_id, name, time_zone) values ('d0000000-0000-4000-8000-000000000001', 'Honolulu', 'Pacific/Honolulu')$$,
  'Pacific/Honolulu is one');

-------------------------------------------------------------------------------------------
-- Tender refusals
-------------------------------------------------------------------------------------------
-- a second open load to tender
select tests.act_as('dispatch@demo-freight.test');
create temp table l2 as select (app_private.freight_order_book(pg_temp.order_json('acme', '90000')) ->> 'load_id')::uuid as id;
grant select on l2 to public;
select tests.act_as('ops@demo-freight.test');
create temp table blk as select app_private.freight_party_block_set(pg_temp.id('lonestar'), 'sanctions', 'screening hit') as id;
grant select on blk to public;
select is(app_private.freight_party_block_set(pg_temp.id('lonestar'), 'sanctions'), (select id from blk),
          'one active block per reason: setting it again answers the same block');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_tender_offer((select id from l2), pg_temp.id('lonestar'), 150000)$$, 'SY105',
  format('party_blocked: party %s: sanctions', pg_temp.id('lonestar')), 'a sanctioned carrier is not tendered: party_blocked');
select throws_ok($$select app_private.freight_party_block_set(pg_temp.id('lonestar'), 'manual')$$, 'SY021', null,
  'a dispatcher cannot set blocks (freight.block.manage)');
select tests.act_as('ops@demo-freight.test');
select throws_ok($$select app_private.freight_party_block_clear((select id from blk), '')$$, 'SY017', null, 'clearing needs a reason');
select lives_ok($$select app_private.freight_party_block_clear((select id from blk), 'false positive: other entity')$$, 'an ops manager clears it with a reason');
select tests.act_as_owner();
select results_eq($$select reason, clear_reason, cleared_by from public.party_blocks where id = (select id from blk)$$,
  $$values ('sanctions', 'false positive: other entity', 'e0000000-0000-4000-8000-000000000003'::uuid)$$, 'the block keeps who cleared it and why');

-- carriers that fail compliance
insert into public.parties (id, tenant_id, kind, name) values
  ('5b000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'No Authority Inc'),
  ('5b000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'Lapsed Insurance Co'),
  ('5b000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'Out Of Service LLC'),
  ('5b000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'Suspended Ltd');
insert into public.carrier_profiles (tenant_id, party_id, authority_status, allowed_to_operate, out_of_service) values
  ('d0000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000001', 'revoked', false, false),
  ('d0000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000002', 'active', true, false),
  ('d0000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000003', 'active', true, true);
insert into public.carrier_insurance (tenant_id, party_id, kind, amount_cents, effective_on, expires_on) values
  ('d0000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000002', 'auto_liability', 100000000, current_date - 400, current_date - 35),
  ('d0000000-0000-4000-8000-000000000001', '5b000000-0000-4000-8000-000000000002', 'cargo', 10000000, current_date - 400, current_date + 300);
update public.parties set status = 'suspended' where id = '5b000000-0000-4000-8000-000000000004';
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_tender_offer((select id from l2), '5b000000-0000-4000-8000-000000000001', 150000)$$, 'SY106', null,
  'a carrier whose authority is revoked: carrier_no_authority');
select throws_ok($$select app_private.freight_tender_offer((select id from l2), '5b000000-0000-4000-8000-000000000002', 150000)$$, 'SY107', null,
  'a carrier whose auto liability lapsed: carrier_no_insurance');
select throws_ok($$select app_private.freight_tender_offer((select id from l2), '5b000000-0000-4000-8000-000000000003', 150000)$$, 'SY108', null,
  'a carrier under an out-of-service order: carrier_out_of_service');
select throws_ok($$select app_private.freight_tender_offer((select id from l2), '5b000000-0000-4000-8000-000000000004', 150000)$$, 'SY105', null,
  'a suspended carrier: party_blocked');
select throws_ok($$select app_private.freight_tender_offer((select id from l2), pg_temp.id('prairie'), 0)$$, 'SY114', null,
  'an offer of 0 cents: bad_amount');
select is((select status from public.loads where id = (select id from l2)), 'open', 'nothing tendered: the load is still open');

-- counter, decline, expiry
create temp table t2 as select app_private.freight_tender_offer((select id from l2), pg_temp.id('prairie'), 150000) as id;
create temp table t3 as select app_private.freight_tender_offer((select id from l2), pg_temp.id('eastline'), 152000) as id;
grant select on t2, t3 to public;
select pg_temp.as_user('dispatch@eastline-freight.test', 'cccccccccccccccccccccccccccccccc');
select throws_ok($$select app_private.freight_tender_accept((select id from t2))$$, 'SY021', null,
  'Eastline''s user cannot accept Prairie''s tender');
select throws_ok($$select app_private.freight_tender_counter((select id from t3), -1)$$, 'SY114', null, 'a counter below zero: bad_amount');
select is(app_private.freight_tender_counter((select id from t3), 165000, 'fuel is up'), 'countered', 'Eastline counters at $1,650');
select throws_ok($$select app_private.freight_tender_accept((select id from t3))$$, 'SY100', null,
  'a carrier cannot accept its own counter: it went back to the broker');
select pg_temp.as_user('dispatch@prairie-haulers.test', 'cccccccccccccccccccccccccccccccc');
select is(app_private.freight_tender_decline((select id from t2), 'no truck'), 'declined', 'Prairie declines');
select tests.act_as('dispatch@demo-freight.test');
select is((app_private.freight_tender_accept((select id from t3))) ->> 'rate_cents', '165000', 'the broker accepts the counter: covered at its rate');
select results_eq($$select status, carrier_party_id from public.loads where id = (select id from l2)$$,
  $$values ('covered', 'c1000000-0000-4000-8000-000000000012'::uuid)$$, 'the load is Eastline''s');
select tests.act_as_owner();
insert into public.tenders (id, tenant_id, load_id, carrier_party_id, offered_rate_cents, sla_deadline, offered_at)
values ('5b000000-0000-4000-8000-0000000000e1', 'd0000000-0000-4000-8000-000000000001', 'c7000000-0000-4000-8000-000000000002',
        'c1000000-0000-4000-8000-000000000011', 150000, now() - interval '1 minute', now() - interval '1 hour');
select pg_temp.as_user('dispatch@prairie-haulers.test', 'dddddddddddddddddddddddddddddddd');
select throws_ok($$select app_private.freight_tender_accept('5b000000-0000-4000-8000-0000000000e1')$$, 'SY119', null,
  'a tender past its SLA deadline cannot be accepted: tender_expired');
select tests.act_as('agents');
select is(app_private.freight_tender_expire('5b000000-0000-4000-8000-0000000000e1'), 'expired', 'the agents'' sweep expires it');

-------------------------------------------------------------------------------------------
-- Dispatch refusals (load l2, covered by Eastline)
-------------------------------------------------------------------------------------------
select pg_temp.as_user('dispatch@prairie-haulers.test', 'eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee');
select throws_ok($$select app_private.freight_load_dispatch((select id from l2), pg_temp.id('pat'), pg_temp.id('p_tractor'))$$, 'SY021', null,
  'Prairie''s user cannot dispatch Eastline''s load');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_load_dispatch((select id from l2), pg_temp.id('pat'), pg_temp.id('e_tractor'))$$, 'SY110', null,
  'another carrier''s driver: foreign_asset');
select throws_ok($$select app_private.freight_load_dispatch((select id from l2), pg_temp.id('eve'), pg_temp.id('p_tractor'))$$, 'SY110', null,
  'another carrier''s tractor: foreign_asset');
select tests.act_as_owner();
update public.equipment set status = 'blocked' where id = pg_temp.id('e_tractor');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_load_dispatch((select id from l2), pg_temp.id('eve'), pg_temp.id('e_tractor'))$$, 'SY111', null,
  'a blocked tractor: asset_blocked');
select tests.act_as_owner();
update public.equipment set status = 'active' where id = pg_temp.id('e_tractor');
update public.drivers set medical_card_expires_on = current_date + 3 where id = pg_temp.id('eve');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_load_dispatch((select id from l2), pg_temp.id('eve'), pg_temp.id('e_tractor'))$$, 'SY112', null,
  'a medical card that expires before the pickup day (in 10 days): driver_documents_expired');
select is((select status from public.loads where id = (select id from l2)), 'covered', 'still covered, nobody assigned');
select is((select driver_id from public.loads where id = (select id from l2)), null, '(no half-written assignment)');
select tests.act_as_owner();

-------------------------------------------------------------------------------------------
-- Cover without a tender (a bid, a phone call) and quotes made for another customer
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_load_cover('c7000000-0000-4000-8000-000000000001', pg_temp.id('prairie'), 180000)$$, 'SY100', null,
  'a draft load is not covered');
select is(app_private.freight_load_cover('c7000000-0000-4000-8000-000000000002', pg_temp.id('prairie'), 180000, 'bid'), 'covered',
  'an open load is covered at a bid''s rate');
select results_eq($$select l.status, l.carrier_party_id, c.amount_cents, c.source_type from public.loads l
                    join public.charge_lines c on c.load_id = l.id and c.side = 'buy'
                    where l.id = 'c7000000-0000-4000-8000-000000000002'$$,
  $$values ('covered', 'c1000000-0000-4000-8000-000000000011'::uuid, 180000::bigint, 'bid')$$, 'with its buy line, copied from the bid');
select tests.act_as_owner();
insert into public.rates_quotes (id, tenant_id, party_id, request, quote, total, status)
values ('5b000000-0000-4000-8000-0000000000a1', 'd0000000-0000-4000-8000-000000000001', pg_temp.id('bluebird'), '{}', '{}', 2400, 'priced');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_order_book(pg_temp.order_json('acme', '240000') || '{"quote_id": "5b000000-0000-4000-8000-0000000000a1"}')$$,
  'SY021', null, 'a quote made for Bluebird does not book Acme''s order');
select tests.act_as_owner();
insert into public.rates_quotes (id, tenant_id, party_id, request, quote, total, status)
values ('5b000000-0000-4000-8000-0000000000a2', 'd0000000-0000-4000-8000-000000000001', pg_temp.id('acme'), '{}', '{}', 2400, 'priced');
select tests.act_as('shipper@acme-foods.test');
create temp table q2 as
  select app_private.freight_order_book(pg_temp.order_json('acme', '240000') || '{"quote_id": "5b000000-0000-4000-8000-0000000000a2"}') as r;
select is((select o.quote_id from public.orders o where o.id = (select (r ->> 'order_id')::uuid from q2)),
          '5b000000-0000-4000-8000-0000000000a2'::uuid, 'Acme''s own quote books its order, which remembers the quote');
select tests.act_as_owner();

select * from finish();
rollback;
