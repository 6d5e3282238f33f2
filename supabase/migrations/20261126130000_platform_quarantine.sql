-- Quarantine (issue 12, item 9; the Autonomous portal's charter line "queue / SLO /
-- quarantine"): what keeps failing is stopped on its own, shown in the console and in
-- `ops status`, and released by a human with a reason, so one tenant, subscription or
-- detector never takes the platform (or its neighbours) down with it.
--
--   kind          trips when                                      while quarantined
--   tenant        its own requests breach the SLO gates while     agents@ may not write in it (quarantined,
--                 the rest of the platform is healthy (the        SY060; check_rails) and the agents' loop skips
--                 autopilot's tick; slo.*, quarantine.tenants.    it; its requests leave the platform's SLO
--                 platformAt)                                     (app_private.slo_counts)
--   subscription  quarantine.subscription.failures attempts in   the relay skips it; the events it misses are
--                 a row answered 5xx / timed out / failed to     delivered to the others and parked for it:
--                 connect, over quarantine.subscription.seconds   re-queued for it alone on release
--                 at least (a trigger on outbox_deliveries): a
--                 receiver down for a few retries is not parked
--   detector      quarantine.detector.failures runs in a row      the agents' loop skips it in that tenant
--                 threw (the agents' loop)
--   event         NOT here: one event that keeps failing is dead-lettered on its own after
--                 outbox.maxAttempts. The DLQ is the event quarantine (shown, replayed by a
--                 human through its caps); a second mechanism would only split that view.
--
-- Release: app_private.quarantine_release(id, reason), by a human with quarantine.release in
-- the tenant (the Autonomous portal's quarantine_release action, humansOnly) or the
-- operator's session (`npm run ops -- quarantine release <id> --reason ...`). The reason is
-- required; the row's audit entry carries it. A failing streak is counted in
-- ops.failure_streaks (internal) and restarts on release.
--
-- Sections: permissions and grants; flags; tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
insert into public.permissions (permission, description) values
  ('quarantine.open',    'Quarantine what keeps failing (the autopilot''s SLO gate, the agents'' detectors)'),
  ('quarantine.release', 'Release a quarantined tenant, subscription or detector (humans, with a reason)')
on conflict (permission) do nothing;
insert into public.role_permissions (role, permission) values
  ('super_admin', 'quarantine.open'), ('super_admin', 'quarantine.release'),
  ('tenant_admin', 'quarantine.release'), ('ops_manager', 'quarantine.release'),
  ('autopilot', 'quarantine.open'), ('agents', 'quarantine.open')
on conflict do nothing;

insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('quarantined', 'SY060', 503, 'Quarantined',
   'The tenant is quarantined: its agents may not write until a human releases it.'),
  ('already_released', 'SY061', 409, 'Already released', 'The quarantine was released before; a release runs once.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('quarantine.subscription.failures', 'integer', 1, 100000, null, false, '{global,tenant}', '10', 'flags.global.write',
   'Delivery attempts in a row that answer 5xx, time out or fail to connect before a subscription is quarantined'),
  ('quarantine.subscription.seconds', 'integer', 0, 86400, null, false, '{global,tenant}', '120', 'flags.global.write',
   'How long those failures must have lasted (a receiver down for a few retries recovers on its own)'),
  ('quarantine.detector.failures', 'integer', 1, 1000, null, false, '{global,tenant}', '3', 'flags.global.write',
   'Agent runs in a row in which a detector throws before it is quarantined in that tenant'),
  ('quarantine.tenants.platformAt', 'integer', 1, 100000, null, false, '{global}', '3', 'flags.global.write',
   'This many tenants breaching their SLOs in one tick is a platform breach (rollback), not a quarantine each')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- One row per quarantine, open (released_at null) or released. subject: the tenant's id, the
-- subscription's id, or '<portal>.<detector>'.
create table public.quarantines (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  kind             text not null constraint quarantines_kind_allowed_check check (kind in ('tenant', 'subscription', 'detector')),
  subject          text not null constraint quarantines_subject_length_check check (length(subject) between 1 and 200),
  reason           text not null constraint quarantines_reason_length_check check (length(reason) between 1 and 1000),
  detail           jsonb not null default '{}'::jsonb,
  trace_id         text,
  quarantined_at   timestamptz not null default now(),
  quarantined_by   text not null,
  released_at      timestamptz,
  released_by      uuid,
  released_by_name text,
  release_reason   text constraint quarantines_release_reason_length_check check (length(btrim(release_reason)) between 3 and 500),
  release_detail   jsonb,
  constraint quarantines_release_reason_required_check check ((released_at is null) = (release_reason is null))
);
comment on table public.quarantines is
  'Tenants, subscriptions and detectors stopped on their own because they kept failing; released by a human with a reason.';
create unique index quarantines_open_unique on public.quarantines (kind, subject, tenant_id) where released_at is null;
create index quarantines_tenant_idx on public.quarantines (tenant_id, quarantined_at desc);
-- Read with metrics.read (like alerts); written only through the functions below. Rail class
-- control: the stop refuses a machine's quarantine, never a human's release.
select ops.attach_rails('public.quarantines', 'metrics.read', null, null, null, 'control');
select ops.set_rls_sample('public.quarantines',
  '{"tenant_id": "$tenant", "kind": "detector", "subject": "matrix.n$n", "reason": "matrix", "quarantined_by": "matrix"}');

-- Failing streaks (what has not tripped yet); a success ends one, a release restarts it.
create table ops.failure_streaks (
  kind            text not null constraint failure_streaks_kind_allowed_check check (kind in ('subscription', 'detector')),
  subject         text not null,
  tenant_id       uuid not null references public.tenants (id) on delete cascade,
  failures        int  not null default 0 constraint failure_streaks_failures_nonnegative_check check (failures >= 0),
  last_error      text,
  first_failed_at timestamptz,
  updated_at      timestamptz not null default now(),
  primary key (kind, subject, tenant_id)
);
comment on table ops.failure_streaks is
  'Consecutive failures of subscriptions and detectors that have not been quarantined (yet).';
revoke all on ops.failure_streaks from public, anon, authenticated, service_role;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Whether a subject is quarantined now (in any tenant: tenant and subscription ids are
-- unique). check_rails, the relay's subscription lookup and the agents' loop ask it.
create function app_private.is_quarantined(p_kind text, p_subject text) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.quarantines q
                 where q.kind = p_kind and q.subject = p_subject and q.released_at is null)
$$;
comment on function app_private.is_quarantined(text, text) is
  'True while an open quarantine of this kind and subject exists.';
revoke execute on function app_private.is_quarantined(text, text) from public;

-- Opens a quarantine (or returns the open one) and alerts the tenant. Internal: the callers
-- below check who may.
create function app_private.quarantine_trip(p_tenant_id uuid, p_kind text, p_subject text, p_reason text,
                                            p_detail jsonb default '{}'::jsonb)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_id  uuid;
  v_by  text;
begin
  select coalesce(a.principal_name, a.db_user) into v_by from app_private.actor() a;
  insert into public.quarantines (tenant_id, kind, subject, reason, detail, trace_id, quarantined_by)
  values (p_tenant_id, p_kind, p_subject, left(p_reason, 1000), coalesce(p_detail, '{}'::jsonb),
          (app_private.request_context()).trace_id, v_by)
  on conflict (kind, subject, tenant_id) where released_at is null do nothing
  returning id into v_id;
  if v_id is null then
    select q.id into v_id from public.quarantines q
    where q.kind = p_kind and q.subject = p_subject and q.tenant_id = p_tenant_id and q.released_at is null;
    return v_id;
  end if;
  perform app_private.alert_upsert(p_tenant_id, 'quarantine.' || p_kind,
    case p_kind when 'tenant' then 'critical' else 'warning' end, p_subject,
    format('%s %s quarantined until a human releases it: %s', initcap(p_kind), p_subject, left(p_reason, 300)),
    jsonb_build_object('quarantine_id', v_id, 'kind', p_kind, 'subject', p_subject));
  return v_id;
end $$;
comment on function app_private.quarantine_trip(uuid, text, text, text, jsonb) is
  'Opens a quarantine (idempotent while open) and raises the tenant''s alert (internal).';
revoke execute on function app_private.quarantine_trip(uuid, text, text, text, jsonb) from public;

-- Quarantines a tenant (the autopilot's SLO gate) or a detector in the claim tenant: needs
-- quarantine.open there. A subscription trips by itself (the deliveries trigger).
create function app_private.quarantine_open(p_kind text, p_subject text, p_reason text, p_detail jsonb default '{}'::jsonb)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
begin
  if v_tenant is null then
    perform app_private.raise_error('bad_request', 'a quarantine is opened in the claim tenant (tenant_id claim)');
  end if;
  perform app_private.require_permission(v_tenant, 'quarantine.open');
  if p_kind = 'tenant' and p_subject is distinct from v_tenant::text then
    perform app_private.raise_error('bad_request', format('a tenant quarantine names the claim tenant %s', v_tenant));
  elsif p_kind = 'detector' and coalesce(p_subject, '') !~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' then
    perform app_private.raise_error('bad_request', 'a detector is named <portal>.<detector>');
  elsif p_kind is null or p_kind not in ('tenant', 'detector') then
    perform app_private.raise_error('bad_request', format('quarantine_open opens tenant or detector quarantines (got %s)', p_kind));
  end if;
  if coalesce(btrim(p_reason), '') = '' then
    perform app_private.raise_error('bad_request', 'a quarantine needs a reason');
  end if;
  return app_private.quarantine_trip(v_tenant, p_kind, p_subject, p_reason, p_detail);
end $$;
comment on function app_private.quarantine_open(text, text, text, jsonb) is
  'Quarantines the claim tenant or one of its detectors (quarantine.open there).';
revoke execute on function app_private.quarantine_open(text, text, text, jsonb) from public;
grant execute on function app_private.quarantine_open(text, text, text, jsonb) to authenticated;

-- The agents' loop reports each detector run in the claim tenant: p_error null ends its
-- streak; otherwise the streak grows, and at quarantine.detector.failures the detector is
-- quarantined there. Returns the open quarantine's id, if any.
create function app_private.detector_outcome(p_detector text, p_error text default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_n      int;
  v_error  text := left(app_private.redact_text(p_error), 300);
begin
  if v_tenant is null or coalesce(p_detector, '') !~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$' then
    perform app_private.raise_error('bad_request', 'detector_outcome needs the claim tenant and a <portal>.<detector> name');
  end if;
  perform app_private.require_permission(v_tenant, 'quarantine.open');
  if p_error is null then
    delete from ops.failure_streaks f where f.kind = 'detector' and f.subject = p_detector and f.tenant_id = v_tenant;
    return null;
  end if;
  insert into ops.failure_streaks as f (kind, subject, tenant_id, failures, last_error, first_failed_at)
  values ('detector', p_detector, v_tenant, 1, v_error, now())
  on conflict (kind, subject, tenant_id) do update set failures = f.failures + 1, last_error = excluded.last_error, updated_at = now()
  returning f.failures into v_n;
  if v_n < app_private.flag_number('quarantine.detector.failures', v_tenant) then
    return null;
  end if;
  return app_private.quarantine_trip(v_tenant, 'detector', p_detector,
    format('%s runs in a row threw: %s', v_n, v_error), jsonb_build_object('failures', v_n));
end $$;
comment on function app_private.detector_outcome(text, text) is
  'Records a detector run in the claim tenant; quarantines the detector after quarantine.detector.failures throws in a row.';
revoke execute on function app_private.detector_outcome(text, text) from public;
grant execute on function app_private.detector_outcome(text, text) to authenticated;

-- The events a quarantined subscription missed: delivered (to the others) since it was
-- quarantined, matching its filter, never acknowledged by it. The relay skipped it for
-- exactly these (before the quarantine an event is delivered only once every live
-- subscription took it). Dead events stay in the DLQ.
create function app_private.quarantine_parked_events(p_quarantine_id uuid)
returns table (id uuid, created_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select e.id, e.created_at
  from public.quarantines q
  join public.outbox_subscriptions s on q.kind = 'subscription' and s.id::text = q.subject and s.tenant_id = q.tenant_id
  join public.outbox_events e on e.tenant_id = q.tenant_id and e.state = 'delivered' and e.delivered_at >= q.quarantined_at
  where q.id = p_quarantine_id
    and app_private.event_matches(s.event_filter, e.event_type)
    and not exists (select 1 from public.outbox_deliveries d where d.event_id = e.id and d.subscription_id = s.id and d.ok)
$$;
comment on function app_private.quarantine_parked_events(uuid) is
  'Events a quarantined subscription missed (delivered to the others since); re-queued for it on release (internal).';
revoke execute on function app_private.quarantine_parked_events(uuid) from public;

-- How many events a quarantine holds parked, for whoever may read the tenant's outbox
-- (outbox.read there; null otherwise, and for quarantines that park nothing).
create function app_private.quarantine_parked(p_quarantine_id uuid) returns bigint
language plpgsql stable security definer set search_path = '' as $$
declare
  q public.quarantines;
begin
  select * into q from public.quarantines x where x.id = p_quarantine_id;
  if q.kind is distinct from 'subscription' or q.released_at is not null
     or not (app_private.is_trusted_session() or app_private.has_permission(q.tenant_id, 'outbox.read')) then
    return null;
  end if;
  return (select count(*) from app_private.quarantine_parked_events(q.id));
end $$;
comment on function app_private.quarantine_parked(uuid) is
  'Number of events an open subscription quarantine holds parked (outbox.read in its tenant).';
revoke execute on function app_private.quarantine_parked(uuid) from public;
grant execute on function app_private.quarantine_parked(uuid) to authenticated;

-- Releases a quarantine: a human with quarantine.release in its tenant, or the operator's
-- session; a reason of 3+ characters, kept on the row and in its audit entry. A
-- subscription's parked events go back to pending (its own delivery only: the others'
-- acknowledgements stand), its streak restarts, the tenant's alert is resolved.
create function app_private.quarantine_release(p_id uuid, p_reason text) returns public.quarantines
language plpgsql security definer set search_path = '' as $$
declare
  q        public.quarantines;
  a        record;
  v_reason text := btrim(coalesce(p_reason, ''));
  v_n      int := 0;
begin
  select * into q from public.quarantines x where x.id = p_id for update;
  if not found then
    perform app_private.raise_error('bad_request', format('no quarantine %s', p_id));
  end if;
  select * into a from app_private.actor();
  if not app_private.is_trusted_session() then
    if a.principal_kind is distinct from 'human' then
      perform app_private.raise_error('forbidden', 'quarantines are released by humans, not machine principals');
    end if;
    perform app_private.require_permission(q.tenant_id, 'quarantine.release');
  end if;
  if q.released_at is not null then
    perform app_private.raise_error('already_released',
      format('quarantine %s was released at %s by %s', q.id, q.released_at, q.released_by_name));
  end if;
  if length(v_reason) < 3 then
    perform app_private.raise_error('bad_request', 'a release needs a reason of at least 3 characters');
  end if;
  perform set_config('app.reason', v_reason, true);
  if q.kind = 'subscription' then
    update public.outbox_events o
       set state = 'pending', attempts = 0, next_attempt_at = now(), delivered_at = null, last_error = null,
           headers = o.headers || jsonb_build_object('x-quarantine-release', q.id)
      from app_private.quarantine_parked_events(q.id) p
     where o.id = p.id and o.created_at = p.created_at;
    get diagnostics v_n = row_count;
  end if;
  delete from ops.failure_streaks f where f.kind = q.kind and f.subject = q.subject and f.tenant_id = q.tenant_id;
  update public.alerts l set resolved_at = now()
   where l.tenant_id = q.tenant_id and l.source = 'quarantine.' || q.kind and l.dedupe_key = q.subject and l.resolved_at is null;
  update public.quarantines x
     set released_at = now(), released_by = a.principal_id,
         -- the operator's session: its database user and tool (application_name: the ops CLI names the OS user)
         released_by_name = coalesce(a.principal_name, a.db_user || coalesce(' via ' || nullif(current_setting('application_name', true), ''), '')),
         release_reason = v_reason, release_detail = jsonb_build_object('requeued', v_n)
   where x.id = q.id
  returning * into q;
  return q;
end $$;
comment on function app_private.quarantine_release(uuid, text) is
  'Releases a quarantine (a human with quarantine.release, or the operator), with a reason; re-queues a subscription''s parked events.';
revoke execute on function app_private.quarantine_release(uuid, text) from public;
grant execute on function app_private.quarantine_release(uuid, text) to authenticated;

-- Subscriptions' streaks, from every statement that records delivery attempts: a receiver
-- that took an event ends its streak; attempts answered 5xx, timed out or not connected add
-- to it (4xx, 410 and 429 neither: the receiver answered); at quarantine.subscription.failures
-- in a streak that began quarantine.subscription.seconds ago or more, the subscription is
-- quarantined. Never fails the relay's acknowledgement: a quarantine the rails refuse (the
-- stop) is skipped with a warning and trips on a later attempt.
create function app_private.quarantine_watch_deliveries() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  update ops.failure_streaks f set failures = 0, last_error = null, first_failed_at = null, updated_at = now()
    from (select distinct n.subscription_id from new_rows n where n.ok and n.subscription_id is not null) s
   where f.kind = 'subscription' and f.subject = s.subscription_id::text and f.failures > 0;
  if not exists (select 1 from new_rows n where not n.ok) then
    return null;
  end if;
  for r in
    with failed as (
      select n.subscription_id, n.tenant_id, count(*)::int as n,
             (array_agg(coalesce(n.error, 'HTTP ' || n.status_code) order by n.created_at desc))[1] as last_error
      from new_rows n
      where not n.ok and n.subscription_id is not null and (n.status_code is null or n.status_code >= 500)
        and not exists (select 1 from new_rows o where o.ok and o.subscription_id = n.subscription_id)
      group by n.subscription_id, n.tenant_id)
    insert into ops.failure_streaks as f (kind, subject, tenant_id, failures, last_error, first_failed_at)
    select 'subscription', x.subscription_id::text, x.tenant_id, x.n, left(x.last_error, 300), now() from failed x
    on conflict (kind, subject, tenant_id) do update
      set failures = f.failures + excluded.failures, last_error = excluded.last_error,
          first_failed_at = coalesce(f.first_failed_at, excluded.first_failed_at), updated_at = now()
    returning f.subject, f.tenant_id, f.failures, f.last_error, f.first_failed_at
  loop
    continue when r.failures < app_private.flag_number('quarantine.subscription.failures', r.tenant_id)
               or now() - r.first_failed_at < make_interval(secs => app_private.flag_number('quarantine.subscription.seconds', r.tenant_id)::int)
               or app_private.is_quarantined('subscription', r.subject);
    begin
      perform app_private.quarantine_trip(r.tenant_id, 'subscription', r.subject,
        format('%s delivery attempts in a row failed since %s (last: %s)', r.failures,
               to_char(r.first_failed_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"'), r.last_error),
        jsonb_build_object('failures', r.failures));
    exception when others then
      raise warning 'subscription % not quarantined: %', r.subject, sqlerrm;
    end;
  end loop;
  return null;
end $$;
comment on function app_private.quarantine_watch_deliveries() is
  'Counts subscriptions'' failing delivery attempts and quarantines one at quarantine.subscription.failures in a row.';
revoke execute on function app_private.quarantine_watch_deliveries() from public;

-- Whether a tenant's request metrics of a minute are left out of SLO figures: every minute of
-- a tenant up to the end of its quarantine. A quarantined tenant's failures are its own, not
-- the platform's, and a released tenant starts from a clean window. Security invoker: the
-- caller's RLS on quarantines (metrics.read, as on request_metrics). Used by slo_counts (the
-- autopilot's gate) and public.slo_summary (ops status, the post-deploy gate, prove-green).
create function app_private.slo_left_out(p_tenant_id uuid, p_minute timestamptz) returns boolean
language sql stable set search_path = '' as $$
  select exists (select 1 from public.quarantines q
                 where q.kind = 'tenant' and q.tenant_id = p_tenant_id
                   and (q.released_at is null or p_minute <= q.released_at))
$$;
comment on function app_private.slo_left_out(uuid, timestamptz) is
  'True for a tenant''s minutes up to the end of its quarantine: left out of SLO figures.';
revoke execute on function app_private.slo_left_out(uuid, timestamptz) from public;
grant execute on function app_private.slo_left_out(uuid, timestamptz) to authenticated, service_role;

-- Request metrics for the SLO gate, per tenant (null: platform rows), without the minutes
-- slo_left_out leaves out. For the autopilot and the ops CLI (owner sessions).
create function app_private.slo_counts(p_since interval)
returns table (tenant_id uuid, function_name text, portal text, requests bigint, errors bigint, buckets bigint[])
language sql stable security definer set search_path = '' as $$
  select m.tenant_id, m.function_name, m.portal, sum(m.count)::bigint, sum(m.errors)::bigint,
         array[sum(m.le_100), sum(m.le_250), sum(m.le_500), sum(m.le_1000), sum(m.le_1500), sum(m.le_2500),
               sum(m.le_5000), sum(m.le_10000)]::bigint[]
  from public.request_metrics m
  where m.minute >= date_trunc('minute', now() - p_since)
    and not app_private.slo_left_out(m.tenant_id, m.minute)
  group by m.tenant_id, m.function_name, m.portal
$$;
comment on function app_private.slo_counts(interval) is
  'Request counts and latency buckets per tenant, function and portal, without quarantined tenants'' minutes (internal).';
revoke execute on function app_private.slo_counts(interval) from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger quarantine_watch after insert on public.outbox_deliveries
  referencing new table as new_rows for each statement execute function app_private.quarantine_watch_deliveries();
