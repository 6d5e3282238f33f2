-- Kill switch and modes (charter §2, §11), enforced by Postgres: STOP, STEP-DOWN, DEGRADE,
-- the agents switch and portal flags, for machines vs humans, with break-glass for system.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;
select plan(43);

-- The error a statement raises, as "SQLSTATE message | detail".
create function pg_temp.error_of(sql text) returns text language plpgsql as $$
declare s text; m text; d text;
begin
  execute sql;
  return 'no error';
exception when others then
  get stacked diagnostics s = returned_sqlstate, m = message_text, d = pg_exception_detail;
  return s || ' ' || m || coalesce(' | ' || nullif(d, ''), '');
end $$;

insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');

-------------------------------------------------------------------------------------------
-- STOP: autonomy.emergencyStop
-------------------------------------------------------------------------------------------
select tests.act_as('agents');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-1')$$,
  'a machine principal''s insert succeeds');

select tests.act_as_owner();
select lives_ok($charter$update feature_flags_v2
set value=true
where key='autonomy.emergencyStop' and scope='global';$charter$, 'the stop command runs');

select tests.act_as('agents');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-2')$$,
  'SY001', 'autonomy_halted: autonomy.emergencyStop is true; agents@ may not write to public.parties',
  'the same insert by the machine now fails with autonomy_halted');
select is(pg_temp.error_of($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-2')$$),
  'SY001 autonomy_halted: autonomy.emergencyStop is true; agents@ may not write to public.parties | {"flag": "autonomy.emergencyStop", "principal": "agents@"}',
  'the refusal carries a machine-readable detail');
select throws_ok($$update parties set status = 'suspended' where name = 'KS-1'$$, 'SY001', null, 'updates are refused too');
select throws_ok($$delete from parties where name = 'KS-1'$$, 'SY001', null, 'and deletes');
select is((select count(*)::int from parties where name = 'KS-1'), 1, 'reads still work');
select throws_ok($$select app_private.outbox_publish('shipment', 'KS-1', 'shipment.created')$$, 'SY001', null,
  'publishing to the outbox is refused');
select throws_ok($$select * from app_private.outbox_claim()$$, 'SY001', null,
  'agents@ cannot touch the outbox''s delivery state (relay@ can: 075_relay_delivery_test)');
select throws_ok($$select * from app_private.lease_acquire('task-1')$$, 'SY001', null, 'no new concurrency leases');
select throws_ok($$select * from app_private.cost_charge('d0000000-0000-4000-8000-000000000001', 1, 'llm')$$, 'SY001', null,
  'no cost charges');
select tests.act_as('n8n');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-N')$$,
  'SY001', 'autonomy_halted: autonomy.emergencyStop is true; n8n@ may not write to public.parties', 'every machine is halted');
select tests.act_as('dlq');
select throws_ok($$insert into dlq_entries (tenant_id, event_id, event_created_at, event)
                   values ('d0000000-0000-4000-8000-000000000001', gen_random_uuid(), now(), '{}')$$,
  'SY001', null, 'DLQ writes by machines are halted');
select tests.act_as('autopilot');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('canary.percent', 'global', 5)$$,
  'SY001', null, 'autopilot cannot flip canary flags while halted');

-- Humans keep working.
select tests.act_as('dispatch@demo-freight.test');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-H')$$,
  'a human''s insert still succeeds');
select lives_ok($$select app_private.outbox_publish('shipment', 'KS-H', 'shipment.created')$$, 'and a human publishes events');

-- service_role without a principal is autonomous, hence halted.
select tests.act_as_owner();
select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true);
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-S')$$,
  'SY001', 'autonomy_halted: autonomy.emergencyStop is true; service_role may not write to public.parties',
  'service_role writes are halted too');

-- Break-glass: system keeps the emergency stop (and nothing else).
select tests.act_as('system');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-Y')$$,
  '42501', null, 'system has no domain rights');
update feature_flags_v2 set value = 'DEGRADE' where key = 'autonomy.mode';
select lives_ok($$update feature_flags_v2 set value = false where key = 'autonomy.emergencyStop'$$,
  'system can resume while halted (break-glass)');
select tests.act_as_owner();
select is(flag_value('autonomy.emergencyStop'), 'false'::jsonb, 'the break-glass change took effect');
select is(flag_value('autonomy.mode'), '"FULL"'::jsonb, 'but system could not change the mode');

-- Resume (charter command) restores the machine's write.
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop';
select lives_ok($charter$update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';$charter$,
  'the resume command runs');
select tests.act_as('agents');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'KS-2')$$,
  'after resume the machine''s insert succeeds again');

-------------------------------------------------------------------------------------------
-- STEP-DOWN: machines read-only, humans work
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
update feature_flags_v2 set value = 'STEP-DOWN' where key = 'autonomy.mode';
select tests.act_as('agents');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'SD-1')$$,
  'SY002', 'autonomy_step_down: autonomy.mode is STEP-DOWN; agents@ is read-only to public.parties',
  'in STEP-DOWN a machine cannot write domain data');
