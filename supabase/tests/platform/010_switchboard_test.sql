-- Switchboard (charter §3): the charter's SQL verbatim, typed reads, scopes and precedence,
-- validation errors, flag history for every change (bare psql included), flag RLS.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
select plan(75);


-------------------------------------------------------------------------------------------
-- The charter's SQL, verbatim, on a switchboard as freshly migrated (no flag rows)
-------------------------------------------------------------------------------------------
delete from feature_flags_v2;
select is((select count(*)::int from feature_flags_v2), 0, 'start from an empty switchboard');

select lives_ok($charter$insert into feature_flags_v2(key,scope,value,reason,owner_name) values
('autonomy.emergencyStop','global',false,'enable autonomy','system'),
('autonomy.mode','global','FULL','full authority mode','system'),
('agents.autonomousEnabled','global',true,'run agents','system'),
('obs.otelEnabled','global',true,'tracing on','system')
on conflict (key,scope) do update set value=excluded.value;$charter$,
  'charter §3 "Global mode & kill switch" runs verbatim');

select lives_ok($charter$insert into feature_flags_v2(key,scope,value,reason,owner_name) values
('budget.agents.maxConcurrent','global',150,'concurrency cap','autopilot'),
('budget.replay.maxBatch','global',50,'dlq cap','dlq'),
('budget.replay.maxPayloadMB','global',2,'payload cap','dlq'),
('rate.replay.per5m','global',3,'rate limit','dlq')
on conflict (key,scope) do update set value=excluded.value;$charter$,
  'charter §3 "Budgets / safety rails" runs verbatim');

-- Idempotent: the same fragments again take the ON CONFLICT path.
select lives_ok($charter$insert into feature_flags_v2(key,scope,value,reason,owner_name) values
('autonomy.emergencyStop','global',false,'enable autonomy','system'),
('autonomy.mode','global','FULL','full authority mode','system'),
('agents.autonomousEnabled','global',true,'run agents','system'),
('obs.otelEnabled','global',true,'tracing on','system')
on conflict (key,scope) do update set value=excluded.value;$charter$,
  'the first fragment is idempotent');
select lives_ok($charter$insert into feature_flags_v2(key,scope,value,reason,owner_name) values
('budget.agents.maxConcurrent','global',150,'concurrency cap','autopilot'),
('budget.replay.maxBatch','global',50,'dlq cap','dlq'),
('budget.replay.maxPayloadMB','global',2,'payload cap','dlq'),
('rate.replay.per5m','global',3,'rate limit','dlq')
on conflict (key,scope) do update set value=excluded.value;$charter$,
  'the second fragment is idempotent');
select is((select count(*)::int from feature_flags_v2), 8, 'eight switchboard rows');

-- Typed reads: false, 'FULL', true, true, 150, 50, 2, 3
select is(flag_value('autonomy.emergencyStop'),      'false'::jsonb,  'autonomy.emergencyStop reads false (boolean)');
select is(flag_value('autonomy.mode'),               '"FULL"'::jsonb, 'autonomy.mode reads ''FULL'' (string)');
select is(flag_value('agents.autonomousEnabled'),    'true'::jsonb,   'agents.autonomousEnabled reads true');
select is(flag_value('obs.otelEnabled'),             'true'::jsonb,   'obs.otelEnabled reads true');
select is(flag_value('budget.agents.maxConcurrent'), '150'::jsonb,    'budget.agents.maxConcurrent reads 150 (number)');
select is(flag_value('budget.replay.maxBatch'),      '50'::jsonb,     'budget.replay.maxBatch reads 50');
select is(flag_value('budget.replay.maxPayloadMB'),  '2'::jsonb,      'budget.replay.maxPayloadMB reads 2');
select is(flag_value('rate.replay.per5m'),           '3'::jsonb,      'rate.replay.per5m reads 3');
select results_eq(
  $$select key, jsonb_typeof(value), value from feature_flags_typed where scope = 'global' order by key$$,
  $$values ('agents.autonomousEnabled', 'boolean', 'true'::jsonb), ('autonomy.emergencyStop', 'boolean', 'false'),
           ('autonomy.mode', 'string', '"FULL"'), ('budget.agents.maxConcurrent', 'number', '150'),
           ('budget.replay.maxBatch', 'number', '50'), ('budget.replay.maxPayloadMB', 'number', '2'),
           ('obs.otelEnabled', 'boolean', 'true'), ('rate.replay.per5m', 'number', '3')$$,
  'the typed view returns booleans, strings and numbers');

-- Status check (charter, verbatim)
select set_eq(
  $charter$SELECT key, value FROM feature_flags_v2 WHERE key IN ('autonomy.emergencyStop', 'autonomy.mode', 'agents.autonomousEnabled');$charter$,
  $$values ('autonomy.emergencyStop', 'false'), ('autonomy.mode', 'FULL'), ('agents.autonomousEnabled', 'true')$$,
  'the charter''s status check shows the three activation flags');

