-- Quarantine and the agents' concurrency slots (issue 12, item 9), in Postgres: a
-- quarantined tenant's agents are refused (domain writes only; deliveries and humans go
-- on), detectors and subscriptions trip at their thresholds, a release is a human's (or
-- the operator's) with a reason, once, and re-queues a subscription's parked events; every
-- agent action holds a budget.agents.maxConcurrent slot.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
alter default privileges grant execute on functions to public;
select plan(36);

-- Quarantine ids by subject, readable whoever the test acts as (RLS hides other tenants' rows).
create temp table qid (subject text primary key, id uuid);
grant select on qid to public;

insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');
insert into public.principals (id, kind, name, display_name) values
  ('f0000000-0000-4000-8000-0000000000b2', 'human', 'lead@other-co.test', 'Lead of Other Co');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('f0000000-0000-4000-8000-0000000000b2', 'ops_manager', 'b0000000-0000-4000-8000-00000000000b');

-------------------------------------------------------------------------------------------
-- A tenant quarantine (the autopilot opens it)
-------------------------------------------------------------------------------------------
select tests.act_as('autopilot', 'b0000000-0000-4000-8000-00000000000b');
select throws_like($$select app_private.quarantine_open('tenant', 'd0000000-0000-4000-8000-000000000001', 'x')$$,
  'bad_request: a tenant quarantine names the claim tenant%', 'a tenant quarantine is of the claim tenant only');
select isnt(app_private.quarantine_open('tenant', 'b0000000-0000-4000-8000-00000000000b', 'SLO breach of tenant alone'), null,
  'the autopilot quarantines the tenant');
select is(app_private.quarantine_open('tenant', 'b0000000-0000-4000-8000-00000000000b', 'again'),
  (select id from public.quarantines where subject = 'b0000000-0000-4000-8000-00000000000b' and released_at is null),
  'opening it again returns the open quarantine');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.quarantine_open('tenant', 'd0000000-0000-4000-8000-000000000001', 'x')$$,
  'SY021', null, 'a human without quarantine.open cannot open one');

select tests.act_as_owner();
insert into qid select subject, id from public.quarantines;
select is((select count(*)::int from public.alerts where tenant_id = 'b0000000-0000-4000-8000-00000000000b'
           and source = 'quarantine.tenant' and severity = 'critical' and resolved_at is null), 1, 'the tenant is alerted');
select is((select quarantined_by from public.quarantines where subject = 'b0000000-0000-4000-8000-00000000000b'), 'autopilot',
  'who quarantined it is recorded');

-- Its request metrics leave the SLO figures: the autopilot's (slo_counts) and those of ops
-- status, the post-deploy gate and prove-green (slo_summary).
insert into public.request_metrics (function_name, portal, tenant_id, minute, count, errors, sum_ms, max_ms,
                                    le_100, le_250, le_500, le_1000, le_1500, le_2500, le_5000, le_10000)
values ('quarantine-test', 'rates', 'b0000000-0000-4000-8000-00000000000b', date_trunc('minute', now()), 10, 10, 100, 10, 10, 10, 10, 10, 10, 10, 10, 10),
       ('quarantine-test', 'rates', 'd0000000-0000-4000-8000-000000000001', date_trunc('minute', now()), 10, 0, 100, 10, 10, 10, 10, 10, 10, 10, 10, 10);
select results_eq($$select requests, errors from public.slo_summary('5 minutes', 'quarantine-test')$$,
  $$values (10::bigint, 0::bigint)$$, 'slo_summary leaves the quarantined tenant''s minutes out');
select results_eq($$select sum(requests)::bigint, sum(errors)::bigint from app_private.slo_counts('5 minutes') where function_name = 'quarantine-test'$$,
  $$values (10::bigint, 0::bigint)$$, 'and so does slo_counts (the autopilot''s gate)');

-- Its agents stand down, in Postgres; its deliveries, its humans and other tenants' agents do not.
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select throws_like($$select app_private.check_rails('domain')$$, 'quarantined: tenant b0000000-0000-4000-8000-00000000000b is quarantined%',
  'agents@ may not write in a quarantined tenant (SY060)');
