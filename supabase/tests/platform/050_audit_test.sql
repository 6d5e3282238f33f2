-- Audit (charter §9): every admin/agent action produces an audit row with principal,
-- action, target, before/after, trace id, span id and IP; the log is append-only for every
-- role (service_role and the owner included); a per-tenant hash chain that
-- app_private.audit_verify() checks detects rows altered or removed by a superuser.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
select plan(30);


insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');

-------------------------------------------------------------------------------------------
-- Rows: who, what, target, before/after, trace, IP
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@demo-freight.test');
select set_config('request.headers', '{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "x-forwarded-for": "203.0.113.7, 10.0.0.1"}', true);
insert into parties (tenant_id, kind, name, mc_number, status) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'AU-1', '900001', 'active');
update parties set status = 'suspended' where name = 'AU-1';
select tests.act_as_owner();
create temp table au as select id from parties where name = 'AU-1';

select results_eq(
  $$select action, target_type, principal_name, principal_kind, after ->> 'mc_number', trace_id, span_id, ip,
           tenant_id, chain_id = tenant_id
    from audit_log where target_id = (select id::text from au) and action = 'parties.insert'$$,
  $$values ('parties.insert', 'public.parties', 'dispatch@demo-freight.test', 'human', '900001',
            '4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', '203.0.113.7'::inet,
            'd0000000-0000-4000-8000-000000000001'::uuid, true)$$,
  'a domain insert is audited with principal, target, trace id, span id and client IP');
select results_eq(
  $$select before ->> 'status', after ->> 'status' from audit_log
    where target_id = (select id::text from au) and action = 'parties.update'$$,
  $$values ('active', 'suspended')$$, 'an update is audited with before and after');

select tests.act_as('agents');
select lives_ok($$select app_private.audit_event('agent.task.completed', 'task', 't-42', null, '{"ok": true}', 'nightly run')$$,
  'the edge audits an agent action in one call');
select tests.act_as_owner();
select results_eq(
  $$select principal_name, principal_kind, action, target_id, after, reason from audit_log
    where action = 'agent.task.completed'$$,
  $$values ('agents', 'machine', 'agent.task.completed', 't-42', '{"ok": true}'::jsonb, 'nightly run')$$,
  'an agent action is audited as the machine principal');
select ok(not has_function_privilege('anon', 'app_private.audit_event(text, text, text, jsonb, jsonb, text, uuid)', 'execute'),
  'anon cannot write audit rows');
select set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000000ff", "role": "authenticated"}', true);
select throws_ok($$select app_private.audit_event('forged.action')$$, 'SY022', null, 'an unknown principal cannot write audit rows');
select tests.act_as_owner();

-------------------------------------------------------------------------------------------
-- Append-only, for every role
-------------------------------------------------------------------------------------------
select throws_ok($$update audit_log set action = 'x' where action = 'parties.insert'$$,
  'SY020', 'audit_append_only: UPDATE is not allowed; the audit log is append-only', 'the owner (superuser) cannot update audit rows');
select throws_ok($$delete from audit_log where action = 'parties.insert'$$,
  'SY020', 'audit_append_only: DELETE is not allowed; the audit log is append-only', 'nor delete them');
select throws_ok($$truncate audit_log$$, 'SY020', null, 'nor truncate the log');
select throws_ok(format('truncate app_partitions.%I',
                        (select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
                         where i.inhparent = 'public.audit_log'::regclass order by c.relname limit 1)),
  'SY020', null, 'nor truncate a partition directly');

select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true);
select throws_ok($$update audit_log set action = 'x'$$, '42501', null, 'service_role cannot update audit rows');
select throws_ok($$delete from audit_log$$, '42501', null, 'service_role cannot delete audit rows');
select throws_ok($$insert into audit_log (action, db_user, chain_id, chain_seq, prev_hash, hash) values ('forged', 'x', gen_random_uuid(), 1, '', '')$$,
  '42501', null, 'service_role cannot insert audit rows directly');
select tests.act_as_owner();
-- Even a grant does not open it: the triggers refuse for every role.
grant update, delete on audit_log to service_role;
select set_config('role', 'service_role', true);
select throws_ok($$update audit_log set action = 'x'$$, 'SY020', null, 'service_role with an UPDATE grant is still refused');
select throws_ok($$delete from audit_log$$, 'SY020', null, 'service_role with a DELETE grant is still refused');
select tests.act_as_owner();

select tests.act_as('admin@demo-freight.test');
select throws_ok($$update audit_log set action = 'x'$$, '42501', null, 'an authenticated auditor cannot update');
select throws_ok($$delete from audit_log$$, '42501', null, 'an authenticated auditor cannot delete');
select tests.act_as_owner();
select set_config('role', 'anon', true);
select throws_ok($$delete from audit_log$$, '42501', null, 'anon cannot delete');
select tests.act_as_owner();

