-- Scheduling platform: pg_cron, pg_net (hosted) and the helpers every schedule uses.
-- Locally pg_net is replaced by the stack's stand-in (net.http_post in the baseline),
-- so the extension is only created where the server offers it.
--
-- Every migration file has the same sections, in this order (docs/migrations.md):
--   permissions and grants   schemas, extensions, default privileges, permission catalogue rows
--   flags                    flag_definitions rows the file owns
--   tables                   each table with its indexes, comment, attach_rails and RLS sample
--   functions                each function with its comment and its explicit revoke / grant
-- (plus what runs last, e.g. schedules or triggers that need the functions above).

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
create extension if not exists pg_cron;

do $$
begin
  if exists (select from pg_available_extensions where name = 'pg_net')
     and not exists (select from pg_extension where extname = 'pg_net') then
    create extension pg_net;
  end if;
end $$;

-- Postgres lets PUBLIC execute every new function; hosted Supabase also grants EXECUTE on
-- new public functions to anon, authenticated and service_role (scripts/stack/baseline.sql
-- does the same locally). From here on no function of the migration role is executable by
-- PUBLIC: what API roles may call is revoked and granted explicitly next to each function.
alter default privileges revoke execute on functions from public;

-- ops: internal schema, never exposed through the API.
create schema if not exists ops;
revoke all on schema ops from public;
comment on schema ops is
  'Platform operations (rails attachment, keys, partitions, schedules, scans): database owner only.';

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------

-- pg_cron >= 1.5 takes '30 seconds'; Debian's 1.4 does not.
create or replace function ops.cron_supports_seconds() returns boolean
language sql stable set search_path = '' as $$
  select coalesce(
    (select string_to_array(split_part(extversion, '-', 1), '.')::int[] >= array[1, 5]
       from pg_catalog.pg_extension where extname = 'pg_cron'),
    false)
$$;
revoke execute on function ops.cron_supports_seconds() from public;

-- Schedules `command` (calls of functions through net.http_post) every 30 seconds. On
-- pg_cron < 1.5 (the local stack's Debian 1.4) that is two per-minute jobs, the second one's
-- calls held back 30 s (`net.defer_seconds`, which the local pg_net stand-in honours;
-- scripts/stack/baseline.sql). It used to sleep 30 s first (`select pg_sleep(30); ...`),
-- which held a snapshot, and so the xmin horizon, for 30 s of every minute (dead rows of the
-- hot tables could not be pruned) and stalled pg_cron 1.4's launcher: every other job due
-- in that minute started 30 s late, all at once (issue 12 item 8).
-- Re-running it replaces the job(s) of that name: migrations stay idempotent.
create or replace function ops.schedule_every_30s(job text, command text) returns void
language plpgsql set search_path = '' as $$
begin
  if ops.cron_supports_seconds() then
    perform cron.schedule(job, '30 seconds', command);
  else
    perform cron.schedule(job, '* * * * *', command);
    perform cron.schedule(job || '+30s', '* * * * *', 'set local net.defer_seconds = 30; ' || command);
  end if;
end $$;
comment on function ops.schedule_every_30s(text, text) is
  'Schedules function calls every 30 s: one pg_cron job on pg_cron >= 1.5, two per-minute jobs before (the second one''s calls deferred 30 s).';
revoke execute on function ops.schedule_every_30s(text, text) from public;

-- Calls an edge function over HTTP via (pg_)net, with the project URL and key kept in Vault.
-- Vault entries (create them once per project): project_url, and the key named by key_name.
create or replace function ops.invoke_function(fn text, body jsonb default '{}'::jsonb,
                                               key_name text default 'anon_key',
                                               timeout_ms int default 10000)
returns bigint
language sql set search_path = '' as $$
  select net.http_post(
    url := (select decrypted_secret from vault.decrypted_secrets where name = 'project_url')
           || '/functions/v1/' || fn,
    body := body,
    headers := jsonb_build_object(
      'Content-Type', 'application/json',
      'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets where name = key_name)),
    timeout_milliseconds := timeout_ms)
$$;
comment on function ops.invoke_function(text, jsonb, text, int) is
  'Calls an edge function (POST /functions/v1/<fn>) through net.http_post with the URL and key from Vault.';
revoke all on function ops.invoke_function(text, jsonb, text, int) from public;
