-- RLS everywhere: every table in the exposed schema (public) has RLS on, every tenant table
-- is registered (so the RLS matrix covers it), policies are TO authenticated and indexed,
-- anon sees nothing, helpers are SECURITY DEFINER with an empty search_path, and every
-- error code raises its SQLSTATE.
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;

-- Tables and views in the exposed schema.
create temp table c_tables as
  select c.oid::regclass as t, c.relname, c.relkind, c.relrowsecurity
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p');
create temp table c_views as
  select c.oid::regclass as t, c.relname, c.reloptions
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('v', 'm');

-- The detectors, reused below on a canary so they are shown to fail when they must.
create function pg_temp.tables_without_rls() returns text[] language sql as $$
  select coalesce(array_agg(c.relname::text order by c.relname), '{}')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
$$;
create function pg_temp.unregistered_tenant_tables() returns text[] language sql as $$
  select coalesce(array_agg(c.relname::text order by c.relname), '{}')
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
  where n.nspname = 'public' and c.relkind in ('r', 'p')
    and not exists (select 1 from ops.rls_registry r where r.table_name = c.oid)
$$;

select plan((
  (select count(*) from c_tables)                 -- RLS enabled, per table
  + (select count(*) from c_tables)               -- anon has no privilege, per table
  + (select count(*) from c_tables)               -- anon sees nothing, per table
  + (select count(*) from c_views) * 2            -- views: security_invoker, anon
  + (select count(*) from ops.rls_registry) * 3   -- registry: policies, grants, index
  + (select count(*) from public.rail_errors)     -- error codes
  + 14
)::int);

-------------------------------------------------------------------------------------------
-- RLS on every table of the exposed schema
-------------------------------------------------------------------------------------------
select ok(relrowsecurity, format('public.%s has row level security enabled', relname))
from c_tables order by relname;

select is(pg_temp.tables_without_rls(), '{}'::text[], 'no table in the exposed schema (public) lacks RLS');

-- The detector really detects: a table created without RLS is reported.
create table public.rls_canary (id int);
select is(pg_temp.tables_without_rls(), '{rls_canary}'::text[], 'a public table without RLS is detected');
drop table public.rls_canary;

select is(pg_temp.unregistered_tenant_tables(), '{}'::text[],
          'every public table with a tenant_id is in ops.rls_registry (and so in the RLS matrix)');
create table public.tenant_canary (id int, tenant_id uuid);
alter table public.tenant_canary enable row level security;
select is(pg_temp.unregistered_tenant_tables(), '{tenant_canary}'::text[], 'an unregistered tenant table is detected');
drop table public.tenant_canary;

-------------------------------------------------------------------------------------------
-- anon sees nothing
-------------------------------------------------------------------------------------------
select ok(not (has_table_privilege('anon', t, 'select') or has_table_privilege('anon', t, 'insert')
               or has_table_privilege('anon', t, 'update') or has_table_privilege('anon', t, 'delete')),
          format('anon holds no privilege on public.%s', relname))
from c_tables order by relname;

-- ...and trying to read returns nothing (permission denied counts as nothing).
create function pg_temp.anon_rows(t regclass) returns bigint language plpgsql as $$
declare n bigint;
begin
  perform set_config('role', 'anon', true);
  perform set_config('request.jwt.claims', '{"role": "anon"}', true);
  begin
    execute format('select count(*) from %s', t) into n;
  exception when insufficient_privilege then
    n := 0;
  end;
  perform set_config('role', 'none', true);
  return n;
end $$;
select is(pg_temp.anon_rows(t), 0::bigint, format('anon reads no row of public.%s', relname))
from c_tables order by relname;

select ok(coalesce('security_invoker=true' = any (reloptions), false) or relname = 'pg_stat_statements',
          format('view public.%s runs with the caller''s rights (security_invoker)', relname))
from c_views order by relname;
select is(pg_temp.anon_rows(t), 0::bigint, format('anon reads no row of view public.%s', relname))
from c_views order by relname;

select ok(not has_schema_privilege('anon', 'app_private', 'usage'), 'anon cannot use app_private');
select ok(not has_schema_privilege('authenticated', 'app_partitions', 'usage')
          and not has_schema_privilege('service_role', 'app_partitions', 'usage')
          and not has_schema_privilege('anon', 'app_partitions', 'usage'),
          'no API role can reach the partitions directly');
select is((select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'app_partitions' and c.relkind = 'r' and not c.relrowsecurity), 0,
          'every partition has RLS on too');
select is((select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'app_private' and c.relkind in ('r', 'p', 'v')), 0,
          'app_private holds functions only, no tables');

-------------------------------------------------------------------------------------------
-- Policies: TO authenticated, generated from the registry, indexed
-------------------------------------------------------------------------------------------
select is((select count(*)::int from pg_policy p join pg_class c on c.oid = p.polrelid
           join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public'
             and p.polroles <> array[(select oid from pg_roles where rolname = 'authenticated')]), 0,
          'every policy in public is TO authenticated only');

