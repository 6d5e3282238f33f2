-- Disaster recovery (issue 19): a streaming standby, cutover and fail-back as break-glass
-- runbooks (scripts/dr/, `npm run ops -- dr ...`), verified base backups and restore tests.
-- The mechanics (pg_basebackup, pg_promote, pg_rewind, pg_verifybackup) run in the runbook;
-- what must hold whatever the runbook does is here:
--   - the DR permission (dr.execute: system@ and super_admin) is checked by dr_authorize,
--     read-only, so it also answers on a standby whose primary is gone;
--   - one cutover at a time: dr_authorize takes a session advisory lock on the server being
--     promoted (advisory locks work during recovery and survive promotion);
--   - a promotion that would lose acknowledged commits is refused (dr_loss_window) unless the
--     operator accepts the loss;
--   - the runbook's step records are written as the new primary's first transaction
--     (dr_record: ops.dr_runs and one audit row per run, by the DR principal).
-- Replication lag (bytes and seconds, per slot) is read by `ops status`, the console and the
-- autopilot's tick, which alerts past dr.standby.maxLagBytes / dr.standby.maxLagSeconds.
--
-- Sections: error codes; flags; tables; functions.

-------------------------------------------------------------------------------------------
-- error codes
-------------------------------------------------------------------------------------------
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('dr_forbidden',       'SY160', 403, 'DR permission required',  'DR cutover and fail-back need an enabled principal holding dr.execute (system@ or a super_admin).'),
  ('dr_cutover_running', 'SY161', 409, 'A cutover is running',    'Another DR runbook holds the cutover lock on this server; wait for it to finish.'),
  ('dr_loss_window',     'SY162', 409, 'Promotion would lose data', 'The standby has not replayed everything the primary acknowledged; DETAIL carries the loss window. Promote with --accept-loss to accept it.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('dr.standby.maxLagBytes', 'integer', 0, 1099511627776, null, false, '{global}', '16777216', 'flags.global.write',
   'WAL bytes a standby may be behind the primary before the autopilot''s tick raises dr.lag'),
  ('dr.standby.maxLagSeconds', 'integer', 0, 86400, null, false, '{global}', '30', 'flags.global.write',
   'Seconds of replay lag a standby may have before the autopilot''s tick raises dr.lag')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- One row per DR runbook run (cutover, fail-back, backup, restore test): its steps with
-- timings and its report (RPO: lost commits; RTO).
create table ops.dr_runs (
  id           bigserial primary key,
  kind         text not null constraint dr_runs_kind_allowed_check check (kind in ('cutover', 'failback', 'backup', 'restore-test')),
  principal_id uuid references public.principals (id),
  started_at   timestamptz not null,
  finished_at  timestamptz not null default now(),
  ok           boolean not null,
  steps        jsonb not null default '[]'::jsonb constraint dr_runs_steps_array_check check (jsonb_typeof(steps) = 'array'),
  report       jsonb not null default '{}'::jsonb
);
comment on table ops.dr_runs is
  'DR runbook runs (cutover, fail-back, backup, restore test) with their steps, timings and report.';
create index dr_runs_kind_idx on ops.dr_runs (kind, started_at desc);
revoke all on ops.dr_runs from public, anon, authenticated, service_role;

-- Verified backups, what backup freshness reads: a base backup whose manifest pg_verifybackup
-- accepted (self-hosted, the local stack), or a dump the hosted drill restored and checked
-- (hosted Supabase keeps the physical backups itself).
create table ops.dr_backups (
  id          bigserial primary key,
  label       text not null unique,
  method      text not null default 'pg_basebackup' constraint dr_backups_method_allowed_check check (method in ('pg_basebackup', 'pg_dump')),
  path        text not null,
  start_lsn   pg_lsn not null,
  end_lsn     pg_lsn not null,
  bytes       bigint not null constraint dr_backups_bytes_nonnegative_check check (bytes >= 0),
  taken_at    timestamptz not null,
  verified_at timestamptz not null default now()
);
comment on table ops.dr_backups is
  'Verified base backups (pg_basebackup + pg_verifybackup): backup freshness reads the newest.';
