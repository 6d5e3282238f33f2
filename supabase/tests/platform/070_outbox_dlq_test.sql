-- Outbox (publish, NOTIFY, per-aggregate order, backoff, dead-lettering), subscriptions,
-- deliveries, DLQ and replay requests with the charter's caps enforced in Postgres.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;
select plan(48);

create extension if not exists dblink with schema extensions;

-- A dead DLQ entry (as the relay would leave it).
create function pg_temp.dead(p_tenant uuid, p_ref text, p_bytes int default 20) returns uuid language sql as $$
  insert into public.dlq_entries (tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id,
                                  event, attempts, last_error, payload_bytes, trace_id)
  values (p_tenant, gen_random_uuid(), now(), 'shipment.created', 'shipment', p_ref,
          jsonb_build_object('payload', jsonb_build_object('ref', p_ref)), 8, 'HTTP 500', p_bytes,
          'aaaabbbbccccddddeeeeffff00001111')
  returning id
$$;

insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');
insert into public.principals (id, kind, name) values ('f0000000-0000-4000-8000-0000000000c1', 'human', 'ops2@demo-freight.test');
insert into public.role_assignments (principal_id, role, tenant_id)
values ('f0000000-0000-4000-8000-0000000000c1', 'ops_manager', 'd0000000-0000-4000-8000-000000000001');

-------------------------------------------------------------------------------------------
-- NOTIFY 'outbox' on insert (observed from two real sessions)
-------------------------------------------------------------------------------------------
select dblink_connect('listener', format('host=%s port=%s dbname=%s user=%s',
  split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database(), current_user));
select dblink_connect('writer', format('host=%s port=%s dbname=%s user=%s',
  split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_database(), current_user));
select dblink_exec('listener', 'listen outbox');
create temp table n_event as
  select * from dblink('writer', $$insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type)
    values ('d0000000-0000-4000-8000-000000000001', 'shipment', 'notify-probe', 'shipment.created') returning id$$) as t(id uuid);
select dblink_exec('writer', format('delete from outbox_events where id = %L', (select id from n_event)));
select pg_sleep(0.2);
select is((select (extra::jsonb ->> 'id')::uuid from dblink_get_notify('listener') where notify_name = 'outbox' limit 1),
          (select id from n_event), 'a committed insert notifies channel outbox with the event id');
select dblink_disconnect('listener'), dblink_disconnect('writer');

-------------------------------------------------------------------------------------------
-- Publish
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@demo-freight.test');
select set_config('request.headers', '{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}', true);
create temp table e1 as select app_private.outbox_publish('shipment', 'S-1', 'shipment.created', '{"ref": "S-1"}') as id;
create temp table e2 as select app_private.outbox_publish('shipment', 'S-1', 'shipment.tendered', '{"ref": "S-1"}') as id;
create temp table e3 as select app_private.outbox_publish('shipment', 'S-2', 'shipment.created', '{"ref": "S-2"}') as id;
select tests.act_as_owner();
select results_eq($$select state, attempts, trace_id, headers ->> 'traceparent', published_by from outbox_events where id = (select id from e1)$$,
  $$values ('pending', 0, '0af7651916cd43dd8448eb211c80319c', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
            'e0000000-0000-4000-8000-000000000004'::uuid)$$,
  'an event is pending, carries the request''s traceparent and trace id, and its publisher');
select tests.act_as('n8n');
insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, state, attempts)
values ('d0000000-0000-4000-8000-000000000001', 'shipment', 'S-9', 'shipment.created', 'delivered', 5);
select tests.act_as_owner();
select results_eq($$select state, attempts from outbox_events where aggregate_id = 'S-9'$$, $$values ('pending', 0)$$,
  'a publisher cannot publish an event as already delivered');
delete from outbox_events where aggregate_id = 'S-9';
select tests.act_as('viewer@demo-freight.test');
select throws_ok($$select app_private.outbox_publish('shipment', 'S-3', 'shipment.created')$$, '42501', null,
  'a viewer cannot publish');

-------------------------------------------------------------------------------------------
-- Relay: claim in per-aggregate order, ack, backoff, dead-letter
-------------------------------------------------------------------------------------------
select tests.act_as('relay');
select set_eq($$select id from app_private.outbox_claim()$$, $$select id from e1 union all select id from e3$$,
  'the relay claims the oldest event of each aggregate only (S-1 first event, S-2)');
