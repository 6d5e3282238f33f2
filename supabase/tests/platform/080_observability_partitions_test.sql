-- Observability (spans with PII redacted, request metrics shaped for SLO math) and time
-- partitioning with rotation (create ahead, drop past TTL, keep undelivered outbox events,
-- anchor the audit chain).
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;
select plan(33);

create function pg_temp.partition_of(t regclass, at timestamptz) returns text language sql as $$
  select c.relname::text from pg_inherits i join pg_class c on c.oid = i.inhrelid
  where i.inhparent = t and at >= ops.partition_upper_bound(c.oid) - ops.partition_step(
          (select granularity from ops.partitioned_tables where table_name = t))
    and at < ops.partition_upper_bound(c.oid)
$$;

-------------------------------------------------------------------------------------------
-- Spans: PII redacted on every write path
-------------------------------------------------------------------------------------------
select tests.act_as('agents');
select lives_ok($$select app_private.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', null, 'rates.price_one',
  now(), 412.5, 'error',
  '{"user.email": "jane.doe@shipper.example", "customer.name": "Jane Doe", "http.url": "https://api.example.com/v1/loads?token=abc",
    "service.name": "rates", "http.method": "POST", "note": "call +1 (312) 555-0199 or jane.doe@shipper.example",
    "auth": {"password": "hunter2", "api_key": "k-123"}, "cc": ["ops@shipper.example"], "lane.miles": 912}',
  'd0000000-0000-4000-8000-000000000001', 'rates', 'rates', 'server', 'failed for jane.doe@shipper.example')$$,
  'an agent records a span');
select tests.act_as_owner();
select is((select attributes from spans where span_id = 'b7ad6b7169203331'),
  '{"user.email": "[redacted]", "customer.name": "[redacted]", "http.url": "https://api.example.com/[redacted]",
    "service.name": "rates", "http.method": "POST", "note": "call [redacted:phone] or [redacted:email]",
    "auth": {"password": "[redacted]", "api_key": "[redacted]"}, "cc": ["[redacted:email]"], "lane.miles": 912}'::jsonb,
  'emails, names, URLs, phones and secrets are masked; the rest is kept');
select is((select status_message from spans where span_id = 'b7ad6b7169203331'), 'failed for [redacted:email]',
          'the status message is redacted too');
insert into spans (trace_id, span_id, name, start_time, duration_ms, attributes)
values ('0af7651916cd43dd8448eb211c80319c', 'c7ad6b7169203332', 'direct', now(), 1, '{"email": "a@b.example"}');
select is((select attributes ->> 'email' from spans where span_id = 'c7ad6b7169203332'), '[redacted]',
          'a direct insert by the owner is redacted as well');
select throws_ok($$insert into spans (trace_id, span_id, name, start_time, duration_ms) values ('not-hex', 'x', 'n', now(), 1)$$,
  '23514', null, 'trace and span ids must be W3C hex');
select tests.act_as('dev@demo-freight.test');
select is((select count(*)::int from spans), 1, 'a developer reads its tenant''s (redacted) traces');
select tests.act_as('viewer@demo-freight.test');
select is((select count(*)::int from spans), 0, 'a viewer does not');

-------------------------------------------------------------------------------------------
-- Request metrics per function + portal per minute, histogram with 1.5 s and 2.5 s
-------------------------------------------------------------------------------------------
select has_column('public', 'request_metrics', 'le_1500', 'a 1.5 s bucket (portal p95 SLO)');
select has_column('public', 'request_metrics', 'le_2500', 'a 2.5 s bucket (p95 SLO)');
select tests.act_as('agents');
select app_private.record_request('rates', 'rates', 'd0000000-0000-4000-8000-000000000001', d, e)
from (values (80, false), (1400, false), (2400, false), (3000, true)) as r(d, e);
select tests.act_as_owner();
select results_eq(
  $$select count, errors, le_100, le_1000, le_1500, le_2500, le_5000, max_ms, minute = date_trunc('minute', now(), 'UTC')
    from request_metrics where function_name = 'rates' and portal = 'rates'$$,
  $$values (4::bigint, 1::bigint, 1::bigint, 1::bigint, 2::bigint, 3::bigint, 4::bigint, 3000::numeric, true)$$,
  'four requests land in one minute row with cumulative buckets');
select tests.act_as('analyst@demo-freight.test');
select results_eq(
  $$select requests, errors, success_ratio, share_le_1500, share_le_2500, p95_upper_ms from slo_summary('5 minutes', 'rates')$$,
  $$values (4::bigint, 1::bigint, 0.75000, 0.50000, 0.75000, 5000)$$,
  'slo_summary gives success ratio, shares under 1.5 s / 2.5 s and a p95 bound');
select tests.act_as('dispatch@demo-freight.test');
select is((select count(*)::int from request_metrics), 0, 'metrics need metrics.read');
select tests.act_as_owner();
select throws_ok($$select app_private.record_request('rates', null, null, -1, false)$$, 'SY017', null, 'a negative duration is refused');