create index dr_backups_verified_idx on ops.dr_backups (verified_at desc);
revoke all on ops.dr_backups from public, anon, authenticated, service_role;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Each replication slot with its standby's lag: bytes the standby has not replayed (or, while
-- it is disconnected, the WAL the slot holds back) and seconds of replay lag (0 when idle:
-- Postgres reports no lag once the standby has caught up). Internal: the operator's session
-- and the autopilot read it.
create function app_private.dr_replication()
returns table (slot text, active boolean, state text, sync_state text, lag_bytes bigint, lag_seconds numeric)
language sql stable security definer set search_path = '' as $$
  select s.slot_name::text, s.active, coalesce(r.state, 'disconnected'), r.sync_state,
         pg_wal_lsn_diff(pg_current_wal_lsn(), coalesce(r.replay_lsn, s.restart_lsn))::bigint,
         round(coalesce(extract(epoch from r.replay_lag), 0)::numeric, 3)
  from pg_catalog.pg_replication_slots s
  left join pg_catalog.pg_stat_replication r on r.pid = s.active_pid
  where s.slot_type = 'physical' and not pg_is_in_recovery()
$$;
comment on function app_private.dr_replication() is
  'Physical replication slots with their standby''s lag in bytes and seconds (empty on a standby).';
revoke execute on function app_private.dr_replication() from public, anon, authenticated, service_role;

-- The slots over dr.standby.maxLagBytes / maxLagSeconds (or not streaming): the tick's alert.
create function app_private.dr_lagging()
returns table (slot text, state text, lag_bytes bigint, lag_seconds numeric, max_bytes bigint, max_seconds numeric)
language sql stable security definer set search_path = '' as $$
  select r.slot, r.state, r.lag_bytes, r.lag_seconds, f.b, f.s
  from app_private.dr_replication() r,
       lateral (select app_private.flag_number('dr.standby.maxLagBytes')::bigint as b,
                       app_private.flag_number('dr.standby.maxLagSeconds') as s) f
  where r.state <> 'streaming' or r.lag_bytes > f.b or r.lag_seconds > f.s
$$;
comment on function app_private.dr_lagging() is
  'Replication slots whose standby is not streaming or lags past the dr.standby.* thresholds.';
revoke execute on function app_private.dr_lagging() from public, anon, authenticated, service_role;

-- The console's Standby panel: the same rows for a principal with metrics.read globally
-- (replication is the platform's, not a tenant's); anyone else is refused forbidden.
create function public.dr_replication_status()
returns table (slot text, active boolean, state text, sync_state text, lag_bytes bigint, lag_seconds numeric,
               within boolean, max_lag_bytes bigint, max_lag_seconds numeric)
language plpgsql stable security definer set search_path = '' as $$
begin
  perform app_private.require_permission(null, 'metrics.read');
  -- within: not among dr_lagging's slots, so the panel and the tick's alert use one rule.
  return query
  select r.*, r.slot not in (select l.slot from app_private.dr_lagging() l),
         app_private.flag_number('dr.standby.maxLagBytes')::bigint, app_private.flag_number('dr.standby.maxLagSeconds')
  from app_private.dr_replication() r order by r.slot;
end $$;
comment on function public.dr_replication_status() is
  'Replication slots with their standby''s lag, whether it is within the dr.standby.* thresholds (as dr_lagging judges) and those thresholds, for a global metrics.read (the console).';
revoke execute on function public.dr_replication_status() from public, anon;
grant execute on function public.dr_replication_status() to authenticated;

-- THE DR permission check, read-only (it runs on a standby whose primary is gone): the named
-- enabled principal must hold dr.execute globally. It becomes the session's principal (the
-- step records and the kill switch are written as it) and takes the cutover lock.
create function app_private.dr_authorize(p_principal text)
returns uuid
language plpgsql volatile security definer set search_path = '' as $$
declare
  v_id uuid;
begin
  select p.id into v_id from public.principals p
  where (p.name = lower(p_principal) or p.id::text = p_principal) and p.disabled_at is null;
  if v_id is null then
    perform app_private.raise_error('dr_forbidden', 'no enabled principal by that name');
  end if;
  perform set_config('request.jwt.claims', jsonb_build_object('sub', v_id, 'role', 'authenticated')::text, false);
  perform set_config('app.grants_memo', '', false);
  if not app_private.has_permission(null, 'dr.execute') then
    perform app_private.raise_error('dr_forbidden', format('principal %s lacks dr.execute', v_id));
  end if;
  if not pg_try_advisory_lock(20261126, 160) then
    perform app_private.raise_error('dr_cutover_running', 'another DR runbook holds the cutover lock on this server');
  end if;
  return v_id;