select throws_ok($$select app_private.action_begin('domain.write')$$, 'SY060', null, 'nor begin an action there');
select lives_ok($$select app_private.check_rails('delivery')$$, 'delivering its committed events goes on');
select tests.act_as('lead@other-co.test', 'b0000000-0000-4000-8000-00000000000b');
select lives_ok($$select app_private.check_rails('domain')$$, 'its humans keep working');
select tests.act_as('agents');
select lives_ok($$select app_private.check_rails('domain')$$, 'other tenants'' agents keep working');

-------------------------------------------------------------------------------------------
-- Release: a human with quarantine.release in the tenant, a reason, once
-------------------------------------------------------------------------------------------
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select throws_ok(format($$select app_private.quarantine_release(%L, 'machines do not')$$,
  (select id from qid where subject = 'b0000000-0000-4000-8000-00000000000b')), 'SY021', null, 'a machine cannot release');
select tests.act_as('ops@demo-freight.test');
select throws_ok(format($$select app_private.quarantine_release(%L, 'not my tenant')$$,
  (select id from qid where subject = 'b0000000-0000-4000-8000-00000000000b')), 'SY021', null,
  'a human of another tenant cannot release');
select tests.act_as('lead@other-co.test', 'b0000000-0000-4000-8000-00000000000b');
select throws_like(format($$select app_private.quarantine_release(%L, ' ')$$,
  (select id from qid where subject = 'b0000000-0000-4000-8000-00000000000b')), 'bad_request: a release needs a reason%',
  'a release needs a reason');
select is((select (app_private.quarantine_release(id, 'bad import fixed')).released_by_name from qid
           where subject = 'b0000000-0000-4000-8000-00000000000b'), 'lead@other-co.test', 'the tenant''s ops manager releases it');
select throws_ok(format($$select app_private.quarantine_release(%L, 'twice')$$,
  (select id from qid where subject = 'b0000000-0000-4000-8000-00000000000b')), 'SY061', null, 'once (already_released)');
select tests.act_as_owner();
select results_eq($$select principal_name, reason from public.audit_log where target_type = 'public.quarantines'
                    and action = 'quarantines.update' and target_id = (select id::text from public.quarantines
                    where subject = 'b0000000-0000-4000-8000-00000000000b')$$,
  $$values ('lead@other-co.test'::text, 'bad import fixed'::text)$$, 'the release is audited with who and why');
select is((select count(*)::int from public.alerts where source = 'quarantine.tenant' and resolved_at is null
           and tenant_id = 'b0000000-0000-4000-8000-00000000000b'), 0, 'the alert is resolved');
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select lives_ok($$select app_private.check_rails('domain')$$, 'released: its agents write again');

-------------------------------------------------------------------------------------------
-- Detectors: quarantine.detector.failures throws in a row
-------------------------------------------------------------------------------------------
select is(app_private.detector_outcome('rates.stale_index', 'boom 1'), null, 'one throw is a streak, not a quarantine');
select is(app_private.detector_outcome('rates.stale_index', null), null, 'a clean run ends the streak');
select is(app_private.detector_outcome('rates.stale_index', 'boom 1'), null, 'a new streak: 1');
select is(app_private.detector_outcome('rates.stale_index', 'boom 2'), null, '2');
select isnt(app_private.detector_outcome('rates.stale_index', 'boom 3'), null, 'the third in a row quarantines it (default 3)');
select tests.act_as_owner();
select is((select reason from public.quarantines where kind = 'detector' and subject = 'rates.stale_index' and released_at is null),
  '3 runs in a row threw: boom 3', 'in that tenant, with why');

-------------------------------------------------------------------------------------------
-- Subscriptions: quarantine.subscription.failures attempts in a row; release re-queues
-------------------------------------------------------------------------------------------
insert into public.outbox_subscriptions (id, tenant_id, name, endpoint_url, secret_ref) values
  ('c0000000-0000-4000-8000-0000000000c1', 'b0000000-0000-4000-8000-00000000000b', 'broken', 'https://broken.example/hook', 'b0000000-0000-4000-8000-00000000000b/broken');