-- Generic registry tables: exactly one policy per operation that has a permission, naming it.
create function pg_temp.policy_problems(t regclass) returns text[] language sql as $$
  select coalesce(array_agg(problem), '{}') from (
    select format('%s: %s', op, case when perm is null and pol is not null then 'policy without permission'
                                     when perm is not null and pol is null then 'missing policy'
                                     else 'policy does not check ' || perm end) as problem
    from (values ('select', 'r'), ('insert', 'a'), ('update', 'w'), ('delete', 'd')) as o(op, cmd)
    cross join lateral (
      select case o.op when 'select' then r.select_perm when 'insert' then r.insert_perm
                       when 'update' then r.update_perm else r.delete_perm end as perm
      from ops.rls_registry r where r.table_name = t) x
    left join lateral (
      select coalesce(pg_get_expr(p.polqual, p.polrelid), '') || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') as pol
      from pg_policy p where p.polrelid = t and p.polname = 'tenant_' || o.op) y on true
    where (x.perm is null) <> (y.pol is null)
       or (x.perm is not null and position(quote_literal(x.perm) in y.pol) = 0)
  ) q
$$;
select is(case when r.policy_kind = 'custom' then '{}'::text[] else pg_temp.policy_problems(r.table_name) end,
          '{}'::text[], format('%s: policies match the registry (%s)', r.table_name, r.policy_kind))
from ops.rls_registry r order by r.table_name::text;

select is(array[has_table_privilege('authenticated', r.table_name, 'insert'),
                has_table_privilege('authenticated', r.table_name, 'update'),
                has_table_privilege('authenticated', r.table_name, 'delete')],
          array[r.insert_perm is not null, r.update_perm is not null, r.delete_perm is not null],
          format('%s: authenticated is granted exactly the writes that have a permission', r.table_name))
from ops.rls_registry r where r.policy_kind = 'generic'
union all
select ok(has_table_privilege('authenticated', r.table_name, 'insert,update,delete'),
          format('%s: writes granted, checked per row by the custom policies', r.table_name))
from ops.rls_registry r where r.policy_kind = 'custom';

select ok(exists (select 1 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                  where i.indrelid = r.table_name and a.attname = r.tenant_column),
          format('%s: the policy column %s is indexed', r.table_name, r.tenant_column))
from ops.rls_registry r order by r.table_name::text;

-------------------------------------------------------------------------------------------
-- Helpers
-------------------------------------------------------------------------------------------
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
           where n.nspname in ('public', 'app_private', 'ops') and p.prosecdef
             and not coalesce('search_path=""' = any (p.proconfig), false)), null,
          'every SECURITY DEFINER function has search_path = ''''');
select ok(has_function_privilege('authenticated', 'app_private.has_permission(uuid, text)', 'execute')
          and has_function_privilege('authenticated', 'app_private.current_principal()', 'execute')
          and not has_function_privilege('anon', 'app_private.has_permission(uuid, text)', 'execute'),
          'the permission helper is callable by authenticated, not anon');
select ok(not has_function_privilege('authenticated', 'ops.attach_rails(regclass, text, text, text, text, text, text, name)', 'execute')
          and not has_function_privilege('authenticated', 'ops.rotate_partitions(timestamptz)', 'execute')
          and not has_function_privilege('authenticated', 'app_private.audit_write(uuid, text, text, text, jsonb, jsonb, text)', 'execute'),
          'platform operations and internal writers are not callable by API roles');

-- Hosted Supabase grants EXECUTE on new public functions to anon (scripts/stack/baseline.sql
-- does the same): every function the migrations create revokes it explicitly.
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
           join pg_namespace n on n.oid = p.pronamespace
           where n.nspname in ('public', 'app_private', 'ops')
             and (has_function_privilege('anon', p.oid, 'execute')
                  or coalesce(aclcontains(p.proacl, makeaclitem(0, p.proowner, 'EXECUTE', false)), p.proacl is null))),
          null, 'no function of public, app_private or ops is executable by anon or PUBLIC');

-- CHECK constraints are named <table>_<column>_<rule>_check (never the default name).
select is((select array_agg(c.conrelid::regclass::text || '.' || c.conname order by 1) from pg_constraint c
           join pg_class t on t.oid = c.conrelid join pg_namespace n on n.oid = t.relnamespace
           left join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
           where c.contype = 'c' and n.nspname in ('public', 'ops') and not t.relispartition
             and (c.conname = t.relname || '_' || a.attname || '_check' or c.conname = t.relname || '_check'
                  or c.conname !~ '_check$')),
          null, 'every CHECK constraint has a name of its own');

-------------------------------------------------------------------------------------------
-- Error codes: each raises its SQLSTATE with a message starting with the code
-------------------------------------------------------------------------------------------
select throws_ok(format('select app_private.raise_error(%L, %L)', e.code, 'probe'), e.sqlstate::text,
                 e.code || ': probe', format('%s raises SQLSTATE %s', e.code, e.sqlstate))
from public.rail_errors e order by e.sqlstate;

select * from finish();
rollback;
