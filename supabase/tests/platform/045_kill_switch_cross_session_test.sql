-- The kill switch holds from the first statement after the flag's commit, in every other
-- session (no cache): a second, independent session (dblink, like an operator's psql)
-- commits the charter's stop command; the very next statement of this transaction is
-- refused; the operator resumes; the next statement succeeds. The operator's bare UPDATE
-- is in the flag history with that session's identity.
--
-- NOTE: this file really commits the stop and the resume (in the second session), a few
-- milliseconds apart; run the pgTAP files one after another (pg_prove's default).
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
select plan(9);

create extension if not exists dblink with schema extensions;


-- The operator's session: same server, over the local socket, its own application_name.
select is(dblink_connect('operator', format('host=%s port=%s dbname=%s user=%s application_name=operator-psql',
            split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'),
            current_database(), current_user)), 'OK', 'a second session connects (the operator''s psql)');
select is((select value from dblink('operator', $$select value from feature_flags_v2
            where key = 'autonomy.emergencyStop' and scope = 'global'$$) as t(value text)), 'false',
          'autonomy runs before the stop');

select tests.act_as('agents');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'XS-1')$$,
  'the machine writes');

select tests.act_as_owner();
select is(dblink_exec('operator', $charter$update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global';$charter$),
          'UPDATE 1', 'the operator runs the one-command stop in its own session (autocommit)');

select tests.act_as('agents');
select throws_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'XS-2')$$,
  'SY001', null, 'the very next statement of the running transaction is refused');

select tests.act_as_owner();
select is(dblink_exec('operator', $charter$update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';$charter$),
          'UPDATE 1', 'the operator resumes');

select tests.act_as('agents');
select lives_ok($$insert into parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'carrier', 'XS-3')$$,
  'and the next statement succeeds again');

select tests.act_as_owner();
select results_eq(
  $$select old_value, new_value, changed_by, db_user, application_name, principal_id is null
    from feature_flag_history where key = 'autonomy.emergencyStop' and application_name = 'operator-psql'
    order by changed_at desc limit 2$$,
  format($$values ('true', 'false', %1$L, %1$L, 'operator-psql', true), ('false', 'true', %1$L, %1$L, 'operator-psql', true)$$,
         current_user),
  'both bare UPDATEs of the other session are in the flag history with that session''s identity');
select is(dblink_disconnect('operator'), 'OK', 'the operator disconnects');

select * from finish();
rollback;
