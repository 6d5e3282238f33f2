-- Shared pgTAP helpers (basejump's tests.authenticate_as, for Switchyard's principals).
-- Loaded once into the test database before pg_prove runs (scripts/test.ts); files whose
-- name starts with `_` are not test files. Idempotent: re-running it replaces the helpers.
--
--   select tests.act_as('dispatch@demo-freight.test');             -- a human, demo tenant
--   select tests.act_as('agents', 'b0000000-...'::uuid);            -- a machine, another tenant
--   select tests.act_as('ops@demo-freight.test', null, '{"portal": "broker"}');  -- extra claims
--   select tests.act_as_owner();                                    -- back to the database owner
--
-- act_as sets what PostgREST (here: the edge) sets per transaction: role authenticated and
-- request.jwt.claims {sub, role, tenant_id, principal_kind, principal_name} of the named
-- public.principals row. Both are transaction-local (set_config(..., true)): every test
-- file runs in one transaction that it rolls back.
create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;
comment on schema tests is 'pgTAP helpers (supabase/tests/_helpers.sql); test databases only.';

create or replace function tests.act_as(p_principal text,
                                        p_tenant uuid default 'd0000000-0000-4000-8000-000000000001',
                                        p_extra jsonb default '{}')
returns void
language plpgsql as $$
declare
  p public.principals;
begin
  perform set_config('role', 'none', true);
  select * into p from public.principals where name = p_principal;
  if not found then
    raise exception 'tests.act_as: no principal named %', p_principal;
  end if;
  perform set_config('role', 'authenticated', true);
  perform set_config('request.jwt.claims', (jsonb_build_object('sub', p.id, 'role', 'authenticated',
    'tenant_id', p_tenant, 'principal_kind', p.kind, 'principal_name', p.name,
    -- humans sign in with MFA unless a test says otherwise ('{"aal": "aal1"}': 20261202150000_admin_portal)
    'aal', 'aal2') || coalesce(p_extra, '{}'))::text, true);
end $$;
comment on function tests.act_as(text, uuid, jsonb) is
  'Acts as a principal: role authenticated + request.jwt.claims for the named principal and tenant (transaction-local).';

-- Back to the database owner (as psql, pg_cron or a migration would run): no role, no
-- claims, no request headers.
create or replace function tests.act_as_owner()
returns void
language sql as $$
  select set_config('role', 'none', true), set_config('request.jwt.claims', '', true),
         set_config('request.headers', '', true);
$$;
comment on function tests.act_as_owner() is 'Back to the database owner: resets role, claims and request headers.';

grant execute on function tests.act_as(text, uuid, jsonb), tests.act_as_owner() to anon, authenticated, service_role;