-- Emergency stop (charter §3 fragment and the psql one-liner), then resume, verbatim.
select lives_ok($charter$update feature_flags_v2
set value=true
where key='autonomy.emergencyStop' and scope='global';$charter$, 'charter §3 "Emergency stop" runs verbatim');
select is(flag_value('autonomy.emergencyStop'), 'true'::jsonb, 'after the stop command emergencyStop reads true');
select lives_ok($charter$update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';$charter$,
  'the resume command runs verbatim');
select is(flag_value('autonomy.emergencyStop'), 'false'::jsonb, 'after resume emergencyStop reads false');
select lives_ok($charter$update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global';$charter$,
  'the one-command stop (psql one-liner) runs verbatim');
select is(flag_value('autonomy.emergencyStop'), 'true'::jsonb, 'after the one-liner emergencyStop reads true');
update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';

-------------------------------------------------------------------------------------------
-- History: every change, including a bare UPDATE by the session, with who/when/old/new/reason
-------------------------------------------------------------------------------------------
create temp table h_before as select count(*) as n from feature_flag_history;
set local app.reason = 'incident 42: halt agents';
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop' and scope = 'global';
reset app.reason;
select results_eq(
  $$select op, old_value, new_value, reason, changed_by, db_user, principal_id is null
    from feature_flag_history where key = 'autonomy.emergencyStop' order by changed_at desc limit 1$$,
  format($$values ('update', 'false', 'true', 'incident 42: halt agents', %L, %L, true)$$, session_user, session_user),
  'a bare psql UPDATE lands in the flag history with the session''s identity, old, new and reason');
select ok((select changed_at from feature_flag_history where key = 'autonomy.emergencyStop'
           order by changed_at desc limit 1) between now() and clock_timestamp(), 'the history row says when');
select results_eq(
  $$select action, target_id, db_user, before ->> 'value', after ->> 'value', reason, tenant_id is null
    from audit_log where action = 'flag.update' order by chain_seq desc limit 1$$,
  format($$values ('flag.update', 'autonomy.emergencyStop@global', %L, 'false', 'true', 'incident 42: halt agents', true)$$,
         session_user),
  'the same change is in the audit log');
select is((select count(*) from feature_flag_history) - (select n from h_before), 1::bigint, 'one history row per change');
update feature_flags_v2 set value = 'true' where key = 'autonomy.emergencyStop';
select is((select count(*) from feature_flag_history) - (select n from h_before), 1::bigint,
          'an UPDATE that changes nothing is not a change');
update feature_flags_v2 set value = false where key = 'autonomy.emergencyStop';

-- A change through the API carries the principal.
select tests.act_as('super@switchyard.test', null);
update feature_flags_v2 set value = 'STEP-DOWN', reason = 'drill' where key = 'autonomy.mode';
select tests.act_as_owner();
select results_eq(
  $$select old_value, new_value, reason, changed_by, principal_id from feature_flag_history
    where key = 'autonomy.mode' order by changed_at desc limit 1$$,
  $$values ('FULL', 'STEP-DOWN', 'drill', 'super@switchyard.test', 'e0000000-0000-4000-8000-000000000001'::uuid)$$,
  'a change by a JWT principal records the principal');
select is((select db_user from feature_flag_history where key = 'autonomy.mode' order by changed_at desc limit 1),
          session_user || ' as authenticated', 'and the database role it ran as');
update feature_flags_v2 set value = 'FULL' where key = 'autonomy.mode';

-------------------------------------------------------------------------------------------
-- Bad input: specific errors
-------------------------------------------------------------------------------------------
select throws_ok($$update feature_flags_v2 set value = 'maybe' where key = 'autonomy.emergencyStop'$$,
  'SY012', 'bad_flag_value: autonomy.emergencyStop is a boolean; "maybe" is not true or false',
  'a non-boolean for a boolean flag');
select throws_ok($$update feature_flags_v2 set value = 'FOO' where key = 'autonomy.mode'$$,
  'SY012', 'bad_flag_value: autonomy.mode must be one of FULL, DEGRADE, STEP-DOWN (got "FOO")',
  'a mode that does not exist');
select throws_ok($$update feature_flags_v2 set value = -5 where key = 'budget.agents.maxConcurrent'$$,
  'SY012', 'bad_flag_value: budget.agents.maxConcurrent is a budget and cannot be negative (got -5)',
  'a negative budget');
select throws_ok($$insert into feature_flags_v2(key,scope,value,reason,owner_name) values
  ('budget.replay.maxBatch','global',-1,'oops','dlq') on conflict (key,scope) do update set value=excluded.value$$,
  'SY012', 'bad_flag_value: budget.replay.maxBatch is a budget and cannot be negative (got -1)',
  'a negative budget through the charter''s upsert');
