-- Driver portal SQL (supabase/migrations/20261202100000_driver_portal.sql): a driver sees and
-- reports only the stops of loads assigned to it (party RLS and the sync's own check), a
-- batch is applied once in device order (held past a gap, applied when the predecessor
-- comes), refusals are per event, a dispatcher's milestone supersedes the phone's, the POD
-- completes the delivery stop and the load, and the delta feed lists what changed.
-- Seeds: load c7..05 (DEMO-1005, dispatched, Prairie's driver Pat), c7..07 (delivered,
-- Eastline's driver Eve, given a principal here).
begin;
select plan(38);

create function pg_temp.id(p text) returns uuid language sql as $$
  select case p when 'tenant' then 'd0000000-0000-4000-8000-000000000001'
                when 'load' then 'c7000000-0000-4000-8000-000000000005'
                when 'pickup' then 'c8000000-0000-4000-8000-000000000051'
                when 'delivery' then 'c8000000-0000-4000-8000-000000000052'
                when 'eve_load' then 'c7000000-0000-4000-8000-000000000007'
                when 'eve_stop' then 'c8000000-0000-4000-8000-000000000072' end::uuid
$$;
-- an event of the phone: seq n, kind, stop, minutes ago
create function pg_temp.ev(n int, kind text, stop text, ago int, payload jsonb default '{}') returns jsonb language sql as $$
  select jsonb_build_object('client_event_id', md5('driver-test-' || n)::uuid, 'device_seq', n, 'kind', kind,
                            'client_at', now() - make_interval(mins => ago), 'payload', payload)
         || case when stop is null then '{}'::jsonb else jsonb_build_object('stop_id', pg_temp.id(stop)) end
$$;
create function pg_temp.sync(events jsonb) returns jsonb language sql as $$ select app_private.driver_sync('phone-1', events) $$;
create function pg_temp.fate(r jsonb, n int) returns text language sql as $$
  select o ->> 'status' || coalesce(':' || (o ->> 'reason'), '') from jsonb_array_elements(r -> 'results') o
  where o ->> 'client_event_id' = md5('driver-test-' || n)::uuid::text limit 1
$$;
grant execute on all functions in schema pg_temp to public;

-- Eve (Eastline's driver) gets a principal
insert into public.principals (id, kind, name, display_name)
values ('e0000000-0000-4000-8000-0000000000e1', 'human', 'driver-eve@eastline-freight.test', 'Eve (driver)');
insert into public.role_assignments (principal_id, role, tenant_id) values ('e0000000-0000-4000-8000-0000000000e1', 'driver', pg_temp.id('tenant'));
insert into public.party_members (tenant_id, principal_id, party_id, driver_id)
values (pg_temp.id('tenant'), 'e0000000-0000-4000-8000-0000000000e1', 'c1000000-0000-4000-8000-000000000012', 'c2000000-0000-4000-8000-000000000021');
create temp table answers (step text primary key, r jsonb);
grant all on answers to public;

-------------------------------------------------------------------------------------------
-- isolation: RLS and the sync's own check
-------------------------------------------------------------------------------------------
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');
select is((select array_agg(id order by id) from public.loads), array[pg_temp.id('load')], 'Pat reads only the load assigned to him');
select is((select count(*)::int from public.stops), 2, 'and its two stops');
select is((select count(*)::int from public.stops where id = pg_temp.id('eve_stop')), 0, 'not Eve''s stop');
select tests.act_as('driver-eve@eastline-freight.test', pg_temp.id('tenant'), '{"portal": "driver"}');
select is((select array_agg(load_id order by sequence) from public.stops), array[pg_temp.id('eve_load'), pg_temp.id('eve_load')],
  'Eve reads only hers');
select is((select count(*)::int from public.stops where load_id = pg_temp.id('load')), 0, 'not Pat''s');
update public.stops set actual_arrival_at = now() where id = pg_temp.id('pickup');
select tests.act_as_owner();
select is((select actual_arrival_at from public.stops where id = pg_temp.id('pickup')), null, 'Eve''s UPDATE of Pat''s stop changes nothing (no write policy, not visible)');
select tests.act_as('driver-eve@eastline-freight.test', pg_temp.id('tenant'), '{"portal": "driver"}');
insert into answers values ('eve', app_private.driver_sync('eve-phone', jsonb_build_array(pg_temp.ev(900, 'arrived', 'pickup', 5))));
select is((select pg_temp.fate(r, 900) from answers where step = 'eve'), 'rejected:driver_stop_not_assigned',
  'Eve''s event for Pat''s stop: rejected driver_stop_not_assigned');
select throws_ok($$select app_private.freight_load_event_record(pg_temp.id('load'),
                     '{"source_event_id": "eve-x", "status_code": "X3", "stop_sequence": 1}')$$, 'SY021', null,
  'nor through the core''s tracking function: forbidden');
select tests.act_as_owner();
select is((select count(*)::int from public.load_events where load_id = pg_temp.id('load')), 0, 'nothing reached Pat''s timeline');

-------------------------------------------------------------------------------------------
-- a batch in device order, a gap held, a resend that changes nothing
-------------------------------------------------------------------------------------------
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');
insert into answers values ('first', pg_temp.sync(jsonb_build_array(
  pg_temp.ev(3, 'departed', 'pickup', 30), pg_temp.ev(1, 'arrived', 'pickup', 50),
  pg_temp.ev(4, 'position', null, 20, '{"lat": 41.0, "lon": -90.0, "speed_mph": 55}'))));
select is((select array[pg_temp.fate(r, 1), pg_temp.fate(r, 3), pg_temp.fate(r, 4)] from answers where step = 'first'),
  array['applied', 'held', 'held'], 'seq 1 applies; 3 and 4 wait for the missing 2 (held, not refused)');
select is((select r ->> 'applied_seq' from answers where step = 'first'), '1', 'the device watermark stops at the gap');
select is((select status from public.loads where id = pg_temp.id('load')), 'at_pickup', 'the load is at the pickup');
insert into answers values ('second', pg_temp.sync(jsonb_build_array(pg_temp.ev(2, 'loaded', 'pickup', 40))));
select is((select pg_temp.fate(r, 2) from answers where step = 'second'), 'applied', 'seq 2 arrives and applies');
select is((select array_agg(state order by device_seq) from public.driver_sync_events where device_id = 'phone-1'),
  array['applied', 'applied', 'applied', 'applied'], 'and the held 3 and 4 with it');
select is((select status from public.loads where id = pg_temp.id('load')), 'in_transit', 'X3, CP, AF: in transit');
select is((select array_agg(status_code order by occurred_at) from public.load_events where load_id = pg_temp.id('load') and status_code is not null),
  array['X3', 'CP', 'AF'], 'the timeline is in device order');
select is((select count(*)::int from public.driver_positions where client_event_id = md5('driver-test-4')::uuid and load_id = pg_temp.id('load')),
  1, 'the ping is kept for the driver''s load on its way');
select tests.act_as_owner();
create temp table before_resend as select (select count(*) from public.load_events) as ev, (select count(*) from public.outbox_events) as ob,
  (select count(*) from public.driver_positions) as pos;
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');
insert into answers values ('resend', pg_temp.sync(jsonb_build_array(
  pg_temp.ev(3, 'departed', 'pickup', 30), pg_temp.ev(1, 'arrived', 'pickup', 50), pg_temp.ev(2, 'loaded', 'pickup', 40),
  pg_temp.ev(4, 'position', null, 20, '{"lat": 41.0, "lon": -90.0, "speed_mph": 55}'))));
select is((select r -> 'counts' from answers where step = 'resend'), '{"duplicate": 4}'::jsonb, 'a resent batch: every event a duplicate');
select tests.act_as_owner();
select ok((select (select count(*) from public.load_events) = ev and (select count(*) from public.driver_positions) = pos
                  and (select count(*) from public.outbox_events) = ob from before_resend),
  'and nothing new on the timeline, the pings or the outbox');
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');

-------------------------------------------------------------------------------------------
-- per-event refusals, nothing lost
-------------------------------------------------------------------------------------------
insert into answers values ('bad', pg_temp.sync(jsonb_build_array(
  pg_temp.ev(5, 'arrived', 'delivery', -60),                                   -- an hour in the future
  jsonb_build_object('client_event_id', md5('driver-test-6')::uuid, 'device_seq', 6, 'kind', 'teleported', 'stop_id', pg_temp.id('delivery'), 'client_at', now()),
  jsonb_build_object('device_seq', 'eight'),                                   -- not even keyed
  pg_temp.ev(7, 'arrived', 'eve_stop', 1),
  pg_temp.ev(8, 'unloaded', 'pickup', 1),                                      -- not at a pickup
  jsonb_set(pg_temp.ev(1, 'arrived', 'pickup', 50), '{payload}', '{"note": "edited"}'))));
select is((select array[pg_temp.fate(r, 5), pg_temp.fate(r, 6), pg_temp.fate(r, 7), pg_temp.fate(r, 8)] from answers where step = 'bad'),
  array['rejected:driver_event_in_future', 'rejected:validation_failed', 'rejected:driver_stop_not_assigned', 'rejected:bad_request'],
  'future, malformed, another driver''s stop, a kind that is not at that stop: each rejected with its code');
select is((select r -> 'results' -> 2 ->> 'reason' from answers where step = 'bad'), 'validation_failed', 'an unkeyed event is answered by its index');
select is((select r -> 'results' -> 5 ->> 'reason' from answers where step = 'bad'), 'driver_event_id_reused', 'a client id reused with other content');
select is((select status from public.loads where id = pg_temp.id('load')), 'in_transit', 'the load did not move');

-------------------------------------------------------------------------------------------
-- conflict: the dispatcher recorded the arrival while the phone was offline
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@demo-freight.test', pg_temp.id('tenant'), '{"portal": "broker"}');
select lives_ok($$select app_private.freight_load_event_record(pg_temp.id('load'),
                    jsonb_build_object('source_event_id', 'phone-call-1', 'status_code', 'X1', 'stop_id', pg_temp.id('delivery'),
                                       'occurred_at', now() - interval '12 minutes'))$$, 'the dispatcher records the arrival at delivery (phone call)');
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');
insert into answers values ('conflict', pg_temp.sync(jsonb_build_array(pg_temp.ev(9, 'arrived', 'delivery', 10))));
select is((select pg_temp.fate(r, 9) from answers where step = 'conflict'), 'superseded:already_reported',
  'the phone''s arrival is superseded: the first report stands');
select tests.act_as_owner();
select is((select count(*)::int from public.audit_log where action = 'driver.sync.superseded' and target_id = pg_temp.id('delivery')::text), 1,
  'and the supersession is in the audit');

-------------------------------------------------------------------------------------------
-- POD: completes the delivery stop (D1) and the load; a late departure after it
-------------------------------------------------------------------------------------------
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');
create temp table pod as select app_private.freight_document_record(jsonb_build_object(
  'load_id', pg_temp.id('load'), 'kind', 'pod', 'file_name', 'pod.jpg', 'content_type', 'image/jpeg', 'size_bytes', 4096,
  'sha256', repeat('ef', 32), 'storage_key', 'driver-test/' || gen_random_uuid() || '/pod.jpg')) as id;
grant select on pod to public;
insert into answers values ('pod', pg_temp.sync(jsonb_build_array(
  pg_temp.ev(10, 'pod', 'delivery', 5, jsonb_build_object('document_id', (select id from pod), 'signer_name', 'R. Receiver', 'lat', 32.78, 'lon', -96.8)),
  pg_temp.ev(11, 'pod', 'delivery', 4, jsonb_build_object('document_id', gen_random_uuid(), 'signer_name', 'R. Receiver')),
  pg_temp.ev(12, 'departed', 'delivery', 3))));
select is((select array[pg_temp.fate(r, 10), pg_temp.fate(r, 11), pg_temp.fate(r, 12)] from answers where step = 'pod'),
  array['applied', 'rejected:driver_pod_invalid', 'applied'], 'the POD applies; one naming no POD document is rejected; the departure after it too');
select is((select status from public.loads where id = pg_temp.id('load')), 'completed', 'the POD completed the load (D1 walked it to delivered)');
select is((select array_agg(status_code order by occurred_at) from public.load_events where load_id = pg_temp.id('load') and status_code is not null),
  array['X3', 'CP', 'AF', 'X1', 'D1', 'CD'], 'the timeline: the unloading the POD implies, then the late departure');
select isnt((select actual_departure_at from public.stops where id = pg_temp.id('delivery')), null, 'the departure is stamped');
select tests.act_as_owner();
select is((select payload ? 'signer_name' from public.outbox_events where event_type = 'driver.pod.captured' and aggregate_id = pg_temp.id('load')::text),
  false, 'driver.pod.captured carries no signer name');
select is((select count(*)::int from public.audit_log where action = 'driver.pod.capture' and after::text like '%Receiver%'), 0, 'nor does the audit');

-------------------------------------------------------------------------------------------
-- the delta feed, and who may sync
-------------------------------------------------------------------------------------------
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');
create temp table feed as select app_private.driver_changes_since(0) as r;
grant select on feed to public;
select is((select r -> 'loads' -> 0 ->> 'status' from feed), 'completed', 'the feed since 0 has the load as it is now');
select is((select jsonb_array_length(r -> 'stops') from feed), 2, 'and both stops');
select is((select app_private.driver_changes_since((r ->> 'cursor')::bigint) -> 'loads' from feed), '[]'::jsonb, 'nothing since its cursor');
select tests.act_as('driver-eve@eastline-freight.test', pg_temp.id('tenant'), '{"portal": "driver"}');
select is((select count(*)::int from public.driver_changes where load_id = pg_temp.id('load')), 0, 'Eve reads none of Pat''s feed');
select tests.act_as('dispatch@demo-freight.test', pg_temp.id('tenant'), '{"portal": "driver"}');
select throws_ok($$select pg_temp.sync(jsonb_build_array(pg_temp.ev(99, 'arrived', 'pickup', 1)))$$, 'SY180', null,
  'staff are no driver: driver_not_linked');
select tests.act_as('driver@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "driver"}');
select throws_ok($$select pg_temp.sync('[]')$$, 'SY185', null, 'an empty batch: driver_batch_too_large (1..max)');

select * from finish();
rollback;
