-- Delivery (issue 12): relay@ and its rails; claims extended and late acknowledgements
-- logged; released attempts; a receiver's 410 parks events in the DLQ instead of dropping them.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
alter default privileges grant execute on functions to public;
select plan(38);

-- Events published by a human (dispatcher) in the demo tenant; returns the id.
create function pg_temp.publish(p_ref text) returns uuid language plpgsql as $$
declare v uuid;
begin
  perform tests.act_as('dispatch@demo-freight.test');
  v := app_private.outbox_publish('shipment', p_ref, 'shipment.created', jsonb_build_object('ref', p_ref));
  perform tests.act_as_owner();
  return v;
end $$;
-- One acknowledgement as the relay would send it.
create function pg_temp.ack(p_event uuid, p_claim uuid, p_deliveries jsonb, p_extra jsonb default '{}') returns jsonb
language sql as $$
  select jsonb_build_object('event_id', p_event, 'claim', p_claim, 'ok', true, 'deliveries', p_deliveries) || p_extra
$$;
create function pg_temp.delivery(p_sub uuid, p_status int) returns jsonb language sql as $$
  select jsonb_build_object('subscription_id', p_sub, 'ok', p_status between 200 and 299, 'status_code', p_status,
                            'error', case when p_status not between 200 and 299 then 'HTTP ' || p_status end, 'duration_ms', 5)
$$;

-- Only this test's events are due (the seed's and other files' are set aside, rolled back after).
update outbox_events set next_attempt_at = now() + interval '1 day' where state in ('pending', 'failed', 'delivering');

-------------------------------------------------------------------------------------------
-- relay@: its delivery bookkeeping passes every rail; nothing else of it does
-------------------------------------------------------------------------------------------
select is((select kind from principals where name = 'relay'), 'machine', 'relay@ is a machine principal');
create temp table ev_stop as select pg_temp.publish('STOP-1') as id; grant select on ev_stop to authenticated;
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop' and scope = 'global';
select tests.act_as('agents');
select throws_ok($$select app_private.outbox_publish('shipment', 'STOP-A', 'shipment.created')$$, 'SY001', null,
  'STOP: machines publish nothing new');
select tests.act_as('relay');
create temp table c_stop as select * from app_private.outbox_claim(10, 30);
select is((select count(*)::int from c_stop where id = (select id from ev_stop)), 1,
  'STOP: relay@ still claims the event a human committed');
select results_eq(format($$select state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb))$$,
                         pg_temp.ack((select id from ev_stop), (select claim_token from c_stop limit 1), '[]')),
  $$values ('delivered')$$, 'and acknowledges it: its delivery bookkeeping is not autonomous');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'R-1')$$,
  'SY001', 'autonomy_halted: autonomy.emergencyStop is true; relay@ may not write to public.parties',
  'STOP: any other write of relay@ is refused like every machine''s (domain)');
select throws_ok($$select app_private.outbox_publish('shipment', 'R-2', 'shipment.created')$$, 'SY001', null,
  'it publishes nothing');
select throws_ok($$update feature_flags_v2 set value = 'DEGRADE' where key = 'autonomy.mode'$$, 'SY001', null,
  'it changes no flag (control)');
select throws_ok($$insert into alerts (tenant_id, source, severity, dedupe_key, summary)
                   values ('d0000000-0000-4000-8000-000000000001', 'x', 'info', 'x', 'x')$$, '42501', null,
  'it writes no alert of its own choosing (only those its acknowledgements raise)');
select tests.act_as('dlq');
select throws_ok($$insert into dlq_entries (tenant_id, event_id, event_created_at, event)
                   values ('d0000000-0000-4000-8000-000000000001', gen_random_uuid(), now(), '{}')$$,
  'SY001', null, 'STOP: other machines'' delivery-class writes stay halted');
select tests.act_as_owner();
update feature_flags_v2 set value = false where key = 'autonomy.emergencyStop' and scope = 'global';

-- agents off (what an SLO rollback sets), DEGRADE, STEP-DOWN: delivery goes on.
-- Publishes one event as a human, then claims as relay@ and acknowledges it; its state after.
create function pg_temp.delivered_by_relay(p_ref text) returns text language plpgsql as $$
declare
  v_id uuid := pg_temp.publish(p_ref);
  c    record;