select throws_ok($$update feature_flags_v2 set value = 'lots' where key = 'budget.replay.maxBatch'$$,
  'SY012', 'bad_flag_value: budget.replay.maxBatch is an integer; "lots" is not one', 'a non-number for an integer flag');
select throws_ok($$update feature_flags_v2 set value = 2.5 where key = 'rate.replay.per5m'$$,
  'SY012', 'bad_flag_value: rate.replay.per5m is an integer; "2.5" is not one', 'a fraction for an integer flag');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('canary.percent', 'global', 101)$$,
  'SY012', 'bad_flag_value: canary.percent must be between 0 and 100 (got 101)', 'a value out of range');
select throws_ok($$update feature_flags_v2 set value = null where key = 'obs.otelEnabled'$$,
  'SY012', 'bad_flag_value: obs.otelEnabled needs a value', 'a missing value');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('autonomy.emergencyStpo', 'global', true)$$,
  'SY010', null, 'an unknown flag key');
select throws_like($$insert into feature_flags_v2 (key, scope, value) values ('autonomy.emergencyStpo', 'global', true)$$,
  'unknown_flag: no flag named "autonomy.emergencyStpo"; known flags: %', 'the unknown key is named');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'tenant:', false)$$,
  'SY011', 'bad_flag_scope: scope "tenant:" names no tenant; use tenant:<uuid>', 'a scope that names no tenant');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'tenant::portal:rates', false)$$,
  'SY011', 'bad_flag_scope: scope "tenant::portal:rates" names no tenant; use tenant:<uuid>', 'a tenant+portal scope that names no tenant');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'tenant:acme', false)$$,
  'SY011', 'bad_flag_scope: scope "tenant:acme" does not name a tenant: "acme" is not a tenant uuid', 'a tenant that is not a uuid');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'tenant:00000000-0000-4000-8000-00000000dead', false)$$,
  'SY011', 'bad_flag_scope: scope "tenant:00000000-0000-4000-8000-00000000dead" names no existing tenant', 'a tenant that does not exist');
select throws_like($$insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'portal:nope', false)$$,
  'bad_flag_scope: scope "portal:nope" names unknown portal "nope"; portals: super_admin, admin, %', 'an unknown portal');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'galaxy', false)$$,
  'SY011', 'bad_flag_scope: "galaxy" is not a scope; use global, tenant:<uuid>, portal:<name> or tenant:<uuid>:portal:<name>',
  'a malformed scope');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('autonomy.emergencyStop', 'tenant:d0000000-0000-4000-8000-000000000001', true)$$,
  'SY011', 'bad_flag_scope: autonomy.emergencyStop can only be set at scope global (got "tenant:d0000000-0000-4000-8000-000000000001")',
  'the kill switch is global only');

