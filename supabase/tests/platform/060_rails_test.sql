-- Rails: idempotency (new / in_flight / mismatch / replay, 24 h), GCRA rate limiting,
-- concurrency leases against budget.agents.maxConcurrent, webhook nonces, cost ledger.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;
select plan(69);

create function pg_temp.idem(k text, fp text) returns text language sql as $$
  select outcome from app_private.idempotency_begin(k, fp)
$$;

insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');

-------------------------------------------------------------------------------------------
-- Idempotency
-------------------------------------------------------------------------------------------
select tests.act_as('agents');
select is(pg_temp.idem('order-1', 'fp-a'), 'new', 'a first key is new');
select ok((select expires_at between now() + interval '23 hours 59 minutes' and now() + interval '24 hours'
           from app_private.idempotency_begin('order-1', 'fp-a')), 'records live 24 hours');
select is(pg_temp.idem('order-1', 'fp-a'), 'in_flight', 'the same request while the first runs is in_flight (409)');
select is(pg_temp.idem('order-1', 'fp-b'), 'mismatch', 'the key with another payload is a mismatch (422)');
select lives_ok($$select app_private.idempotency_complete('order-1', 201, '{"id": 7}')$$, 'the response is stored');
select results_eq($$select outcome, response_status, response_body from app_private.idempotency_begin('order-1', 'fp-a')$$,
  $$values ('replay', 201, '{"id": 7}'::jsonb)$$, 'a retry replays the stored response');
select is(pg_temp.idem('order-1', 'fp-b'), 'mismatch', 'a completed key with another payload is still a mismatch');
select tests.act_as('n8n');
select is(pg_temp.idem('order-1', 'fp-z'), 'new', 'keys are per principal');
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select is(pg_temp.idem('order-1', 'fp-z'), 'new', 'and per tenant');
select tests.act_as_owner();
update idempotency_keys set expires_at = now() - interval '1 second' where key = 'order-1';
select tests.act_as('agents');
select is(pg_temp.idem('order-1', 'fp-new'), 'new', 'after 24 hours the key starts afresh');
select is(pg_temp.idem('job-2', 'fp'), 'new', 'another key');
select tests.act_as_owner();
update idempotency_keys set locked_until = now() - interval '1 second' where key = 'job-2';
select tests.act_as('agents');
select is(pg_temp.idem('job-2', 'fp'), 'new', 'an abandoned in-flight key (lock expired) is taken over');
select is(pg_temp.idem('job-3', 'fp'), 'new', 'a key taken by this session');
select is(pg_temp.idem('job-3', 'fp'), 'in_flight', 'is in flight while its session runs (and its lock holds)');
select tests.act_as_owner();
update idempotency_keys set holder_pid = 2147483647 where key = 'job-3';
select tests.act_as('agents');
select is(pg_temp.idem('job-3', 'fp'), 'new', 'an in-flight key whose session is gone is taken over at once (issue 12 item 5)');
select tests.act_as_owner();
update idempotency_keys set holder_pid = pg_backend_pid(), holder_started = holder_started - interval '1 hour' where key = 'job-3';
select tests.act_as('agents');
select is(pg_temp.idem('job-3', 'fp'), 'new', 'and so is one whose pid now belongs to another session (pid reuse)');
select ok(app_private.idempotency_abandon('job-2') and pg_temp.idem('job-2', 'fp-other') = 'new',
          'an explicitly abandoned key starts afresh');
select throws_ok($$select app_private.idempotency_complete('never-begun', 200, '{}')$$, 'SY017',
  'bad_request: no in-flight idempotency record for key "never-begun"', 'completing an unknown key is an error');
select throws_ok($$select * from app_private.idempotency_begin('', 'fp')$$, 'SY016',
  'bad_idempotency_key: Idempotency-Key is missing', 'an empty key is refused (400)');
select throws_ok($$select * from app_private.idempotency_begin(null, 'fp')$$, 'SY016', null, 'a missing key is refused');
select throws_ok(format('select * from app_private.idempotency_begin(%L, %L)', repeat('k', 300), 'fp'), 'SY016',
  'bad_idempotency_key: Idempotency-Key is 300 characters; the maximum is 255', 'a key over 255 characters is refused');