begin
  perform tests.act_as('relay');
  select * into c from app_private.outbox_claim(10, 30) where id = v_id;
  perform app_private.outbox_ack_batch(jsonb_build_array(pg_temp.ack(v_id, c.claim_token, '[]')));
  perform tests.act_as_owner();
  return (select state from outbox_events where id = v_id);
end $$;
update feature_flags_v2 set value = false where key = 'agents.autonomousEnabled' and scope = 'global';
select is(pg_temp.delivered_by_relay('OFF-1'), 'delivered', 'agents off: relay@ delivers a human''s event');
update feature_flags_v2 set value = true where key = 'agents.autonomousEnabled' and scope = 'global';
update feature_flags_v2 set value = 'DEGRADE' where key = 'autonomy.mode';
select is(pg_temp.delivered_by_relay('DG-1'), 'delivered', 'DEGRADE: relay@ delivers');
update feature_flags_v2 set value = 'STEP-DOWN' where key = 'autonomy.mode';
select is(pg_temp.delivered_by_relay('SD-1'), 'delivered', 'STEP-DOWN: relay@ delivers');
update feature_flags_v2 set value = 'FULL' where key = 'autonomy.mode';

-------------------------------------------------------------------------------------------
-- Claims: extended while held; a late acknowledgement is logged, not fatal; released
-------------------------------------------------------------------------------------------
create temp table e1 as select pg_temp.publish('CL-1') as id; grant select on e1 to authenticated;
create temp table e2 as select pg_temp.publish('CL-2') as id; grant select on e2 to authenticated;
select tests.act_as('relay');
create temp table c1 as select * from app_private.outbox_claim(10, 30);
select is((select count(distinct claim_token)::int from c1), 1, 'one claim token per claim');
select is(app_private.outbox_extend((select claim_token from c1 limit 1), 60), 2, 'the holder extends its claim');
select tests.act_as_owner();
select ok((select bool_and(next_attempt_at > now() + interval '50 seconds') from outbox_events where id in (select id from c1)),
  'by the seconds asked');
-- the claim lapses (a relay that stalled) and another relay claims the events again
update outbox_events set next_attempt_at = now() - interval '1 second' where id in (select id from c1);
select tests.act_as('relay');
create temp table c2 as select * from app_private.outbox_claim(10, 30);
select ok((select claim_token from c2 limit 1) <> (select claim_token from c1 limit 1) and (select count(*) from c2) = 2,
  'a lapsed claim is claimed again under a new token');
select is(app_private.outbox_extend((select claim_token from c1 limit 1), 60), 0, 'the old claim extends nothing');
select results_eq(format($$select state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb))$$,
                         pg_temp.ack((select id from e1), (select claim_token from c2 limit 1), '[]')),
  $$values ('delivered')$$, 'the new holder delivers e1');
select results_eq(format($$select event_id, state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb, %L::jsonb))$$,
                         pg_temp.ack((select id from e1), (select claim_token from c1 limit 1),
                                     jsonb_build_array(jsonb_build_object('ok', true, 'status_code', 200)), '{"attempt": 1}'),
                         pg_temp.ack((select id from e2), (select claim_token from c1 limit 1),
                                     jsonb_build_array(jsonb_build_object('ok', false, 'error', 'timeout after 10000 ms')),
                                     '{"attempt": 1, "ok": false}')),
  format($$values (%L::uuid, 'late'), (%L::uuid, 'late')$$, (select id from e1), (select id from e2)),
  'the stalled relay''s acknowledgement comes late: not fatal, for a settled event or one delivering elsewhere');
select tests.act_as_owner();
select results_eq(format($$select attempt, ok from outbox_deliveries where event_id in (%L, %L) order by ok desc$$,
                         (select id from e1), (select id from e2)),
  $$values (1, true), (1, false)$$, 'its attempts are in the deliveries log, under the attempt they were');
select results_eq(format($$select state, attempts from outbox_events where id = %L$$, (select id from e2)),
  $$values ('delivering', 2)$$, 'and change nothing else: e2 is still the new holder''s');