-- Values are normalized to one spelling.
insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'portal:edi', 'OFF');
select is((select value from feature_flags_v2 where key = 'portal.enabled' and scope = 'portal:edi'), 'false', '''OFF'' is stored as false');
update feature_flags_v2 set value = 'step-down' where key = 'autonomy.mode';
select is((select value from feature_flags_v2 where key = 'autonomy.mode'), 'STEP-DOWN', 'modes are matched case-insensitively');
update feature_flags_v2 set value = 'FULL' where key = 'autonomy.mode';
update feature_flags_v2 set value = '2.50' where key = 'budget.replay.maxPayloadMB';
select is(flag_value('budget.replay.maxPayloadMB'), '2.5'::jsonb, 'numbers are stored canonically');

-------------------------------------------------------------------------------------------
-- Scopes: most specific wins (tenant+portal > tenant > portal > global > default)
-------------------------------------------------------------------------------------------
insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');
select is(flag_value('obs.otelEnabled', 'd0000000-0000-4000-8000-000000000001', 'rates'), 'true'::jsonb, 'global applies everywhere');
insert into feature_flags_v2 (key, scope, value) values ('obs.otelEnabled', 'portal:rates', false);
select is(flag_value('obs.otelEnabled', 'd0000000-0000-4000-8000-000000000001', 'rates'), 'false'::jsonb, 'a portal value beats global');
select is(flag_value('obs.otelEnabled', 'd0000000-0000-4000-8000-000000000001', 'broker'), 'true'::jsonb, 'only for that portal');
insert into feature_flags_v2 (key, scope, value) values ('obs.otelEnabled', 'tenant:d0000000-0000-4000-8000-000000000001', true);
select is(flag_value('obs.otelEnabled', 'd0000000-0000-4000-8000-000000000001', 'rates'), 'true'::jsonb, 'a tenant value beats a portal value');
select is(flag_value('obs.otelEnabled', 'b0000000-0000-4000-8000-00000000000b', 'rates'), 'false'::jsonb, 'only for that tenant');
insert into feature_flags_v2 (key, scope, value) values ('obs.otelEnabled', 'tenant:d0000000-0000-4000-8000-000000000001:portal:rates', false);
select is(flag_value('obs.otelEnabled', 'd0000000-0000-4000-8000-000000000001', 'rates'), 'false'::jsonb, 'tenant+portal beats tenant');
select is(flag_value('obs.otelEnabled', 'd0000000-0000-4000-8000-000000000001', 'broker'), 'true'::jsonb, 'and is as narrow as it says');
select is(flag_value('canary.percent'), '0'::jsonb, 'a flag without rows reads its definition''s default');
select results_eq(
  $$select value, scope from flags_effective('d0000000-0000-4000-8000-000000000001', 'rates') where key = 'obs.otelEnabled'$$,
  $$values ('false'::jsonb, 'tenant:d0000000-0000-4000-8000-000000000001:portal:rates')$$,
  'flags_effective names the scope that won');
select is((select count(*)::int from flags_effective()), (select count(*)::int from flag_definitions),
          'flags_effective returns every flag in one call');

-------------------------------------------------------------------------------------------
-- Who may change which flag (RLS from flag_definitions.write_permission)
-------------------------------------------------------------------------------------------
select tests.act_as('admin@demo-freight.test');
select lives_ok($$insert into feature_flags_v2 (key, scope, value, reason) values
  ('portal.enabled', 'tenant:d0000000-0000-4000-8000-000000000001:portal:broker', false, 'maintenance')$$,
  'tenant_admin disables a portal of its own tenant');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'portal:broker', false)$$,
  '42501', null, 'tenant_admin cannot disable a portal for everyone');
select throws_ok($$insert into feature_flags_v2 (key, scope, value) values
  ('portal.enabled', 'tenant:b0000000-0000-4000-8000-00000000000b:portal:broker', false)$$,
  '42501', null, 'tenant_admin cannot touch another tenant''s portals');
update feature_flags_v2 set value = 'DEGRADE' where key = 'autonomy.mode';
select tests.act_as_owner();
select is(flag_value('autonomy.mode'), '"FULL"'::jsonb, 'tenant_admin cannot change the mode');

select tests.act_as('autopilot');
select lives_ok($$insert into feature_flags_v2 (key, scope, value) values ('canary.percent', 'portal:rates', 10)$$,
  'autopilot flips a canary flag');
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop';
select tests.act_as('system');
update feature_flags_v2 set value = 'DEGRADE' where key = 'autonomy.mode';
select tests.act_as_owner();
select is(flag_value('autonomy.emergencyStop'), 'false'::jsonb, 'autopilot cannot flip the kill switch');
select is(flag_value('autonomy.mode'), '"FULL"'::jsonb, 'system cannot change the mode (emergencyStop only)');
select tests.act_as('system');
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop';
select tests.act_as_owner();
select is(flag_value('autonomy.emergencyStop'), 'true'::jsonb, 'system flips the kill switch');
select is((select changed_by from feature_flag_history where key = 'autonomy.emergencyStop' order by changed_at desc limit 1),
          'system', 'recorded as system');
update feature_flags_v2 set value = false where key = 'autonomy.emergencyStop';
select tests.act_as('ci');
update feature_flags_v2 set value = false where key = 'agents.autonomousEnabled';
select tests.act_as_owner();
select is(flag_value('agents.autonomousEnabled'), 'false'::jsonb, 'ci disables agents (self-heal gate)');

-- Reads: global rows for every principal, tenant rows within the tenant only.
insert into feature_flags_v2 (key, scope, value) values ('portal.enabled', 'tenant:b0000000-0000-4000-8000-00000000000b:portal:crm', false);
select tests.act_as('viewer@demo-freight.test');
select ok((select count(*) from feature_flags_v2 where scope = 'global') = 8, 'a viewer reads the global flags');
select is((select count(*)::int from feature_flags_v2 where tenant_id = 'b0000000-0000-4000-8000-00000000000b'), 0,
          'but not another tenant''s flags');
select throws_ok($$select flag_value('portal.enabled', 'b0000000-0000-4000-8000-00000000000b', 'crm')$$,
  'SY021', null, 'nor another tenant''s values through flag_value');
select is(flag_value('portal.enabled', 'd0000000-0000-4000-8000-000000000001', 'broker'), 'false'::jsonb,
          'a tenant member reads its tenant''s effective values');
select is((select count(*)::int from feature_flag_history where tenant_id = 'b0000000-0000-4000-8000-00000000000b'), 0,
          'nor another tenant''s flag history');
select tests.act_as_owner();
select ok(not has_function_privilege('anon', 'public.flag_value(text, uuid, text)', 'execute'), 'anon cannot read flags');

select * from finish();
rollback;