end $$;
comment on function app_private.dr_authorize(text) is
  'Read-only DR permission check (dr.execute) that takes the one-cutover-at-a-time lock; dr_forbidden / dr_cutover_running.';
revoke execute on function app_private.dr_authorize(text) from public, anon, authenticated, service_role;

-- Refuses a promotion that would lose what the primary acknowledged (p_lost_commits commits
-- after the standby's replay position, p_lost_bytes of WAL; null: unknown, the primary's WAL
-- is out of reach) unless the loss is accepted. Returns the loss window for the report.
create function app_private.dr_loss_window(p_lost_commits int, p_lost_bytes bigint, p_accept_loss boolean)
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  v_window jsonb := jsonb_build_object(
    'lost_commits', p_lost_commits, 'lost_bytes', p_lost_bytes,
    'replay_lsn', coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn())::text,
    'last_replayed_commit_at', pg_last_xact_replay_timestamp());
begin
  if (p_lost_commits is null or p_lost_commits > 0 or coalesce(p_lost_bytes, 1) > 0) and not p_accept_loss then
    perform app_private.raise_error('dr_loss_window',
      format('the standby is behind the primary: %s commits, %s WAL bytes not replayed (last replayed commit %s)',
             coalesce(p_lost_commits::text, 'unknown'), coalesce(p_lost_bytes::text, 'unknown'),
             coalesce(pg_last_xact_replay_timestamp()::text, 'unknown')), v_window);
  end if;
  return v_window;
end $$;
comment on function app_private.dr_loss_window(int, bigint, boolean) is
  'dr_loss_window unless nothing acknowledged would be lost or the loss is accepted; returns the window.';
revoke execute on function app_private.dr_loss_window(int, bigint, boolean) from public, anon, authenticated, service_role;

-- The runbook's record, on the (new) primary: its steps and report, audited by the DR
-- principal (dr_authorize set it on the session). p_id: the run's row to bring up to date
-- (a cutover writes its record as the new primary's first transaction, then its last steps).
create function app_private.dr_record(p_kind text, p_started_at timestamptz, p_ok boolean, p_steps jsonb, p_report jsonb,
                                      p_id bigint default null)
returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  v_id bigint;
begin
  if p_id is null then
    insert into ops.dr_runs (kind, principal_id, started_at, ok, steps, report)
    values (p_kind, auth.uid(), p_started_at, p_ok, coalesce(p_steps, '[]'::jsonb), coalesce(p_report, '{}'::jsonb))
    returning id into v_id;
  else
    update ops.dr_runs set ok = p_ok, steps = coalesce(p_steps, '[]'::jsonb), report = coalesce(p_report, '{}'::jsonb), finished_at = now()
    where id = p_id and kind = p_kind returning id into v_id;
  end if;
  perform app_private.audit_write(null, 'dr.' || p_kind, 'dr_run', v_id::text, null,
    jsonb_build_object('ok', p_ok, 'steps', p_steps, 'report', p_report));
  return v_id;
end $$;
comment on function app_private.dr_record(text, timestamptz, boolean, jsonb, jsonb, bigint) is
  'Records (or brings up to date) a DR runbook run in ops.dr_runs and audits it as the session''s DR principal.';
revoke execute on function app_private.dr_record(text, timestamptz, boolean, jsonb, jsonb, bigint) from public, anon, authenticated, service_role;

-- Backup freshness (the daily job): the newest verified base backup and the WAL archive's
-- position, not a drill's run record.
create function app_private.dr_backup_freshness()
returns table (last_verified_at timestamptz, label text, method text, end_lsn pg_lsn, last_archived_wal text,
               last_archived_at timestamptz, archive_failed_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select b.verified_at, b.label, b.method, b.end_lsn, a.last_archived_wal, a.last_archived_time, a.last_failed_time
  from pg_catalog.pg_stat_archiver a
  left join lateral (select * from ops.dr_backups order by verified_at desc limit 1) b on true
$$;
comment on function app_private.dr_backup_freshness() is
  'The newest verified base backup and the WAL archiver''s last success / failure.';
revoke execute on function app_private.dr_backup_freshness() from public, anon, authenticated, service_role;
