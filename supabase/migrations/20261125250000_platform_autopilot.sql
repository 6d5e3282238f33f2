-- Autopilot (charter §2, §6, §8): SLO gates with auto-throttle and rollback, alerts, the
-- record of every scheduled run, and the schedules that call the autopilot function.
--
-- Sections: permissions and grants; flags; tables; functions; schedules.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- SLO thresholds and the concurrency band the throttle moves in (flags, so operators tune
-- them with the same switchboard)
insert into public.permissions (permission, description) values
  ('flags.concurrency.write', 'Move budget.agents.maxConcurrent (the adaptive throttle)'),
  ('keys.rehearse',           'Run the monthly key rotation rehearsal (issue and revoke a test key per service account)')
on conflict (permission) do nothing;
insert into public.role_permissions (role, permission) values
  ('super_admin', 'flags.concurrency.write'), ('autopilot', 'flags.concurrency.write'),
  ('super_admin', 'keys.rehearse'), ('autopilot', 'keys.rehearse'),
  -- agents@ reads the alerts its detectors raise (a detector's conditions are readable by
  -- the principal that runs it: without this the stale-index detector's "already open?"
  -- check was blind and re-published every tick)
  ('agents', 'metrics.read')
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
-- Least privilege: the autopilot moves the concurrency cap, not the other budgets.
update public.flag_definitions set write_permission = 'flags.concurrency.write'
 where key = 'budget.agents.maxConcurrent';

insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('slo.uptimeMin', 'number', 0, 1, null, false, '{global}', '0.9995', 'flags.global.write', 'Uptime SLO (share of good health probes)'),
  ('slo.successMin', 'number', 0, 1, null, false, '{global,portal}', '0.98', 'flags.global.write', 'Success SLO (share of requests without a 5xx)'),
  ('slo.p95MaxMs', 'integer', 1, 600000, null, false, '{global}', '2500', 'flags.global.write', 'Latency SLO of functions: p95 at most this'),
  ('slo.portalP95MaxMs', 'integer', 1, 600000, null, false, '{global,portal}', '1500', 'flags.global.write', 'Latency SLO of portals: p95 at most this'),
  ('slo.minRequests', 'integer', 0, 1000000, null, false, '{global}', '20', 'flags.global.write', 'Fewer requests than this in the short window: no verdict'),
  ('budget.agents.floor', 'integer', 1, 100000, null, true, '{global}', '10', 'flags.budget.write', 'The throttle never takes maxConcurrent below this'),
  ('budget.agents.target', 'integer', 1, 100000, null, true, '{global}', '150', 'flags.budget.write', 'The concurrency the throttle recovers towards')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Alerts: raised once per (tenant, source, key) while open; the autopilot sends them to the
-- Slack-compatible webhook (ALERT_WEBHOOK_URL) with a trace link.
create table public.alerts (
  id          uuid primary key default gen_random_uuid(),
  tenant_id   uuid references public.tenants (id) on delete cascade,   -- null: platform
  source      text not null,              -- e.g. 'rates.index_stale'
  severity    text not null constraint alerts_severity_allowed_check check (severity in ('info', 'warning', 'critical')),
  dedupe_key  text not null,              -- one open alert per (source, key)
  summary     text not null,
  detail      jsonb not null default '{}'::jsonb,
  trace_id    text,
  created_at  timestamptz not null default now(),
  resolved_at timestamptz,
  notified_at timestamptz                 -- sent to the alert webhook
);
comment on table public.alerts is
  'Alerts raised by detectors, gates, scans and failed schedules: one open alert per (tenant, source, dedupe_key).';