select is((select count(*)::int from app_private.outbox_claim()), 0, 'claimed events are not claimed twice');
select is(app_private.outbox_ack((select id from e1), true, null,
            '[{"subscription_id": null, "ok": true, "status_code": 200, "duration_ms": 42}]'), 'delivered',
          'a delivered event is acked');
select set_eq($$select id from app_private.outbox_claim()$$, $$select id from e2$$,
  'then the next event of the aggregate becomes claimable');
select is(app_private.outbox_ack((select id from e3), false, 'HTTP 503',
            '[{"ok": false, "status_code": 503, "error": "HTTP 503"}]', 3), 'failed', 'a failed delivery is retried later');
select tests.act_as_owner();
select results_eq($$select state, attempts, last_error, next_attempt_at > now() from outbox_events where id = (select id from e3)$$,
  $$values ('failed', 1, 'HTTP 503', true)$$, 'with the error and a backoff');
select tests.act_as('relay');
select is((select count(*)::int from app_private.outbox_claim() where id = (select id from e3)), 0, 'not before its next attempt');
select tests.act_as_owner();
update outbox_events set next_attempt_at = now() - interval '1 second' where id = (select id from e3);
select tests.act_as('relay');
select is((select attempts from app_private.outbox_claim() where id = (select id from e3)), 2, 'then it is claimed again');
select is(app_private.outbox_ack((select id from e3), false, 'HTTP 500', '[{"ok": false, "status_code": 500, "error": "HTTP 500"}]', 2),
          'dead', 'after the last attempt the event is dead');
select tests.act_as_owner();
select results_eq(
  $$select event_id, attempts, last_error, jsonb_array_length(errors), payload_bytes, trace_id, event -> 'payload', state
    from dlq_entries where event_id = (select id from e3)$$,
  $$select (select id from e3), 2, 'HTTP 500', 2, octet_length('{"ref": "S-2"}'), '0af7651916cd43dd8448eb211c80319c',
           '{"ref": "S-2"}'::jsonb, 'dead'$$,
  'the DLQ holds the original event, attempts, errors, payload size and trace id');
select is((select count(*)::int from outbox_deliveries where event_id = (select id from e3)), 2, 'every attempt is in the deliveries log');
select tests.act_as('relay');
select throws_ok(format('select app_private.outbox_ack(%L, true)', (select id from e1)), 'SY017', null,
  'acking an event that is not being delivered is refused');

-------------------------------------------------------------------------------------------
-- Subscriptions
-------------------------------------------------------------------------------------------
select tests.act_as('admin@demo-freight.test');
select lives_ok($$insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref, event_filter)
  values ('d0000000-0000-4000-8000-000000000001', 'crm', 'https://n8n.example.test/webhook/crm', 'd0000000-0000-4000-8000-000000000001/whsec_crm', '{shipment.*}')$$,
  'tenant_admin subscribes an endpoint');
select throws_ok($$insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
  values ('d0000000-0000-4000-8000-000000000001', 'bad', 'ftp://x', 'd0000000-0000-4000-8000-000000000001/whsec')$$, '23514', null, 'a non-http endpoint is refused');
select ok(app_private.event_matches('{shipment.*}', 'shipment.created') and not app_private.event_matches('{rates.*}', 'shipment.created')
          and app_private.event_matches('{*}', 'anything.at.all'), 'event filters match types and prefix.* patterns');

-------------------------------------------------------------------------------------------
-- Replays: dry run, execution, caps, rate limits, pause, STEP-DOWN approval
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
create temp table d as select pg_temp.dead('d0000000-0000-4000-8000-000000000001', 'R-' || i) as id, i
  from generate_series(1, 6) i;
create temp table db as select pg_temp.dead('b0000000-0000-4000-8000-00000000000b', 'RB-1') as id;
grant select on d, db to authenticated;

select tests.act_as('dlq');
select results_eq($$select status, outcome from app_private.replay_request('d0000000-0000-4000-8000-000000000001',
                     array[(select id from d where i = 1)], true, '198.51.100.9')$$,
  $$values ('dry_run', '{"would_replay": 1, "payload_bytes": 20}'::jsonb)$$, 'a dry run reports what would be replayed');
select tests.act_as_owner();
select is((select state from dlq_entries where id = (select id from d where i = 1)), 'dead', 'and changes nothing');

