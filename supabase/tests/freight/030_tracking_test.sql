-- The tracking timeline: 214 events drive a dispatched load through its trip, stamp the
-- stops' actuals, replay idempotently by source_event_id, refuse a reused id with other
-- content, skip nothing (an offline replay's AF before its X3 walks the steps), leave a late
-- event without effect, and raise the exception flag beside the status. And appointment
-- windows in facility time across the DST changes.
begin;
alter default privileges grant execute on functions to public;
select plan(33);

-- Load DEMO-1005 of the seeds: dispatched, Prairie Haulers, driver Pat (the driver user).
create temp table ld as select 'c7000000-0000-4000-8000-000000000005'::uuid as id;
grant select on ld to public;
create function pg_temp.ev(p_key text, p_code text, p_seq int, p_at text default null) returns jsonb language sql as $$
  select app_private.freight_load_event_record((select id from ld),
    jsonb_strip_nulls(jsonb_build_object('source_event_id', p_key, 'status_code', p_code, 'stop_sequence', p_seq,
                                         'occurred_at', p_at, 'source', 'driver_app')))
$$;

select tests.act_as('driver@prairie-haulers.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "driver"}');
select results_eq($$select r ->> 'status', r ->> 'replayed', r -> 'transitions' from pg_temp.ev('phone-1', 'X3', 1, '2026-12-03T14:05:00Z') r$$,
  $$values ('at_pickup', 'false', '["at_pickup"]'::jsonb)$$, 'X3 at the pickup: at_pickup');
select results_eq($$select r ->> 'status', r ->> 'replayed' from pg_temp.ev('phone-1', 'X3', 1, '2026-12-03T14:05:00Z') r$$,
  $$values ('at_pickup', 'true')$$, 'the same event again (an offline replay) answers the first recording');
select results_eq($$select r ->> 'replayed' from pg_temp.ev('phone-1', 'X3', 1) r$$, $$values ('true')$$,
  'a replay that leaves out occurred_at is the same event too');
select is((select count(*)::int from public.load_events where source_event_id like 'phone-1%'), 2,
          'one tracking event and one status event, once');
select throws_ok($$select pg_temp.ev('phone-1', 'AF', 1, '2026-12-03T15:00:00Z')$$, 'SY113', null,
  'the same source_event_id with other content: duplicate_source_event');
select throws_ok($$select pg_temp.ev('phone-2', 'X1', 1)$$, 'SY017', null, 'a delivery code at a pickup stop is refused');
select throws_ok($$select pg_temp.ev('phone-2', 'ZZ', 1)$$, 'SY017', null, 'a code outside the vocabulary is refused');
select throws_ok($$select pg_temp.ev('', 'X6', null)$$, 'SY017', null, 'no source_event_id, no event');
-- AF before CP (CP never sent): the load walks picked_up -> in_transit
select results_eq($$select r ->> 'status', r -> 'transitions' from pg_temp.ev('phone-3', 'AF', 1, '2026-12-03T15:30:00Z') r$$,
  $$values ('in_transit', '["picked_up", "in_transit"]'::jsonb)$$, 'AF without CP: the load walks picked_up, in_transit');
select results_eq($$select actual_arrival_at, actual_departure_at from public.stops where load_id = (select id from ld) and sequence = 1$$,
  $$values ('2026-12-03 14:05:00+00'::timestamptz, '2026-12-03 15:30:00+00'::timestamptz)$$, 'the pickup''s actual arrival and departure');
select results_eq($$select r ->> 'status', r -> 'transitions' from pg_temp.ev('phone-4', 'CP', 1, '2026-12-03T15:10:00Z') r$$,
  $$values ('in_transit', '[]'::jsonb)$$, 'a late CP (the load is past it) is recorded and moves nothing');
select results_eq($$select r ->> 'status', r ->> 'exception' from pg_temp.ev('eld-9', 'SD', null) r$$,
  $$values ('in_transit', 'true')$$, 'SD (delayed): the exception flag, the status unchanged');
select is((select exception_reason from public.loads where id = (select id from ld)), 'SD: Shipment delayed', 'with its reason');
select results_eq($$select r ->> 'status' from pg_temp.ev('phone-5', 'X1', 2, '2026-12-05T19:10:00Z') r$$,
  $$values ('at_delivery')$$, 'X1 at the delivery: at_delivery');
select results_eq($$select r ->> 'status' from pg_temp.ev('phone-6', 'D1', 2, '2026-12-05T20:00:00Z') r$$,
  $$values ('delivered')$$, 'D1 at the last delivery: delivered');
select results_eq($$select r ->> 'status', r -> 'transitions' from pg_temp.ev('phone-7', 'CD', 2, '2026-12-05T20:30:00Z') r$$,
  $$values ('delivered', '[]'::jsonb)$$, 'CD after it: still delivered');
select lives_ok($$select app_private.freight_load_exception((select id from ld), false)$$, 'the driver clears the exception');
select results_eq($$select to_status from public.load_events where load_id = (select id from ld) and kind = 'status' order by occurred_at, recorded_at$$,
  $$values ('at_pickup'), ('picked_up'), ('in_transit'), ('at_delivery'), ('delivered')$$, 'every step is a status event on the timeline');
select ok((select bool_and(e.principal_id = 'e0000000-0000-4000-8000-000000000012' and e.source_portal = 'driver')
           from public.load_events e where e.load_id = (select id from ld) and e.kind <> 'status'),
          'recorded as the driver, through the driver door');

-- who may report
select tests.act_as('dispatch@eastline-freight.test');
select throws_ok($$select pg_temp.ev('x-1', 'X6', null)$$, 'SY021', null, 'another carrier''s user may not report on the load');
select tests.act_as('shipper@acme-foods.test');
select throws_ok($$select pg_temp.ev('x-2', 'X6', null)$$, 'SY021', null, 'nor the shipper (no freight.event.record)');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_load_event_record('c7000000-0000-4000-8000-000000000004',
                     '{"source_event_id": "x-3", "status_code": "X3", "stop_sequence": 1}')$$, 'SY100', null,
  'an arrival on a load that is only covered: illegal_transition (not recorded)');