select throws_ok($$select * from app_private.idempotency_begin('two words', 'fp')$$, 'SY016',
  'bad_idempotency_key: Idempotency-Key must be printable ASCII without spaces', 'a key with spaces is refused');
select tests.act_as('dispatch@demo-freight.test');
select is((select count(*)::int from idempotency_keys), 0, 'idempotency records are not readable without rails.read');
select throws_ok($$insert into idempotency_keys (principal_id, key, fingerprint, state) values (gen_random_uuid(), 'x', 'y', 'completed')$$,
  '42501', null, 'nor writable directly');

-------------------------------------------------------------------------------------------
-- Rate limiting (GCRA): 3 per 5 minutes
-- (an internal rail: the edge's own session, service_role and the definer functions that
-- take it; API principals cannot call it: 090_function_sweep_test)
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
select results_eq($$select allowed, remaining from app_private.rate_limit_take('replay', 'tenant:A', 3, 300)$$,
  $$values (true, 2)$$, '1st of 3 per 5 minutes');
select results_eq($$select allowed, remaining from app_private.rate_limit_take('replay', 'tenant:A', 3, 300)$$,
  $$values (true, 1)$$, '2nd');
select results_eq($$select allowed, remaining from app_private.rate_limit_take('replay', 'tenant:A', 3, 300)$$,
  $$values (true, 0)$$, '3rd');
select results_eq($$select allowed, remaining, retry_after_seconds between 99 and 100
                    from app_private.rate_limit_take('replay', 'tenant:A', 3, 300)$$,
  $$values (false, 0, true)$$, 'the 4th is refused with retry_after (one more every 100 s)');
select results_eq($$select allowed from app_private.rate_limit_take('replay', 'ip:203.0.113.7', 3, 300)$$,
  $$values (true)$$, 'another subject has its own budget');
select throws_like($$select app_private.rate_limit_take_or_raise('replay', 'tenant:A', 3, 300)$$,
  'rate_limited: replay for tenant:A: 3 per 300 s; retry after % s', 'the raising form fails with rate_limited');
select throws_ok($$select app_private.rate_limit_take_or_raise('replay', 'tenant:A', 3, 300)$$, 'SY005', null,
  'with SQLSTATE SY005');
select tests.act_as_owner();
update rate_limits set tat = tat - interval '100 seconds' where bucket = 'replay' and subject = 'tenant:A';
select results_eq($$select allowed from app_private.rate_limit_take('replay', 'tenant:A', 3, 300)
                    union all select allowed from app_private.rate_limit_take('replay', 'tenant:A', 3, 300)$$,
  $$values (true), (false)$$, '100 seconds later exactly one more request is allowed');
select results_eq($$select allowed from app_private.rate_limit_take('closed', 'x', 0, 60)$$, $$values (false)$$,
  'a limit of 0 allows nothing');
select throws_ok($$select * from app_private.rate_limit_take('replay', 'x', 3, 0)$$, 'SY017',
  'bad_request: rate window must be >= 1 second (got 0)', 'a zero window is refused');
select throws_ok($$select * from app_private.rate_limit_take('replay', 'x', -1, 60)$$, 'SY017',
  'bad_request: rate limit must be >= 0 (got -1)', 'a negative limit is refused');

-------------------------------------------------------------------------------------------
-- Concurrency leases: budget.agents.maxConcurrent, atomically, with expiry
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
update feature_flags_v2 set value = 2 where key = 'budget.agents.maxConcurrent' and scope = 'global';
select tests.act_as('agents');
create temp table l1 as select * from app_private.lease_acquire('task-1', 60);
select results_eq($$select granted, active, cap from l1$$, $$values (true, 1, 2)$$, 'a lease within the budget is granted');
select results_eq($$select granted, active from app_private.lease_acquire('task-2', 60)$$, $$values (true, 2)$$, 'a second');
select results_eq($$select granted, active, cap, retry_after_seconds between 1 and 60 from app_private.lease_acquire('task-3', 60)$$,
  $$values (false, 2, 2, true)$$, 'the third is refused: the cap is held, with a retry hint');