-------------------------------------------------------------------------------------------
-- Partitioning and rotation
-------------------------------------------------------------------------------------------
select set_eq($$select table_name::text from ops.partitioned_tables$$,
  array['outbox_events', 'audit_log', 'spans', 'request_metrics'], 'outbox, audit, spans and metrics are partitioned by time');
select ok((select bool_and(c.relkind = 'p') from ops.partitioned_tables p join pg_class c on c.oid = p.table_name),
          'as partitioned tables');
select ok(pg_temp.partition_of('public.spans', now() + interval '14 days') is not null
          and pg_temp.partition_of('public.audit_log', now() + interval '3 months') is not null,
          'partitions exist ahead (14 days; 3 months for audit)');

-- Outbox: a delivered event yesterday, a pending event today.
insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, created_at, state)
values ('d0000000-0000-4000-8000-000000000001', 'shipment', 'OLD', 'shipment.created', now() - interval '1 day', 'delivered'),
       ('d0000000-0000-4000-8000-000000000001', 'shipment', 'NEW', 'shipment.created', now(), 'pending');
create temp table rot as select * from ops.rotate_partitions(now() + interval '30 days');
select ok(pg_temp.partition_of('public.spans', now() + interval '44 days') is not null,
          'rotation creates partitions ahead of its date');
select is((select action from rot where partition_name = pg_temp.partition_of('public.outbox_events', now())),
          'kept', 'an outbox partition past its TTL with undelivered events is kept');
select ok((select action from rot where table_name = 'public.outbox_events' and partition_name like '%' || to_char((now() - interval '1 day') at time zone 'UTC', 'YYYYMMDD'))
          = 'dropped' and not exists (select 1 from outbox_events where aggregate_id = 'OLD'),
          'one with only delivered events is dropped');
select ok(exists (select 1 from outbox_events where aggregate_id = 'NEW'), 'the pending event is still there');
select ok((select count(*) from rot where table_name = 'public.spans' and action = 'dropped') > 0
          and not exists (select 1 from spans), 'spans past their 7-day TTL are dropped');
select ok(not exists (select 1 from rot where table_name = 'public.audit_log' and action = 'dropped'),
          'the audit log is kept 400 days');
select is((select count(*)::int from pg_inherits i join pg_class c on c.oid = i.inhrelid
           where i.inhparent in (select table_name from ops.partitioned_tables) and not c.relrowsecurity), 0,
          'new partitions have RLS on');
select ok((select bool_and(exists (select 1 from pg_trigger g where g.tgrelid = i.inhrelid and g.tgname = 'append_only_truncate'))
           from pg_inherits i where i.inhparent = 'public.audit_log'::regclass),
          'every audit partition refuses TRUNCATE');

-- Audit retention: dropped partitions leave anchors and the chains still verify.
create temp table heads as select * from ops.audit_chain_heads;
create temp table rot2 as select * from ops.rotate_partitions(now() + interval '500 days');
select ok((select count(*) from rot2 where table_name = 'public.audit_log' and action = 'dropped') > 0
          and not exists (select 1 from audit_log where occurred_at < now() + interval '100 days'),
          'audit partitions past 400 days are dropped');
select is((select count(*)::int from heads h join ops.audit_anchors a on a.chain_id = h.chain_id and a.chain_seq = h.last_seq
           and a.hash = h.last_hash), (select count(*)::int from heads),
          'each dropped chain end is anchored');
select lives_ok($$select ops.ensure_partition('public.audit_log', now())$$, 'the current month is recreated');
select lives_ok($$select app_private.audit_event('ops.test', null, null, null, null, null, 'd0000000-0000-4000-8000-000000000001')$$,
  'the chain continues');
select is((select count(*)::int from app_private.audit_verify() where not ok), 0, 'every chain verifies against its anchors');
delete from ops.audit_anchors where chain_id = 'd0000000-0000-4000-8000-000000000001';
select results_eq($$select ok, problem like 'rows before seq % are missing and no retention anchor records them'
                    from app_private.audit_verify('d0000000-0000-4000-8000-000000000001')$$,
  $$values (false, true)$$, 'without its anchor the missing history is reported');

-- TTL of the unpartitioned logs
insert into outbox_deliveries (tenant_id, event_id, attempt, ok, created_at) values
  ('d0000000-0000-4000-8000-000000000001', gen_random_uuid(), 1, true, now() - interval '31 days'),
  ('d0000000-0000-4000-8000-000000000001', gen_random_uuid(), 1, true, now());
select results_eq($$select removed from ops.ttl_cleanup() where what = 'outbox_deliveries'$$, $$values (1::bigint)$$,
  'delivery attempts older than 30 days are cleaned up');

-------------------------------------------------------------------------------------------
-- Schedules
-------------------------------------------------------------------------------------------
select ok(exists (select 1 from cron.job where jobname = 'partition-rotation' and command like '%ops.rotate_partitions()%' and active),
          'partition rotation runs daily (pg_cron)');
select ok(exists (select 1 from cron.job where jobname = 'rails-cleanup' and schedule = '*/5 * * * *' and active),
          'stale rail state is cleaned every 5 minutes');

select * from finish();
rollback;