select tests.act_as('dlq');
select results_eq($$select status, outcome ->> 'requeued', caps ->> 'budget.replay.maxBatch', requested_by_name
                    from app_private.replay_request('d0000000-0000-4000-8000-000000000001',
                     array[(select id from d where i = 1)], false, '198.51.100.9')$$,
  $$values ('executed', '1', '50', 'dlq')$$, 'in FULL mode a replay within the caps executes at once, recording the caps');
select tests.act_as_owner();
select results_eq($$select o.state, o.attempts, o.headers ? 'x-replay-request', d.state
                    from dlq_entries d join outbox_events o on o.id = d.event_id where d.id = (select id from d where i = 1)$$,
  $$values ('pending', 0, true, 'replayed')$$, 'the event is back in the outbox with its original id; the DLQ entry is replayed');
select tests.act_as('dlq');
select throws_like(format('select app_private.replay_request(%L, array[%L]::uuid[], false)', 'd0000000-0000-4000-8000-000000000001',
                          (select id from d where i = 1)),
  'replay_bad_selection: 1 of 1 DLQ entries are not dead or parked entries of tenant %', 'an entry cannot be replayed twice');
select throws_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], true)', 'd0000000-0000-4000-8000-000000000001',
                        (select id from db)), 'SY018', null, 'nor another tenant''s entry');
select throws_ok($$select app_private.replay_request('d0000000-0000-4000-8000-000000000001', '{}', true)$$, 'SY017',
  'bad_request: a replay names at least one DLQ entry', 'an empty replay is refused');

-- Caps
select tests.act_as_owner();
update feature_flags_v2 set value = 1 where key = 'budget.replay.maxBatch';
select tests.act_as('dlq');
select throws_ok(format('select app_private.replay_request(%L, %L::uuid[], true)', 'd0000000-0000-4000-8000-000000000001',
                        (select array_agg(id) from d where i in (2, 3))),
  'SY008', 'replay_cap_exceeded: batch of 2 exceeds budget.replay.maxBatch 1', 'a batch over budget.replay.maxBatch is refused');
select tests.act_as_owner();
update feature_flags_v2 set value = 50 where key = 'budget.replay.maxBatch';
update dlq_entries set payload_bytes = 3 * 1024 * 1024 where id = (select id from d where i = 6);
select tests.act_as('dlq');
select throws_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], true)', 'd0000000-0000-4000-8000-000000000001',
                        (select id from d where i = 6)),
  'SY008', 'replay_cap_exceeded: payload of 3145728 bytes exceeds budget.replay.maxPayloadMB 2', 'a payload over 2 MB is refused');

-- Paused: dlq.paused or DEGRADE (dry runs still allowed)
select tests.act_as_owner();
insert into feature_flags_v2 (key, scope, value) values ('dlq.paused', 'global', true);
select tests.act_as('dlq');
select throws_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], false)', 'd0000000-0000-4000-8000-000000000001',
                        (select id from d where i = 2)),
  'SY007', 'dlq_paused: DLQ replays are paused (dlq.paused or autonomy.mode DEGRADE)', 'replays are refused while the DLQ is paused');
select lives_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], true)', 'd0000000-0000-4000-8000-000000000001',
                       (select id from d where i = 2)), 'dry runs still work while paused');
select tests.act_as_owner();
update feature_flags_v2 set value = false where key = 'dlq.paused';
update feature_flags_v2 set value = 'DEGRADE' where key = 'autonomy.mode';
select tests.act_as('dlq');
select throws_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], false)', 'd0000000-0000-4000-8000-000000000001',
                        (select id from d where i = 2)), 'SY007', null, 'DEGRADE pauses replays');

-- STEP-DOWN: requests wait for a human's approval
select tests.act_as_owner();
update feature_flags_v2 set value = 'STEP-DOWN' where key = 'autonomy.mode';
select tests.act_as('dlq');
create temp table rq as select * from app_private.replay_request('d0000000-0000-4000-8000-000000000001',
  array[(select id from d where i = 2)], false, '198.51.100.9');
select is((select status from rq), 'pending_approval', 'in STEP-DOWN a replay waits for approval');
select tests.act_as_owner();
select is((select state from dlq_entries where id = (select id from d where i = 2)), 'dead', 'and nothing is replayed yet');
select tests.act_as('dlq');
select throws_ok(format('select app_private.replay_decide(%L, true)', (select id from rq)), 'SY009',
  'approval_forbidden: replays are approved by humans, not machine principals', 'a machine cannot approve');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok(format('select app_private.replay_decide(%L, true)', (select id from rq)), 'SY009', null,
  'a human without dlq.replay.approve cannot approve');