select results_eq($$select granted, lease_id = (select lease_id from l1) from app_private.lease_acquire('task-1', 120)$$,
  $$values (true, true)$$, 'the same holder renews its lease instead of taking another');
select ok(app_private.lease_release((select lease_id from l1)), 'a lease is released');
select results_eq($$select granted from app_private.lease_acquire('task-3', 60)$$, $$values (true)$$, 'which frees a slot');
select tests.act_as_owner();
update concurrency_leases set expires_at = now() - interval '1 second';
select tests.act_as('agents');
select results_eq($$select granted, active from app_private.lease_acquire('task-4', 60)$$, $$values (true, 1)$$,
  'expired leases are reaped before counting');
select ok(app_private.lease_renew((select lease_id from app_private.lease_acquire('task-5', 5)), 30) > now() + interval '20 seconds',
  'a lease can be renewed');
select tests.act_as_owner();
update feature_flags_v2 set value = 1 where key = 'budget.agents.maxConcurrent' and scope = 'global';
select tests.act_as('agents');
select results_eq($$select granted, cap from app_private.lease_acquire('task-6', 60)$$, $$values (false, 1)$$,
  'lowering the budget (DEGRADE downshift) refuses new leases at once');
select tests.act_as_owner();
delete from concurrency_leases;
update feature_flags_v2 set value = 10 where key = 'budget.agents.maxConcurrent' and scope = 'global';
insert into feature_flags_v2 (key, scope, value) values ('budget.agents.maxConcurrent', 'tenant:d0000000-0000-4000-8000-000000000001', 1);
select tests.act_as('agents');
select results_eq($$select granted from app_private.lease_acquire('a-1', 60) union all select granted from app_private.lease_acquire('a-2', 60)$$,
  $$values (true), (false)$$, 'a tenant-scoped budget caps that tenant''s share');
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select results_eq($$select granted from app_private.lease_acquire('b-1', 60)$$, $$values (true)$$, 'other tenants use the global budget');
select tests.act_as_owner();
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('budget.agents.maxConcurrent', 'tenant:b0000000-0000-4000-8000-00000000000b', -3)$$,
  'SY012', 'bad_flag_value: budget.agents.maxConcurrent is a budget and cannot be negative (got -3)', 'a negative budget is refused');
select tests.act_as('agents');
select throws_like($$select * from app_private.lease_acquire('x', 60, 'gpus')$$, 'unknown_flag: no flag named "budget.gpus.maxConcurrent"%',
  'a pool without a budget flag is refused');
select throws_ok($$select * from app_private.lease_acquire('x', 0)$$, 'SY017', 'bad_request: lease ttl must be 1..3600 s (got 0)',
  'a zero ttl is refused');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select * from app_private.lease_acquire('x', 60)$$, 'SY021', null, 'humans without leases.acquire cannot take leases');

-------------------------------------------------------------------------------------------
-- Webhook nonces: single use within the tolerance window
-- (an internal rail, like the rate limit: action_begin takes it)
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
select ok(app_private.webhook_nonce_use('n8n', 'nonce-0001', now()), 'a fresh nonce is accepted');
select ok(not app_private.webhook_nonce_use('n8n', 'nonce-0001', now()), 'the same nonce again is refused');
select ok(app_private.webhook_nonce_use('stripe', 'nonce-0001', now()), 'nonces are per source');
select throws_like($$select app_private.webhook_nonce_use('n8n', 'nonce-0002', now() - interval '10 minutes')$$,
  'webhook_timestamp_skew: timestamp is 60% s away from now; tolerance is 300 s', 'a stale timestamp is refused');
select throws_ok($$select app_private.webhook_nonce_use('n8n', 'nonce-0003', now() + interval '10 minutes')$$, 'SY019', null,
  'so is one from the future');
select throws_ok($$select app_private.webhook_nonce_use('n8n', 'short', now())$$, 'SY017', null, 'a short nonce is refused');
select tests.act_as_owner();
update webhook_nonces set expires_at = now() - interval '1 second' where nonce = 'nonce-0001' and source = 'n8n';
select ok(app_private.webhook_nonce_use('n8n', 'nonce-0001', now()), 'an expired record no longer blocks (its timestamp could not pass anyway)');