select is((select count(*)::int from public.load_events where source_event_id = 'x-3'), 0, 'nothing half-written');
select lives_ok($$select app_private.freight_load_transition((select id from ld), 'completed', 'POD received')$$,
  'the broker completes the delivered load (POD received)');
select throws_ok($$select app_private.freight_load_transition((select id from ld), 'in_transit')$$, 'SY100', null,
  'a completed load goes nowhere');
select tests.act_as_owner();
select throws_ok($$update public.loads set status = 'cancelled' where id = 'c7000000-0000-4000-8000-000000000002'$$, 'SY101', null,
  'psql: a direct UPDATE of a legal status is status_bypass');
select throws_ok($$update public.tenders set status = 'accepted' where id = 'c9000000-0000-4000-8000-000000000003'$$, 'SY101', null,
  'and of a tender''s');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$insert into public.loads (tenant_id, order_id, reference, shipper_party_id, status)
                   values ('d0000000-0000-4000-8000-000000000001', 'c6000000-0000-4000-8000-000000000001', 'X-1', 'c1000000-0000-4000-8000-000000000002', 'delivered')$$,
  'SY101', null, 'an API role creates a load in an initial state only (draft, open)');
select tests.act_as_owner();

-------------------------------------------------------------------------------------------
-- Windows in facility time across DST (America/Chicago: 2026-03-08 02:00 springs forward,
-- 2026-11-01 02:00 falls back)
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@demo-freight.test');
create temp table dst as select app_private.freight_order_book(jsonb_build_object(
  'shipper_party_id', 'c1000000-0000-4000-8000-000000000002', 'sell', jsonb_build_object('linehaul_cents', 1000),
  'stops', jsonb_build_array(
    jsonb_build_object('kind', 'pickup', 'facility_id', 'c4000000-0000-4000-8000-000000000001',
                       'window_start_local', '2026-03-08 01:00', 'window_end_local', '2026-03-08 04:00'),
    jsonb_build_object('kind', 'delivery', 'facility_id', 'c4000000-0000-4000-8000-000000000002',
                       'window_start_local', '2026-11-01 00:30', 'window_end_local', '2026-11-01 03:00')))) as r;
grant select on dst to public;
select results_eq($$select sequence, window_start_local::text, window_end_local::text, window_length, time_zone from public.stops_local
                    where load_id = (select (r ->> 'load_id')::uuid from dst) order by sequence$$,
  $$values (1, '2026-03-08 01:00:00', '2026-03-08 04:00:00', interval '2 hours', 'America/Chicago'),
           (2, '2026-11-01 00:30:00', '2026-11-01 03:00:00', interval '3 hours 30 minutes', 'America/Chicago')$$,
  'wall-clock windows keep their facility times; the spring window lasts 2 h, the fall one 3 h 30');
select results_eq($$select lower(appointment), upper(appointment) from public.stops
                    where load_id = (select (r ->> 'load_id')::uuid from dst) order by sequence$$,
  $$values ('2026-03-08 07:00:00+00'::timestamptz, '2026-03-08 09:00:00+00'::timestamptz),
           ('2026-11-01 05:30:00+00'::timestamptz, '2026-11-01 09:00:00+00'::timestamptz)$$,
  'stored as instants: CST -6 before the spring change, CDT -5 then, CST -6 after the fall change');
select tests.act_as_owner();
select results_eq($$select s ->> 'window_start_local', s ->> 'window_end_local'
                    from jsonb_array_elements(app_private.freight_lane((select (r ->> 'load_id')::uuid from dst)) -> 'stops') s$$,
  $$values ('2026-03-08T01:00:00', '2026-03-08T04:00:00'), ('2026-11-01T00:30:00', '2026-11-01T03:00:00')$$,
  'the lane a carrier is tendered shows facility time too');
select tests.act_as('shipper@acme-foods.test');
select is((select count(*)::int from public.stops_local where load_id = (select (r ->> 'load_id')::uuid from dst)), 2,
          'the shipper reads its stops in facility time (security invoker view)');
select tests.act_as('dispatch@eastline-freight.test');
select is((select count(*)::int from public.stops_local where load_id = (select (r ->> 'load_id')::uuid from dst)), 0,
          'a carrier that does not haul it reads none');
select tests.act_as_owner();

select * from finish();
rollback;