select tests.act_as('ops@demo-freight.test');
select results_eq(format('select status, approved_by_name, outcome ->> %L from app_private.replay_decide(%L, true, %L)',
                         'requeued', (select id from rq), 'checked the partner endpoint'),
  $$values ('executed', 'ops@demo-freight.test', '1')$$, 'an ops_manager approves and the replay executes');
create temp table rq2 as select * from app_private.replay_request('d0000000-0000-4000-8000-000000000001',
  array[(select id from d where i = 3)], false, '198.51.100.9');
select throws_ok(format('select app_private.replay_decide(%L, true)', (select id from rq2)), 'SY009',
  'approval_forbidden: the requester cannot approve its own replay', 'nobody approves their own replay');
select tests.act_as('ops2@demo-freight.test');
select is((select status from app_private.replay_decide((select id from rq2), false, 'not now')), 'rejected', 'a replay can be rejected');
select tests.act_as_owner();
select is((select state from dlq_entries where id = (select id from d where i = 3)), 'dead', 'a rejected replay leaves the entry dead');
update feature_flags_v2 set value = 'FULL' where key = 'autonomy.mode';

-- Rate: 3 per 5 minutes per tenant and per IP (three real requests so far in this tenant, from one IP)
select tests.act_as('dlq');
select throws_like(format('select app_private.replay_request(%L, array[%L]::uuid[], false, %L)', 'd0000000-0000-4000-8000-000000000001',
                          (select id from d where i = 4), '192.0.2.1'),
  'rate_limited: replay for tenant:d0000000-0000-4000-8000-000000000001: 3 per 300 s; retry after % s',
  'the 4th replay in 5 minutes for the tenant is refused');
select tests.act_as('dlq', 'b0000000-0000-4000-8000-00000000000b');
select throws_like(format('select app_private.replay_request(%L, array[%L]::uuid[], false, %L)', 'b0000000-0000-4000-8000-00000000000b',
                          (select id from db), '198.51.100.9'),
  'rate_limited: replay for ip:198.51.100.9: 3 per 300 s; retry after % s', 'and the 4th from the same IP, whatever the tenant');
select lives_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], false, %L)', 'b0000000-0000-4000-8000-00000000000b',
                       (select id from db), '192.0.2.1'), 'another tenant from another IP is not limited');

-- Who may replay
select tests.act_as('dispatch@demo-freight.test');
select throws_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], true)', 'd0000000-0000-4000-8000-000000000001',
                        (select id from d where i = 5)), 'SY021', null, 'a dispatcher cannot request replays');
select tests.act_as_owner();
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop';
select tests.act_as('dlq');
select throws_ok(format('select app_private.replay_request(%L, array[%L]::uuid[], true)', 'd0000000-0000-4000-8000-000000000001',
                        (select id from d where i = 5)), 'SY001', null, 'no replays while autonomy is halted');
select tests.act_as_owner();
update feature_flags_v2 set value = false where key = 'autonomy.emergencyStop';

-- Progress of a replay: stop if more than 20% fail
select tests.act_as('dlq');
select results_eq(format('select total, pending, should_stop from app_private.replay_progress(%L)', (select id from rq)),
  $$values (1, 1, false)$$, 'replay progress counts the replayed events');
select tests.act_as_owner();
update outbox_events set state = 'dead' where headers ->> 'x-replay-request' = (select id::text from rq);
select tests.act_as('dlq');
select results_eq(format('select failed, fail_ratio, should_stop from app_private.replay_progress(%L)', (select id from rq)),
  $$values (1, 1.0000::numeric, true)$$, 'and says stop when more than 20% fail');

-- Reading
select tests.act_as('ops@demo-freight.test');
select ok((select count(*) from dlq_entries) = 7 and (select count(*) from replay_requests) > 0,
          'ops_manager reads its tenant''s DLQ and replay requests');
select tests.act_as('finance@demo-freight.test');
select is((select count(*)::int from dlq_entries) + (select count(*)::int from outbox_events), 0,
          'finance reads neither the DLQ nor the outbox');

select * from finish();
rollback;
