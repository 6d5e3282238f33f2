-- Supabase baseline for a plain Postgres cluster.
-- Hosted Supabase already has all of this, so it is NOT a migration: the stack manager
-- applies it before `supabase migration up`, and every statement is a no-op where the
-- object already exists.

do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
end $$;

grant anon, authenticated, service_role to authenticator;
grant usage on schema public to anon, authenticated, service_role;

create schema if not exists extensions;
grant usage on schema extensions to anon, authenticated, service_role;
create extension if not exists pgcrypto with schema extensions;

-- auth: the three helpers as Supabase defines them; they read the claims PostgREST
-- (here: the functions) sets per transaction.
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

create or replace function auth.uid() returns uuid
language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

-- Vault stand-in: same names as supabase_vault (vault.create_secret,
-- vault.decrypted_secrets). Secrets are encrypted at rest with a per-cluster key that
-- lives outside the table (a superuser-only setting), as Vault keeps its key outside SQL.
create schema if not exists vault;
revoke all on schema vault from public;

create table if not exists vault.secrets (
  id uuid primary key default extensions.gen_random_uuid(),
  name text unique,
  description text not null default '',
  secret bytea not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create or replace function vault._key() returns text
language sql stable as $$ select current_setting('vault.root_key') $$;

create or replace function vault.create_secret(
  new_secret text, new_name text default null, new_description text default '', new_key_id uuid default null
) returns uuid
language sql as $$
  insert into vault.secrets (name, description, secret, key_id)
  values (new_name, coalesce(new_description, ''),
          extensions.pgp_sym_encrypt(new_secret, vault._key()), new_key_id)
  returning id
$$;

create or replace function vault.update_secret(
  secret_id uuid, new_secret text default null, new_name text default null,
  new_description text default null, new_key_id uuid default null
) returns void
language sql as $$
  update vault.secrets set
    secret = coalesce(extensions.pgp_sym_encrypt(new_secret, vault._key()), secret),
    name = coalesce(new_name, name),
    description = coalesce(new_description, description),
    key_id = coalesce(new_key_id, key_id),
    updated_at = now()
  where id = secret_id
$$;

create or replace view vault.decrypted_secrets as
  select id, name, description, secret,
         extensions.pgp_sym_decrypt(secret, vault._key()) as decrypted_secret,
         key_id, nonce, created_at, updated_at
  from vault.secrets;

-- pg_net stand-in: net.http_post / net.http_get queue requests exactly as pg_net does;
-- the local runtime's worker drains net.http_request_queue and writes net._http_response.
-- One addition: a request may be held back (`not_before`, from the setting
-- net.defer_seconds): the local 30 s schedules send their second call of the minute 30 s
-- after pg_cron 1.4 ran it (ops.schedule_every_30s) instead of sleeping in the database.
create schema if not exists net;
revoke all on schema net from public;

create table if not exists net.http_requests (
  id bigserial primary key,
  method text not null,
  url text not null,
  headers jsonb not null default '{}'::jsonb,
  body bytea,
  timeout_milliseconds int not null default 5000,
  not_before timestamptz not null default now()
);
create index if not exists http_requests_not_before_idx on net.http_requests (not_before);
-- Stacks made before net.http_requests: their queue table becomes the view below.
do $$
begin
  if exists (select from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'net' and c.relname = 'http_request_queue' and c.relkind = 'r') then
    insert into net.http_requests (id, method, url, headers, body, timeout_milliseconds)
    select id, method, url, headers, body, timeout_milliseconds from net.http_request_queue;
    perform setval(pg_get_serial_sequence('net.http_requests', 'id'),
                   greatest((select max(id) from net.http_request_queue), (select last_value from net.http_request_queue_id_seq)));
    drop table net.http_request_queue;
  end if;
end $$;
-- pg_net's queue: the requests that are due (what the worker drains: it deletes from here).
create or replace view net.http_request_queue as
  select id, method, url, headers, body, timeout_milliseconds from net.http_requests where not_before <= now();

create unlogged table if not exists net._http_response (
  id bigint,
  status_code int,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);
create index if not exists _http_response_created_idx on net._http_response (created);

create or replace function net._enqueue(method text, url text, headers jsonb, body bytea, timeout_milliseconds int)
returns bigint language plpgsql as $$
declare request_id bigint;
begin
  insert into net.http_requests (method, url, headers, body, timeout_milliseconds, not_before)
  values (method, url, coalesce(headers, '{}'::jsonb), body, coalesce(timeout_milliseconds, 5000),
          now() + make_interval(secs => coalesce(nullif(current_setting('net.defer_seconds', true), '')::int, 0)))
  returning id into request_id;
  perform pg_notify('net_http_request', request_id::text);
  return request_id;
end $$;

create or replace function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds int default 5000
) returns bigint
language sql as $$
  select net._enqueue('POST',
    url || case when params = '{}'::jsonb then '' else '?' || (
      select string_agg(key || '=' || value, '&') from jsonb_each_text(params)) end,
    headers, convert_to(body::text, 'utf8'), timeout_milliseconds)
$$;

create or replace function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds int default 5000
) returns bigint
language sql as $$
  select net._enqueue('GET',
    url || case when params = '{}'::jsonb then '' else '?' || (
      select string_agg(key || '=' || value, '&') from jsonb_each_text(params)) end,
    headers, null, timeout_milliseconds)
$$;

-- Supabase's default search_path, so extensions (pgTAP in tests) resolve unqualified.
alter database postgres set search_path = "$user", public, extensions;

-- Hosted Supabase's default privileges for the postgres role (the role migrations run as):
-- EXECUTE on every new function in public (and in extensions, where pgTAP and dblink land)
-- goes to anon, authenticated and service_role. Migrations therefore revoke explicitly what
-- an API role must not call (and no function is PUBLIC-executable after 20261125000000).
alter default privileges for role postgres in schema public
  grant execute on functions to anon, authenticated, service_role;
alter default privileges for role postgres in schema extensions
  grant execute on functions to anon, authenticated, service_role;