select throws_ok($$select app_private.outbox_publish('shipment', 'SD-1', 'shipment.created')$$, 'SY002', null,
  'nor publish events');
select throws_ok($$select * from app_private.lease_acquire('task-2')$$, 'SY002', null, 'nor take new work');
select ok((select count(*) from parties) > 0, 'it still reads');
select tests.act_as('relay');
select lives_ok($$select * from app_private.outbox_claim()$$, 'the relay still delivers what humans published');
select tests.act_as('dispatch@demo-freight.test');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'SD-H')$$,
  'humans keep working in STEP-DOWN');

-------------------------------------------------------------------------------------------
-- DEGRADE: machines keep writing; replays pause (see the outbox tests)
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
update feature_flags_v2 set value = 'DEGRADE' where key = 'autonomy.mode';
select tests.act_as('agents');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'DG-1')$$,
  'in DEGRADE machines still write');
select results_eq($$select emergency_stop, mode, dlq_paused from app_private.rails_state()$$,
  $$values (false, 'DEGRADE', true)$$, 'rails_state reports DEGRADE with DLQ replays paused');
select tests.act_as_owner();
update feature_flags_v2 set value = 'FULL' where key = 'autonomy.mode';

-------------------------------------------------------------------------------------------
-- agents.autonomousEnabled
-------------------------------------------------------------------------------------------
update feature_flags_v2 set value = false where key = 'agents.autonomousEnabled';
select tests.act_as('agents');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'AG-1')$$,
  'SY003', 'agents_disabled: agents.autonomousEnabled is false; agents@ may not write to public.parties',
  'with agents disabled the agents account cannot write');
select tests.act_as('n8n');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'AG-N')$$,
  'other service accounts are not affected');
select tests.act_as_owner();
update feature_flags_v2 set value = true where key = 'agents.autonomousEnabled';
insert into feature_flags_v2 (key, scope, value) values ('agents.autonomousEnabled', 'tenant:d0000000-0000-4000-8000-000000000001', false);
select tests.act_as('agents');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'AG-2')$$,
  'SY003', null, 'agents can be disabled for one tenant');
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('b0000000-0000-4000-8000-00000000000b', 'carrier', 'AG-B')$$,
  'and keep working in the others');

-------------------------------------------------------------------------------------------
-- Portal flags
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
insert into feature_flags_v2 (key, scope, value) values
  ('portal.enabled', 'tenant:d0000000-0000-4000-8000-000000000001:portal:broker', false),
  ('portal.enabled', 'portal:rates', false);
select tests.act_as('dispatch@demo-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "broker"}');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'PT-1')$$,
  'SY004', 'portal_disabled: portal broker is disabled for tenant d0000000-0000-4000-8000-000000000001; no writes to public.parties',
  'a write through a disabled portal fails, for humans too');
select tests.act_as('n8n', 'd0000000-0000-4000-8000-000000000001', '{"portal": "broker"}');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'PT-2')$$,
  'SY004', null, 'and for machines');
select tests.act_as('dispatch@demo-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "carrier"}');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'PT-3')$$,
  'other portals are open');
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b', '{"portal": "broker"}');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('b0000000-0000-4000-8000-00000000000b', 'carrier', 'PT-4')$$,
  'a tenant-scoped portal flag leaves other tenants alone');
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b', '{"portal": "rates"}');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('b0000000-0000-4000-8000-00000000000b', 'carrier', 'PT-6')$$,
  'SY004', null, 'a portal disabled for everyone refuses every tenant');
select tests.act_as_owner();
select results_eq($$select portal_enabled from app_private.rails_state('d0000000-0000-4000-8000-000000000001', 'broker')
                    union all select portal_enabled from app_private.rails_state('d0000000-0000-4000-8000-000000000001', 'carrier')$$,
  $$values (false), (true)$$, 'rails_state reports the portal flag for the edge');

-------------------------------------------------------------------------------------------
-- Every table under the rails carries the guard
-------------------------------------------------------------------------------------------
select is((select coalesce(array_agg(t order by t), '{}') from unnest(array[
             'public.parties', 'public.outbox_events', 'public.outbox_deliveries', 'public.dlq_entries',
             'public.replay_requests', 'public.feature_flags_v2', 'public.cost_ledger', 'public.spans',
             'public.outbox_subscriptions']) t
           where not exists (select 1 from pg_trigger g where g.tgrelid = t::regclass and g.tgname like 'rails_guard%')),
          '{}'::text[], 'domain, outbox, DLQ, flag, cost and span tables carry the rails guard');
select is((select count(*)::int from pg_trigger g join pg_class c on c.oid = g.tgrelid
           where g.tgname like 'rails_guard%' and (g.tgtype & 1) = 1), 0,
          'the guard is statement-level (one flag read per statement, not per row)');

select * from finish();
rollback;
