-- The platform the rest stands on: Supabase auth helpers, schedules, internal schemas.
begin;
select plan(7);

select has_extension('pg_cron', 'pg_cron is installed');
select ok(exists(select from cron.job where jobname like 'health-probe%' and active), 'the health probe is scheduled');

set local request.jwt.claims = '{"sub":"00000000-0000-0000-0000-0000000000aa","role":"authenticated"}';
select is(auth.uid(), '00000000-0000-0000-0000-0000000000aa'::uuid, 'auth.uid() reads the JWT sub');
select is(auth.role(), 'authenticated', 'auth.role() reads the JWT role');
select is(auth.jwt() ->> 'sub', '00000000-0000-0000-0000-0000000000aa', 'auth.jwt() returns the claims');

select ok(not has_schema_privilege('authenticated', 'ops', 'usage'), 'ops is not reachable by API roles');
select ok(not has_function_privilege('anon', 'ops.invoke_function(text, jsonb, text, int)', 'execute'),
          'anon cannot make the database call functions');

select * from finish();
rollback;