-------------------------------------------------------------------------------------------
-- Cost ledger with ceilings
-------------------------------------------------------------------------------------------
-- in a tenant of this file's own: the agents' actions charge the demo tenant's ledger
-- while the suite runs (budget.cost.agentActionUSD, issue 17)
insert into public.principals (id, kind, name, display_name) values
  ('f0000000-0000-4000-8000-0000000000c1', 'human', 'finance@other-co.test', 'Finance of Other Co'),
  ('f0000000-0000-4000-8000-0000000000c2', 'human', 'dispatch@other-co.test', 'Dispatch of Other Co');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('f0000000-0000-4000-8000-0000000000c1', 'finance_manager', 'b0000000-0000-4000-8000-00000000000b'),
  ('f0000000-0000-4000-8000-0000000000c2', 'dispatcher', 'b0000000-0000-4000-8000-00000000000b');
insert into feature_flags_v2 (key, scope, value) values ('budget.cost.dailyUSD', 'tenant:b0000000-0000-4000-8000-00000000000b', 10);
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select results_eq($$select replayed, spent_today, daily_ceiling from app_private.cost_charge('b0000000-0000-4000-8000-00000000000b', 4, 'llm', 'run-1')$$,
  $$values (false, 4::numeric, 10::numeric)$$, 'a charge within the ceiling is booked');
select results_eq($$select replayed, spent_today from app_private.cost_charge('b0000000-0000-4000-8000-00000000000b', 4, 'llm', 'run-1')$$,
  $$values (true, 4::numeric)$$, 'the same reference is not charged twice');
select results_eq($$select spent_today from app_private.cost_charge('b0000000-0000-4000-8000-00000000000b', 5.5, 'sms')$$,
  $$values (9.5::numeric)$$, 'charges add up per tenant and day');
select throws_like($$select * from app_private.cost_charge('b0000000-0000-4000-8000-00000000000b', 1, 'llm')$$,
  'budget_exhausted: tenant b0000000-0000-4000-8000-00000000000b would spend 10.5% USD today; budget.cost.dailyUSD is 10',
  'a charge over the ceiling is refused');
select throws_ok($$select * from app_private.cost_charge('b0000000-0000-4000-8000-00000000000b', 1, 'llm')$$, 'SY006', null,
  'with budget_exhausted (SY006)');
select throws_ok($$select * from app_private.cost_charge('b0000000-0000-4000-8000-00000000000b', -1, 'llm')$$, 'SY017',
  'bad_request: amount_usd cannot be negative or missing (got -1)', 'a negative charge is refused');
select tests.act_as_owner();
select throws_ok($$update feature_flags_v2 set value = -10 where key = 'budget.cost.dailyUSD'$$, 'SY012',
  'bad_flag_value: budget.cost.dailyUSD is a budget and cannot be negative (got -10)', 'a negative ceiling is refused');
select tests.act_as('dispatch@other-co.test', 'b0000000-0000-4000-8000-00000000000b');
select throws_ok($$select * from app_private.cost_charge('b0000000-0000-4000-8000-00000000000b', 1, 'llm')$$, 'SY021', null,
  'a dispatcher cannot charge the ledger');
select tests.act_as('finance@other-co.test', 'b0000000-0000-4000-8000-00000000000b');
select is((select sum(amount_usd) from cost_ledger), 9.5::numeric, 'finance reads the tenant''s ledger');
select tests.act_as('viewer@demo-freight.test');
select is((select count(*)::int from cost_ledger), 0, 'a viewer does not');

-------------------------------------------------------------------------------------------
-- Stale state cleanup
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
update idempotency_keys set expires_at = now() - interval '1 second';
update concurrency_leases set expires_at = now() - interval '1 second';
select results_eq($$select what, removed > 0 from ops.cleanup_rails() where what in ('idempotency_keys', 'concurrency_leases')$$,
  $$values ('idempotency_keys', true), ('concurrency_leases', true)$$, 'cleanup removes expired idempotency records and leases');
select ok(not exists (select 1 from idempotency_keys) and not exists (select 1 from concurrency_leases), 'none are left');

select * from finish();
rollback;