create unique index alerts_open_unique on public.alerts (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'), source, dedupe_key)
  where resolved_at is null;
create index alerts_unnotified_idx on public.alerts (created_at) where notified_at is null;
-- Rail class delivery, not domain: an alert is a notification, not a domain write. The stop
-- (and agents off, for agents@) still refuse it, but STEP-DOWN does not: under STEP-DOWN the
-- relay dead-letters and alerts (with class domain the alert was refused and rolled back the
-- relay's whole ack batch, which was then re-delivered every claim), and the SLO gate alerts.
select ops.attach_rails('public.alerts', 'metrics.read', 'domain.write', 'domain.write', null, 'delivery', 'immediate');
-- RLS matrix sample row
select ops.set_rls_sample('public.alerts',
  '{"tenant_id": "$tenant", "source": "matrix", "severity": "info", "dedupe_key": "matrix-$n", "summary": "matrix"}');

-- Every scheduled run, with outcome and duration (charter §6)
create table ops.schedule_runs (
  id          bigserial primary key,
  job         text not null,
  started_at  timestamptz not null default now(),
  duration_ms numeric(12, 3) not null,
  ok          boolean not null,
  detail      jsonb not null default '{}'::jsonb
);
comment on table ops.schedule_runs is
  'Every scheduled run with its outcome and duration.';
create index schedule_runs_job_idx on ops.schedule_runs (job, started_at desc);

-- Hourly roll-up of request metrics (for long-window SLO reports).
create table ops.request_metrics_hourly (
  function_name text not null,
  portal        text,
  hour          timestamptz not null,
  count         bigint not null,
  errors        bigint not null,
  le_1500       bigint not null,
  le_2500       bigint not null,
  constraint request_metrics_hourly_key unique nulls not distinct (function_name, portal, hour)
);
comment on table ops.request_metrics_hourly is
  'Hourly roll-up of request metrics for long-window SLO reports.';

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Raises (or keeps) an open alert; returns its id. Callable by the autopilot, agents,
-- dlq and ci principals (telemetry.write in the tenant; a platform alert, no tenant, takes
-- a global grant) and trusted sessions.
create function app_private.raise_alert(p_tenant_id uuid, p_source text, p_severity text, p_dedupe_key text,
                                        p_summary text, p_detail jsonb default '{}'::jsonb, p_trace_id text default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_rails_caller(p_tenant_id);
  if app_private.principal_id() is not null then
    perform app_private.require_permission(p_tenant_id, 'telemetry.write');
  end if;
  return app_private.alert_upsert(p_tenant_id, p_source, p_severity, p_dedupe_key, p_summary, p_detail, p_trace_id);
end $$;
comment on function app_private.raise_alert(uuid, text, text, text, text, jsonb, text) is
  'Raises (or keeps) one open alert per (tenant, source, dedupe key).';
revoke execute on function app_private.raise_alert(uuid, text, text, text, text, jsonb, text) from public;
grant execute on function app_private.raise_alert(uuid, text, text, text, text, jsonb, text) to authenticated;

-- The insert behind raise_alert, without its caller checks: for definer paths that raise an
-- alert on the platform's behalf inside someone else's transaction (a quarantine tripped by
-- the relay's acknowledgement). Internal: no API role executes it.
create function app_private.alert_upsert(p_tenant_id uuid, p_source text, p_severity text, p_dedupe_key text,
                                         p_summary text, p_detail jsonb default '{}'::jsonb, p_trace_id text default null)
returns uuid
language sql security definer set search_path = '' as $$
  insert into public.alerts (tenant_id, source, severity, dedupe_key, summary, detail, trace_id)
  values (p_tenant_id, p_source, p_severity, p_dedupe_key, p_summary, coalesce(p_detail, '{}'::jsonb),
          coalesce(p_trace_id, (app_private.request_context()).trace_id))
  on conflict (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'), source, dedupe_key) where resolved_at is null
  do update set detail = excluded.detail
  returning id
$$;
comment on function app_private.alert_upsert(uuid, text, text, text, text, jsonb, text) is
  'Raises (or keeps) one open alert, without raise_alert''s caller checks (internal definer paths only).';
revoke execute on function app_private.alert_upsert(uuid, text, text, text, text, jsonb, text) from public;

-- Records a scheduled run (and alerts when it failed). The autopilot calls it under its own
-- claims (telemetry.write); pg_cron's SQL jobs as the owner (ops.run_job). While the stop is
-- on a machine raises no alert (the rails refuse it): the run row still records the failure.
create function app_private.record_run(p_job text, p_started_at timestamptz, p_duration_ms numeric, p_ok boolean,
                                       p_detail jsonb default '{}'::jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_permission(null, 'telemetry.write');
  insert into ops.schedule_runs (job, started_at, duration_ms, ok, detail)
  values (p_job, p_started_at, p_duration_ms, p_ok, coalesce(p_detail, '{}'::jsonb));
  if not p_ok then
    begin
      perform app_private.raise_alert(null, 'schedule.' || p_job, 'warning', p_job,
        format('Scheduled job %s failed', p_job), coalesce(p_detail, '{}'::jsonb));
    exception when sqlstate 'SY001' then
      null; -- autonomy_halted: the stop refuses the machine's alert, not the record of its run
    end;
  end if;
end $$;
comment on function app_private.record_run(text, timestamptz, numeric, boolean, jsonb) is
  'Records a scheduled run in ops.schedule_runs (telemetry.write); a failed run raises an alert.';
revoke execute on function app_private.record_run(text, timestamptz, numeric, boolean, jsonb) from public, anon;
grant execute on function app_private.record_run(text, timestamptz, numeric, boolean, jsonb) to authenticated;

-- Marks an alert as sent to the webhook, under the rails (the stop refuses machines).
create function app_private.alert_notified(p_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_permission(null, 'telemetry.write');
  update public.alerts a set notified_at = now() where a.id = p_id and a.notified_at is null;
end $$;
comment on function app_private.alert_notified(uuid) is
  'Marks an alert as sent to the alert webhook (telemetry.write; under the rails).';
revoke execute on function app_private.alert_notified(uuid) from public, anon;
grant execute on function app_private.alert_notified(uuid) to authenticated;

-- The monthly key rotation rehearsal of every service account, by a principal with
-- keys.rehearse, under the rails (class control: the stop refuses it for machines).
create function app_private.rehearse_key_rotations()
returns table (account text, outcome text)
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_permission(null, 'keys.rehearse');
  perform app_private.check_rails('control', null, 'service keys');
  return query select s.name, (ops.rehearse_key_rotation(s.name)).outcome from public.service_accounts s order by s.name;
end $$;
comment on function app_private.rehearse_key_rotations() is
  'Monthly key rotation rehearsal of every service account (keys.rehearse; refused while the stop is on).';
revoke execute on function app_private.rehearse_key_rotations() from public, anon;
grant execute on function app_private.rehearse_key_rotations() to authenticated;

-- SQL-only jobs run through this wrapper so they are recorded the same way.
create function ops.run_job(p_job text, p_sql text) returns void
language plpgsql set search_path = '' as $$
declare
  t0 timestamptz := clock_timestamp();
begin
  begin
    execute p_sql;
    perform app_private.record_run(p_job, t0, extract(epoch from clock_timestamp() - t0) * 1000, true);
  exception when others then
    perform app_private.record_run(p_job, t0, extract(epoch from clock_timestamp() - t0) * 1000, false,
                                   jsonb_build_object('error', sqlerrm));
  end;
end $$;
comment on function ops.run_job(text, text) is
  'Runs a SQL job and records its outcome in ops.schedule_runs (an alert when it fails).';

-- Scans (weekly security scan, daily key drift, hourly guardrails) as SQL the jobs call

-- Security scan: tables without RLS in exposed schemas, SECURITY DEFINER functions without
-- a fixed search_path, and PUBLIC grants on internal schemas. Raises one alert per finding.
create function ops.security_scan() returns int
language plpgsql set search_path = '' as $$
declare
  f record;
  n int := 0;
begin
  for f in
    select 'rls_off' as kind, n.nspname || '.' || c.relname as what
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity and not c.relispartition
    union all
    select 'definer_search_path', n.nspname || '.' || p.proname
    from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.prosecdef and n.nspname in ('public', 'app_private', 'ops')
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) cfg where cfg like 'search_path=%')
    union all
    select 'public_grant', n.nspname
    from pg_catalog.pg_namespace n
    where n.nspname in ('app_private', 'ops', 'vault', 'net') and has_schema_privilege('public', n.oid, 'usage')
  loop
    n := n + 1;
    perform app_private.raise_alert(null, 'security.' || f.kind, 'critical', f.what,
      format('Security scan: %s (%s)', f.kind, f.what));
  end loop;
  return n;
end $$;
comment on function ops.security_scan() is
  'Weekly scan: public tables without RLS, definers without search_path, PUBLIC grants on internal schemas.';

-- Key drift: service keys past (or within a week of) their 90-day expiry.
create function ops.key_drift_scan() returns int
language plpgsql set search_path = '' as $$
declare
  k record;
  n int := 0;
begin
  for k in select * from ops.service_keys_due(interval '7 days') loop
    n := n + 1;
    perform app_private.raise_alert(null, 'keys.drift', case when k.expires_at < now() then 'critical' else 'warning' end,
      k.key_id, format('Service key %s of %s expires %s', k.key_id, k.account, k.expires_at));
  end loop;
  return n;
end $$;

-- Guardrails: PII that leaked into spans, outbox payloads or the audit log in the last hour
-- (emails and phone numbers; names cannot be told apart by shape), and idempotency collisions.
create function ops.guardrail_scan(p_since interval default interval '1 hour') returns int
language plpgsql set search_path = '' as $$
declare
  f record;
  n int := 0;
  -- the redactor's shapes (app_private.redact_text): an email, an E.164 or US phone number
  pii text := '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}'
           || '|(?<![\w+])(\+\d{8,15}|(\+?1[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4})(?!\w)';
begin
  for f in
    select 'spans' as place, count(*) as hits from public.spans s
     where s.start_time > now() - p_since and (s.attributes::text ~ pii or coalesce(s.status_message, '') ~ pii)
    union all
    select 'outbox', count(*) from public.outbox_events o
     where o.created_at > now() - p_since and o.payload::text ~ pii
    union all
    select 'audit', count(*) from public.audit_log a
     where a.occurred_at > now() - p_since
       and (coalesce(a.before::text, '') ~ pii or coalesce(a.after::text, '') ~ pii or coalesce(a.reason, '') ~ pii)
  loop
    if f.hits > 0 then
      n := n + 1;
      perform app_private.raise_alert(null, 'guardrail.pii', 'critical', f.place,
        format('%s %s row(s) carry an email or phone number in clear', f.hits, f.place));
    end if;
  end loop;
  return n;
end $$;

-- Idempotency collisions (hourly, charter §6 guardrails): an Idempotency-Key seen in the
-- last hour with more than one request fingerprint (across principals and tenants: keys
-- are meant to be unique per request). The rails answer each reuse 422 for its own
-- principal; this finds clients whose key generator collides. One warning per key.
create function ops.idempotency_collision_scan(p_since interval default interval '1 hour') returns int
language plpgsql set search_path = '' as $$
declare
  c record;
  n int := 0;
begin
  for c in
    select k.key, count(*) as uses, count(distinct k.fingerprint) as fingerprints,
           count(distinct (k.tenant_id, k.principal_id)) as callers
    from public.idempotency_keys k
    where k.created_at > now() - p_since
    group by k.key having count(distinct k.fingerprint) > 1
    order by k.key limit 100
  loop
    n := n + 1;
    perform app_private.raise_alert(null, 'guardrail.idempotency', 'warning', left(md5(c.key), 16),
      format('Idempotency-Key collision: one key used with %s different requests by %s caller(s)', c.fingerprints, c.callers));
  end loop;
  return n;
end $$;
comment on function ops.idempotency_collision_scan(interval) is
  'Hourly guardrail: Idempotency-Keys of the last hour used with more than one request fingerprint.';

-- Portal audit (weekly): per portal, where it is switched off, its last week of traffic and
-- failures, and the audit rows its actions wrote; reported as one info alert per week.
create function ops.portal_audit(p_since interval default interval '7 days')
returns table (portal text, disabled_scopes text[], requests bigint, errors bigint, audit_rows bigint)
language sql stable set search_path = '' as $$
  select p.name,
         coalesce((select array_agg(f.scope order by f.scope) from public.feature_flags_v2 f
                   where f.key = 'portal.enabled' and f.value = 'false' and (f.portal = p.name or f.portal is null)), '{}'),
         coalesce((select sum(m.count) from public.request_metrics m where m.portal = p.name and m.minute > now() - p_since), 0)::bigint,
         coalesce((select sum(m.errors) from public.request_metrics m where m.portal = p.name and m.minute > now() - p_since), 0)::bigint,
         -- audit rows its actions wrote: in its traces (the Live Feed names each trace's
         -- portal), or named after it (`rates.index_ingest`)
         (select count(*) from public.audit_log a
           where a.occurred_at > now() - p_since
             and (a.action like p.name || '.%'
                  or a.trace_id in (select l.trace_id from public.live_feed l
                                     where l.portal = p.name and l.created_at > now() - p_since and l.trace_id is not null)))
  from public.portals p order by p.position
$$;

create function ops.portal_audit_report() returns int
language plpgsql set search_path = '' as $$
declare
  v text;
begin
  select string_agg(format('%s: %s req, %s err, %s audit%s', a.portal, a.requests, a.errors, a.audit_rows,
                           case when cardinality(a.disabled_scopes) > 0 then ', off in ' || array_to_string(a.disabled_scopes, ' ') else '' end), '; ')
    into v from ops.portal_audit() a where a.requests > 0 or a.audit_rows > 0 or cardinality(a.disabled_scopes) > 0;
  perform app_private.raise_alert(null, 'report.portal_audit', 'info', to_char(now(), 'IYYY-IW'),
    'Weekly portal audit: ' || coalesce(v, 'no portal traffic'));
  return 1;
end $$;

create function ops.rollup_metrics(p_hour timestamptz default date_trunc('hour', now() - interval '1 hour'))
returns void language sql set search_path = '' as $$
  insert into ops.request_metrics_hourly (function_name, portal, hour, count, errors, le_1500, le_2500)
  select function_name, portal, p_hour, sum(count), sum(errors), sum(le_1500), sum(le_2500)
  from public.request_metrics where minute >= p_hour and minute < p_hour + interval '1 hour'
  group by function_name, portal
  on conflict on constraint request_metrics_hourly_key do update
    set count = excluded.count, errors = excluded.errors, le_1500 = excluded.le_1500, le_2500 = excluded.le_2500
$$;

-------------------------------------------------------------------------------------------
-- schedules
-------------------------------------------------------------------------------------------
-- The schedules (charter §6). TS jobs run in the autopilot function; SQL jobs in ops.run_job.
select ops.schedule_every_30s('autopilot-tick',
  $$select ops.invoke_function('autopilot/tick', '{}'::jsonb, 'service_role_key', 25000)$$);
select cron.schedule('autopilot-5m', '*/5 * * * *',
  $$select ops.invoke_function('autopilot/every_5m', '{}'::jsonb, 'service_role_key', 60000)$$);
select cron.schedule('guardrails-hourly', '7 * * * *',
  $$select ops.run_job('guardrail-scan', 'select ops.guardrail_scan()'); select ops.run_job('idempotency-scan', 'select ops.idempotency_collision_scan()'); select ops.run_job('metrics-rollup', 'select ops.rollup_metrics()')$$);
select cron.schedule('key-drift-daily', '23 4 * * *', $$select ops.run_job('key-drift', 'select ops.key_drift_scan()')$$);
select cron.schedule('security-scan-weekly', '41 5 * * 1',
  $$select ops.run_job('security-scan', 'select ops.security_scan()'); select ops.run_job('portal-audit', 'select ops.portal_audit_report()')$$);
select cron.schedule('reports-monthly', '11 6 1 * *',
  $$select ops.invoke_function('autopilot/monthly', '{}'::jsonb, 'service_role_key', 60000)$$);
select cron.schedule('autopilot-daily', '5 7 * * *',
  $$select ops.invoke_function('autopilot/daily', '{}'::jsonb, 'service_role_key', 60000)$$);
