-- Observability (issue item 7): spans with PII redacted, and request metrics per function
-- and portal per minute, shaped for SLO math (charter §8: success >= 98%, p95 <= 2.5 s;
-- portals p95 <= 1.5 s). Both are time partitioned (daily).
--
-- Sections: tables; functions; triggers and partitions.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Spans
create table public.spans (
  trace_id       text not null constraint spans_trace_id_format_check check (trace_id ~ '^[0-9a-f]{32}$'),
  span_id        text not null constraint spans_span_id_format_check check (span_id ~ '^[0-9a-f]{16}$'),
  parent_span_id text constraint spans_parent_span_id_format_check check (parent_span_id ~ '^[0-9a-f]{16}$'),
  tenant_id      uuid,                              -- null: platform span
  principal_id   uuid,
  name           text not null constraint spans_name_length_check check (length(name) between 1 and 300),
  kind           text not null default 'internal'
                 constraint spans_kind_allowed_check check (kind in ('internal', 'server', 'client', 'producer', 'consumer')),
  function_name  text,
  portal         text,
  attributes     jsonb not null default '{}'::jsonb,
  start_time     timestamptz not null,
  duration_ms    numeric(12, 3) not null constraint spans_duration_ms_nonnegative_check check (duration_ms >= 0),
  status         text not null default 'unset' constraint spans_status_allowed_check check (status in ('unset', 'ok', 'error')),
  status_message text,
  primary key (trace_id, span_id, start_time)
) partition by range (start_time);
comment on table public.spans is
  'Trace spans, PII redacted on every write path.';
create index spans_start_idx on public.spans (start_time);

select ops.tenant_rls('public.spans', 'traces.read', 'telemetry.write', null, null);

select ops.set_rls_sample('public.spans',
  '{"trace_id": "$hex32", "span_id": "$hex16", "tenant_id": "$tenant", "name": "matrix", "start_time": "$now", "duration_ms": 1}');

-- Request metrics: one row per (function, portal, tenant, minute)
-- le_* are cumulative histogram buckets (requests that took <= N ms), Prometheus-style;
-- `count` is the +Inf bucket. share of requests under the 2.5 s SLO = le_2500 / count.
create table public.request_metrics (
  function_name text        not null constraint request_metrics_function_name_length_check check (length(function_name) between 1 and 100),
  portal        text,
  tenant_id     uuid,
  minute        timestamptz not null constraint request_metrics_minute_whole_minute_check check (minute = date_trunc('minute', minute, 'UTC')),
  count         bigint      not null default 0 constraint request_metrics_count_nonnegative_check check (count >= 0),
  errors        bigint      not null default 0 constraint request_metrics_errors_range_check check (errors >= 0 and errors <= count),
  sum_ms        numeric     not null default 0,
  max_ms        numeric     not null default 0,
  le_100        bigint      not null default 0,
  le_250        bigint      not null default 0,
  le_500        bigint      not null default 0,
  le_1000       bigint      not null default 0,
  le_1500       bigint      not null default 0,
  le_2500       bigint      not null default 0,
  le_5000       bigint      not null default 0,
  le_10000      bigint      not null default 0,
  constraint request_metrics_key unique nulls not distinct (function_name, portal, tenant_id, minute)
) partition by range (minute);
comment on table public.request_metrics is
  'Requests per function, portal, tenant and minute, with cumulative latency buckets for SLO math.';
create index request_metrics_minute_idx on public.request_metrics (minute);

select ops.tenant_rls('public.request_metrics', 'metrics.read', null, null, null);
revoke insert, update, delete, truncate on public.request_metrics from service_role;

select ops.set_rls_sample('public.request_metrics',
  '{"function_name": "matrix-$n", "tenant_id": "$tenant", "minute": "$minute", "count": 1}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- PII redaction: app_private.redact_text / redact_pii (20261125030000_platform_audit: the
-- audit log redacts with the same rules, and it is created first).

-- Every write path redacts: the API, the edge helper and the owner.
create function app_private.spans_redact() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.attributes := app_private.redact_pii(coalesce(new.attributes, '{}'::jsonb));
  new.status_message := app_private.redact_text(new.status_message);
  return new;
end $$;

-- Records a span for the calling principal: a JWT principal needs telemetry.write in the
-- tenant (platform spans, no tenant: a global grant). Attributes are redacted.
create function app_private.record_span(p_trace_id text, p_span_id text, p_parent_span_id text, p_name text,
                                        p_start_time timestamptz, p_duration_ms numeric,
                                        p_status text default 'ok', p_attributes jsonb default '{}'::jsonb,
                                        p_tenant_id uuid default null, p_function_name text default null,
                                        p_portal text default null, p_kind text default 'server',
                                        p_status_message text default null)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_rails_caller(p_tenant_id);
  if app_private.principal_id() is not null then
    perform app_private.require_permission(p_tenant_id, 'telemetry.write');
  end if;
  insert into public.spans (trace_id, span_id, parent_span_id, tenant_id, principal_id, name, kind, function_name,
                            portal, attributes, start_time, duration_ms, status, status_message)
  values (p_trace_id, p_span_id, p_parent_span_id, p_tenant_id, app_private.principal_id(), p_name, p_kind,
          p_function_name, p_portal, coalesce(p_attributes, '{}'::jsonb), p_start_time, p_duration_ms,
          p_status, p_status_message)
  on conflict do nothing;
end $$;
comment on function app_private.record_span(text, text, text, text, timestamptz, numeric, text, jsonb, uuid, text, text, text, text) is
  'Records a span for the calling principal (attributes redacted).';