select tests.act_as('relay');
select results_eq(format($$select state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb))$$,
                         pg_temp.ack((select id from e2), (select claim_token from c2 limit 1), '[]', '{"released": true}')),
  $$values ('released')$$, 'a holder out of time releases what it did not attempt');
select tests.act_as_owner();
select results_eq(format($$select state, attempts, next_attempt_at <= now(), claim_token is null from outbox_events where id = %L$$,
                         (select id from e2)),
  $$values ('failed', 1, true, true)$$, 'the attempt is given back: due now, attempts not counted');
update outbox_events set state = 'delivered' where id = (select id from e2);

-------------------------------------------------------------------------------------------
-- 410 Gone: the subscription is switched off with a reason, its events are parked
-------------------------------------------------------------------------------------------
insert into outbox_subscriptions (id, tenant_id, name, endpoint_url, secret_ref) values
  ('5b000000-0000-4000-8000-00000000000a', 'd0000000-0000-4000-8000-000000000001', 'hook-a', 'https://a.example.test/h',
   'd0000000-0000-4000-8000-000000000001/hook-a'),
  ('5b000000-0000-4000-8000-00000000000b', 'd0000000-0000-4000-8000-000000000001', 'hook-b', 'https://b.example.test/h',
   'd0000000-0000-4000-8000-000000000001/hook-b');
create temp table e3 as select pg_temp.publish('GONE-1') as id; grant select on e3 to authenticated;
create temp table e4 as select pg_temp.publish('GONE-2') as id; grant select on e4 to authenticated;
select tests.act_as('relay');
create temp table c3 as select * from app_private.outbox_claim(10, 30);
select results_eq(format($$select state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb, %L::jsonb))$$,
                         pg_temp.ack((select id from e3), (select claim_token from c3 limit 1),
                                     jsonb_build_array(pg_temp.delivery('5b000000-0000-4000-8000-00000000000a', 200),
                                                       pg_temp.delivery('5b000000-0000-4000-8000-00000000000b', 410))),
                         pg_temp.ack((select id from e4), (select claim_token from c3 limit 1),
                                     jsonb_build_array(pg_temp.delivery('5b000000-0000-4000-8000-00000000000a', 200)))),
  $$values ('parked'), ('parked')$$,
  'an event hook-b answered 410 to, and one hook-b never got, are parked rather than delivered');
select tests.act_as_owner();
select results_eq($$select enabled, gone_at is not null, disabled_reason like '410 Gone from the receiver (event %' from outbox_subscriptions
                    where name = 'hook-b'$$, $$values (false, true, true)$$, 'hook-b is switched off, marked gone, with its reason');
select is((select reason from audit_log where action = 'outbox_subscriptions.update'
           and target_id = '5b000000-0000-4000-8000-00000000000b' order by occurred_at desc limit 1),
          format('receiver of subscription hook-b answered 410 Gone to event %s', (select id from e3)),
          'the switch-off is audited with that reason');
select results_eq($$select severity, tenant_id from alerts where source = 'outbox.subscription_gone'
                    and dedupe_key = '5b000000-0000-4000-8000-00000000000b'$$,
  $$values ('warning', 'd0000000-0000-4000-8000-000000000001'::uuid)$$, 'the tenant gets an alert');
select results_eq(format($$select state, parked_for, last_error like 'parked: subscription hook-b answered 410 Gone%%'
                           from dlq_entries where event_id in (%L, %L) order by aggregate_id$$, (select id from e3), (select id from e4)),
  $$values ('parked', '{5b000000-0000-4000-8000-00000000000b}'::uuid[], true), ('parked', '{5b000000-0000-4000-8000-00000000000b}'::uuid[], true)$$,
  'both wait in the DLQ, parked for hook-b');
select results_eq($$select count(*)::int from dlq_entries where state = 'parked' and tenant_id = 'd0000000-0000-4000-8000-000000000001'$$,
  $$values (2)$$, 'nothing was dropped');

select tests.act_as('ops@demo-freight.test');
select throws_like(format('select app_private.replay_request(%L, array[%L]::uuid[], false)', 'd0000000-0000-4000-8000-000000000001',
                          (select id from dlq_entries where event_id = (select id from e3))),
  'replay_bad_selection: DLQ entry % is parked for subscription hook-b, which is still switched off%',
  'a parked entry is not replayed while its subscription is gone');