-------------------------------------------------------------------------------------------
-- Who reads it
-------------------------------------------------------------------------------------------
insert into parties (tenant_id, kind, name) values ('b0000000-0000-4000-8000-00000000000b', 'carrier', 'AU-B1'),
  ('b0000000-0000-4000-8000-00000000000b', 'carrier', 'AU-B2'), ('b0000000-0000-4000-8000-00000000000b', 'carrier', 'AU-B3'),
  ('b0000000-0000-4000-8000-00000000000b', 'carrier', 'AU-B4');
select tests.act_as('admin@demo-freight.test');
select ok((select count(*) from audit_log) > 0
          and (select count(*) from audit_log where tenant_id is distinct from 'd0000000-0000-4000-8000-000000000001') = 0,
          'tenant_admin reads its tenant''s audit rows only');
select set_eq($$select chain_id from app_private.audit_verify()$$, array['d0000000-0000-4000-8000-000000000001'::uuid],
  'and verifies only its own chain');
select throws_ok($$select * from app_private.audit_verify('b0000000-0000-4000-8000-00000000000b')$$, 'SY021', null,
  'asking for another tenant''s chain is forbidden');
select tests.act_as('dispatch@demo-freight.test');
select is((select count(*)::int from audit_log), 0, 'a dispatcher (no audit.read) reads none');
select tests.act_as('super@switchyard.test', null);
select ok((select count(*) from audit_log where tenant_id = 'b0000000-0000-4000-8000-00000000000b') = 5,
          'super_admin reads every tenant''s audit rows');
select tests.act_as_owner();

-------------------------------------------------------------------------------------------
-- Hash chain and verification
-------------------------------------------------------------------------------------------
select is((select count(*)::int from (
            select chain_seq, prev_hash, lag(hash) over (order by chain_seq) as prev, lag(chain_seq) over (order by chain_seq) as prev_seq
            from audit_log where chain_id = 'b0000000-0000-4000-8000-00000000000b') x
          where x.chain_seq <> coalesce(x.prev_seq, 0) + 1 or x.prev_hash <> coalesce(x.prev, app_private.audit_genesis())), 0,
          'each row links to the previous row''s hash, seq 1, 2, 3, ...');
select is((select count(*)::int from app_private.audit_verify() where not ok), 0, 'every chain verifies');

-- A superuser bypasses the triggers and rewrites history: the chain shows it.
set local session_replication_role = replica;
update audit_log set after = jsonb_set(after, '{reference}', '"FORGED"')
 where action = 'parties.insert' and target_id = (select id::text from au);
set local session_replication_role = origin;
select results_eq(
  $$select ok, first_bad_seq, problem from app_private.audit_verify('d0000000-0000-4000-8000-000000000001')$$,
  $$select false, chain_seq, format('seq %s was altered: its content does not match its hash', chain_seq)
    from audit_log where action = 'parties.insert' and target_id = (select id::text from au)$$,
  'verify detects the row a superuser altered, and names it');

-- Recomputing the forged row's hash does not help: the next row no longer links.
set local session_replication_role = replica;
update audit_log set hash = app_private.audit_hash(prev_hash, audit_log)
 where action = 'parties.insert' and target_id = (select id::text from au);
set local session_replication_role = origin;
select results_eq(
  $$select ok, problem like '% does not link to the hash of seq %' from app_private.audit_verify('d0000000-0000-4000-8000-000000000001')$$,
  $$values (false, true)$$, 're-hashing the forged row breaks the link to the next one');

-- Deleting rows: a gap in the middle, or the tail (the chain head remembers).
set local session_replication_role = replica;
delete from audit_log where chain_id = 'b0000000-0000-4000-8000-00000000000b' and chain_seq = 2;
set local session_replication_role = origin;
select results_eq($$select ok, first_bad_seq, problem from app_private.audit_verify('b0000000-0000-4000-8000-00000000000b')$$,
  $$values (false, 2::bigint, 'gap: seq 2 is missing (next row is seq 3)')$$, 'a deleted row is detected as a gap');
set local session_replication_role = replica;
delete from audit_log where chain_id = 'b0000000-0000-4000-8000-00000000000b' and chain_seq >= 2;
set local session_replication_role = origin;
select results_eq($$select ok, problem from app_private.audit_verify('b0000000-0000-4000-8000-00000000000b')$$,
  $$values (false, 'rows after seq 1 are missing (chain head is at seq 5)')$$, 'deleted tail rows are detected');
select is((select count(*)::int from app_private.audit_verify() where ok and chain_id not in
            ('d0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-00000000000b')),
          (select count(*)::int from ops.audit_chain_heads where chain_id not in
            ('d0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-00000000000b')),
          'untouched chains still verify');

select * from finish();
rollback;