insert into public.feature_flags_v2 (key, scope, value) values ('quarantine.subscription.failures', 'tenant:b0000000-0000-4000-8000-00000000000b', 3);
-- (the streak's duration: every statement of this test runs at the same now(); its default is tested in the relay's tests)
insert into public.feature_flags_v2 (key, scope, value) values ('quarantine.subscription.seconds', 'tenant:b0000000-0000-4000-8000-00000000000b', 0);
insert into public.outbox_events (id, tenant_id, aggregate_type, aggregate_id, event_type) values
  ('e0000000-0000-4000-8000-0000000000e1', 'b0000000-0000-4000-8000-00000000000b', 'test', '1', 'test.parked');
-- Two 5xx and a 429 (the receiver answered: not counted), then a 4xx (neither), then a timeout.
insert into public.outbox_deliveries (tenant_id, event_id, subscription_id, attempt, ok, status_code, error) values
  ('b0000000-0000-4000-8000-00000000000b', 'e0000000-0000-4000-8000-0000000000e1', 'c0000000-0000-4000-8000-0000000000c1', 1, false, 500, 'HTTP 500'),
  ('b0000000-0000-4000-8000-00000000000b', 'e0000000-0000-4000-8000-0000000000e1', 'c0000000-0000-4000-8000-0000000000c1', 2, false, 503, 'HTTP 503'),
  ('b0000000-0000-4000-8000-00000000000b', 'e0000000-0000-4000-8000-0000000000e1', 'c0000000-0000-4000-8000-0000000000c1', 3, false, 429, 'HTTP 429');
insert into public.outbox_deliveries (tenant_id, event_id, subscription_id, attempt, ok, status_code, error) values
  ('b0000000-0000-4000-8000-00000000000b', 'e0000000-0000-4000-8000-0000000000e1', 'c0000000-0000-4000-8000-0000000000c1', 4, false, 400, 'HTTP 400');
select ok(not app_private.is_quarantined('subscription', 'c0000000-0000-4000-8000-0000000000c1'), 'two 5xx (and a 429, a 400): not yet');
insert into public.outbox_deliveries (tenant_id, event_id, subscription_id, attempt, ok, status_code, error) values
  ('b0000000-0000-4000-8000-00000000000b', 'e0000000-0000-4000-8000-0000000000e1', 'c0000000-0000-4000-8000-0000000000c1', 5, false, null, 'timeout after 10000 ms');
select ok(app_private.is_quarantined('subscription', 'c0000000-0000-4000-8000-0000000000c1'), 'the third failure in a row quarantines it');
-- The relay then delivers the event to the others and skips it: the event is parked for it.
update public.outbox_events set state = 'delivered', delivered_at = now() where id = 'e0000000-0000-4000-8000-0000000000e1';
select is(app_private.quarantine_parked((select id from public.quarantines where subject = 'c0000000-0000-4000-8000-0000000000c1')), 1::bigint,
  'one event parked for it');
select is((select (app_private.quarantine_release(id, 'receiver fixed')).release_detail ->> 'requeued' from public.quarantines
           where subject = 'c0000000-0000-4000-8000-0000000000c1'), '1', 'the operator''s session releases it: 1 event re-queued');
select is((select state from public.outbox_events where id = 'e0000000-0000-4000-8000-0000000000e1'), 'pending', 'back to pending, for it alone');

-------------------------------------------------------------------------------------------
-- Every agent action holds a slot of budget.agents.maxConcurrent
-------------------------------------------------------------------------------------------
select tests.act_as('agents');
select lives_ok($$select app_private.action_begin('domain.write')$$, 'an agent''s action begins');
select ok(exists (select 1 from pg_locks where pid = pg_backend_pid() and locktype = 'advisory' and classid = 20261126 and objsubid = 2),
  'and holds one slot until its transaction ends');
select tests.act_as_owner();
update public.feature_flags_v2 set value = '0' where key = 'budget.agents.maxConcurrent' and scope = 'global';
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select throws_like($$select app_private.action_begin('domain.write')$$, 'budget_exhausted: all 0 budget.agents.maxConcurrent slots are in use%',
  'with no slot free an agent''s action is refused (budget_exhausted)');
select tests.act_as('lead@other-co.test', 'b0000000-0000-4000-8000-00000000000b');
select lives_ok($$select app_private.action_begin('domain.write')$$, 'a human''s action takes no slot');

select * from finish();
rollback;