select tests.act_as('admin@demo-freight.test');
update outbox_subscriptions set enabled = true where name = 'hook-b';
select tests.act_as_owner();
select results_eq($$select enabled, gone_at, disabled_reason from outbox_subscriptions where name = 'hook-b'$$,
  $$values (true, null::timestamptz, null::text)$$, 're-enabling it clears the mark');
select tests.act_as('ops@demo-freight.test');
select results_eq(format($$select status, outcome ->> 'requeued' from app_private.replay_request(%L, %L::uuid[], false)$$,
                         'd0000000-0000-4000-8000-000000000001',
                         (select array_agg(id) from dlq_entries where event_id in ((select id from e3), (select id from e4)))),
  $$values ('executed', '2')$$, 'then the parked entries replay through the DLQ caps');
select tests.act_as('relay');
create temp table c4 as select * from app_private.outbox_claim(10, 30);
select is((select count(*)::int from c4 where id in ((select id from e3), (select id from e4))), 2, 'back in the outbox');
select results_eq(format($$select state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb, %L::jsonb))$$,
                         pg_temp.ack((select id from e3), (select claim_token from c4 limit 1),
                                     jsonb_build_array(pg_temp.delivery('5b000000-0000-4000-8000-00000000000b', 200))),
                         pg_temp.ack((select id from e4), (select claim_token from c4 limit 1),
                                     jsonb_build_array(pg_temp.delivery('5b000000-0000-4000-8000-00000000000b', 200)))),
  $$values ('delivered'), ('delivered')$$, 'and delivered to hook-b once it takes them');

-- A subscription a human switched off (not gone) parks nothing: the human chose to stop it.
select tests.act_as('admin@demo-freight.test');
update outbox_subscriptions set enabled = false where name = 'hook-b';
select tests.act_as_owner();
create temp table e5 as select pg_temp.publish('OFF-2') as id; grant select on e5 to authenticated;
select tests.act_as('relay');
create temp table c5 as select * from app_private.outbox_claim(10, 30);
select results_eq(format($$select state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb))$$,
                         pg_temp.ack((select id from e5), (select claim_token from c5 limit 1),
                                     jsonb_build_array(pg_temp.delivery('5b000000-0000-4000-8000-00000000000a', 200)))),
  $$values ('delivered')$$, 'a subscription a human switched off is not waited for');

-------------------------------------------------------------------------------------------
-- STOP: a failing replay run is still stopped by relay@'s acknowledgement (not rolled back)
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
insert into dlq_entries (id, tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id, event,
                         attempts, last_error, payload_bytes)
values ('dd000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', gen_random_uuid(), now(),
        'shipment.created', 'shipment', 'RP-1', '{"payload": {}}', 8, 'HTTP 500', 2);
select tests.act_as('ops@demo-freight.test');
select is((select status from app_private.replay_request('d0000000-0000-4000-8000-000000000001',
             array['dd000000-0000-4000-8000-000000000001']::uuid[], false)), 'executed', 'a replay runs');
select tests.act_as_owner();
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop' and scope = 'global';
select tests.act_as('relay');
create temp table c6 as select * from app_private.outbox_claim(10, 30);
select results_eq(format($$select state from app_private.outbox_ack_batch(jsonb_build_array(%L::jsonb))$$,
                         pg_temp.ack((select id from c6 where aggregate_id = 'RP-1'), (select claim_token from c6 limit 1),
                                     jsonb_build_array(pg_temp.delivery('5b000000-0000-4000-8000-00000000000a', 500)),
                                     '{"ok": false, "error": "HTTP 500"}')),
  $$values ('failed')$$, 'STOP: relay@ acknowledges a replayed event''s failure');
select tests.act_as_owner();
select results_eq($$select (q.outcome ->> 'stopped')::boolean, d.state from replay_requests q
                    join dlq_entries d on d.id = 'dd000000-0000-4000-8000-000000000001' where 'dd000000-0000-4000-8000-000000000001' = any (q.dlq_ids)$$,
  $$values (true, 'dead')$$, 'and the run that failed beyond 20% is stopped, its entry back in the DLQ');
update feature_flags_v2 set value = false where key = 'autonomy.emergencyStop' and scope = 'global';

select * from finish();
rollback;