-- Adds one request to its minute (atomic upsert). A JWT principal needs telemetry.write in
-- the tenant (platform rows, no tenant: a global grant): the SLO gate reads these rows.
create function app_private.record_request(p_function_name text, p_portal text, p_tenant_id uuid,
                                           p_duration_ms numeric, p_error boolean,
                                           p_at timestamptz default now())
returns void
language plpgsql security definer set search_path = '' as $$
declare
  d numeric := p_duration_ms;
begin
  perform app_private.require_rails_caller(p_tenant_id);
  if app_private.principal_id() is not null then
    perform app_private.require_permission(p_tenant_id, 'telemetry.write');
  end if;
  if p_function_name is null or d is null or d < 0 then
    perform app_private.raise_error('bad_request', 'record_request needs a function name and a duration >= 0');
  end if;
  insert into public.request_metrics as m (function_name, portal, tenant_id, minute, count, errors, sum_ms, max_ms,
    le_100, le_250, le_500, le_1000, le_1500, le_2500, le_5000, le_10000)
  values (p_function_name, p_portal, p_tenant_id, date_trunc('minute', p_at, 'UTC'), 1, p_error::int, d, d,
    (d <= 100)::int, (d <= 250)::int, (d <= 500)::int, (d <= 1000)::int,
    (d <= 1500)::int, (d <= 2500)::int, (d <= 5000)::int, (d <= 10000)::int)
  on conflict on constraint request_metrics_key do update set
    count = m.count + 1, errors = m.errors + excluded.errors, sum_ms = m.sum_ms + excluded.sum_ms,
    max_ms = greatest(m.max_ms, excluded.max_ms),
    le_100 = m.le_100 + excluded.le_100, le_250 = m.le_250 + excluded.le_250,
    le_500 = m.le_500 + excluded.le_500, le_1000 = m.le_1000 + excluded.le_1000,
    le_1500 = m.le_1500 + excluded.le_1500, le_2500 = m.le_2500 + excluded.le_2500,
    le_5000 = m.le_5000 + excluded.le_5000, le_10000 = m.le_10000 + excluded.le_10000;
end $$;
comment on function app_private.record_request(text, text, uuid, numeric, boolean, timestamptz) is
  'Adds one request to its minute of public.request_metrics.';

-- SLO figures over a window (for gates and dashboards): success ratio, share of requests
-- under 1.5 s and 2.5 s, and an upper bound of p95 from the histogram (the smallest bucket
-- holding 95% of requests; null when p95 is above 10 s). RLS of the caller applies.
create function public.slo_summary(p_since interval default interval '5 minutes',
                                   p_function_name text default null, p_portal text default null)
returns table (function_name text, portal text, requests bigint, errors bigint, success_ratio numeric,
               share_le_1500 numeric, share_le_2500 numeric, p95_upper_ms int)
language plpgsql stable set search_path = '' as $$
begin
  -- plpgsql: slo_left_out is defined with the quarantines (a later migration).
  return query
  select m.function_name, m.portal, sum(m.count)::bigint, sum(m.errors)::bigint,
         round(1 - sum(m.errors)::numeric / nullif(sum(m.count), 0), 5),
         round(sum(m.le_1500)::numeric / nullif(sum(m.count), 0), 5),
         round(sum(m.le_2500)::numeric / nullif(sum(m.count), 0), 5),
         case when sum(m.le_100)   >= 0.95 * sum(m.count) then 100
              when sum(m.le_250)   >= 0.95 * sum(m.count) then 250
              when sum(m.le_500)   >= 0.95 * sum(m.count) then 500
              when sum(m.le_1000)  >= 0.95 * sum(m.count) then 1000
              when sum(m.le_1500)  >= 0.95 * sum(m.count) then 1500
              when sum(m.le_2500)  >= 0.95 * sum(m.count) then 2500
              when sum(m.le_5000)  >= 0.95 * sum(m.count) then 5000
              when sum(m.le_10000) >= 0.95 * sum(m.count) then 10000 end
  from public.request_metrics m
  where m.minute >= date_trunc('minute', now() - p_since)
    and (p_function_name is null or m.function_name = p_function_name)
    and (p_portal is null or m.portal = p_portal)
    and not app_private.slo_left_out(m.tenant_id, m.minute)
  group by m.function_name, m.portal
  order by m.function_name, m.portal;
end $$;
comment on function public.slo_summary(interval, text, text) is
  'SLO figures over a window: success ratio, share under 1.5 s / 2.5 s, p95 upper bound (the caller''s RLS; quarantined tenants'' minutes left out).';

revoke execute on function public.slo_summary(interval, text, text) from public, anon;
grant execute on function
  app_private.record_span(text, text, text, text, timestamptz, numeric, text, jsonb, uuid, text, text, text, text),
  app_private.record_request(text, text, uuid, numeric, boolean, timestamptz),
  public.slo_summary(interval, text, text)
to authenticated, service_role;

-------------------------------------------------------------------------------------------
-- triggers and partitions
-------------------------------------------------------------------------------------------
create trigger spans_redact before insert or update on public.spans
  for each row execute function app_private.spans_redact();

create trigger rails_guard before insert or update or delete or truncate on public.spans
  for each statement execute function app_private.rails_guard('delivery');
select ops.register_partitioned('public.spans', 'day', 14, interval '7 days');

select ops.register_partitioned('public.request_metrics', 'day', 14, interval '35 days');
