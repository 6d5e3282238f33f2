-- Outbox, subscriptions, deliveries, DLQ and replay requests (issue item 5).
--
-- Publishing is an INSERT into public.outbox_events in the same transaction as the domain
-- write (RLS: outbox.publish; rails class domain). Each insert notifies channel 'outbox' so
-- a relay wakes without polling. The relay claims due events with
-- app_private.outbox_claim() (SKIP LOCKED, at most one undelivered event per aggregate at a
-- time, so order is kept per aggregate), delivers, and reports with app_private.outbox_ack()
-- (backoff; dead after max attempts -> DLQ with the original event and its trace id).
-- Event ids are the consumers' dedupe key; delivery is at least once. The relay acts as
-- relay@, whose delivery bookkeeping is not autonomous (see the kill switch migration).
--
-- Claims (issue 12): each claim carries a token (claim_token); the relay extends its claim
-- while its deliveries run (app_private.outbox_extend), and an acknowledgement of an event
-- that is no longer under that claim (claimed again elsewhere, or settled) is late: its
-- attempts are still logged, nothing else changes (see the relay migration).
--
-- Parked (issue 12): a subscription whose receiver answered 410 Gone is switched off and
-- marked gone (gone_at, disabled_reason). An event that every live subscription took but
-- that a gone one did not is parked, not delivered: outbox_events.state 'parked' and a DLQ
-- entry in state 'parked' naming the subscriptions (parked_for), so nothing is dropped. Once a
-- human re-enables the subscription (which clears the mark), the entry is replayed like any
-- DLQ entry, through the same caps (replay_request); until then a replay of it is refused.
-- A human who wants the events of a gone subscription dropped clears gone_at (or deletes it).
--
-- Replays: app_private.replay_request() applies the caps in Postgres (batch <=
-- budget.replay.maxBatch, payload <= budget.replay.maxPayloadMB, rate.replay.per5m per
-- tenant and per IP), refuses while DLQ replays are paused (dlq.paused / DEGRADE), and in
-- STEP-DOWN leaves the request pending until a human approves it (replay_decide()).
--
-- Subscriptions (issue 11): a subscription signs with its own tenant's secret (secret_ref
-- is '<tenant uuid>/<name>', a named CHECK), and the secret, when already in Vault, is a
-- valid Standard Webhooks secret (bad_subscription_secret, SY051); its endpoint is not a
-- loopback / private / link-local / fc00::/7 address unless outbox.allowPrivateTargets is on
-- (private_target, SY052; local and test stacks turn it on in supabase/seeds). The relay
-- checks both again at every delivery (it also resolves host names and follows no redirect).
--
-- Sections: permissions and grants; flags; tables; functions; triggers and partitions.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
create sequence app_private.outbox_seq;
grant usage on sequence app_private.outbox_seq to authenticated, service_role;

insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('bad_subscription_secret', 'SY051', 400, 'Bad subscription secret',
   'The subscription''s Vault secret is not a valid Standard Webhooks secret (whsec_ + base64, 16+ bytes).'),
  ('private_target', 'SY052', 400, 'Private webhook target',
   'The subscription targets a loopback, private, link-local or fc00::/7 address while outbox.allowPrivateTargets is off.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('outbox.allowPrivateTargets', 'boolean', null, null, null, false, '{global}', 'false', 'flags.global.write',
   'Allow webhook subscriptions to loopback / private / link-local addresses (local development only)')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.outbox_events (
  id              uuid        not null default gen_random_uuid(),   -- consumers dedupe on it
  seq             bigint      not null default nextval('app_private.outbox_seq'),
  tenant_id       uuid        not null references public.tenants (id) on delete cascade,
  aggregate_type  text        not null constraint outbox_events_aggregate_type_length_check check (length(aggregate_type) between 1 and 100),
  aggregate_id    text        not null constraint outbox_events_aggregate_id_length_check check (length(aggregate_id) between 1 and 200),
  event_type      text        not null constraint outbox_events_event_type_format_check check (event_type ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
  payload         jsonb       not null default '{}'::jsonb,
  headers         jsonb       not null default '{}'::jsonb,       -- traceparent, replay markers
  trace_id        text,
  published_by    uuid,
  created_at      timestamptz not null default now(),
  state           text        not null default 'pending'
                  constraint outbox_events_state_allowed_check check (state in ('pending', 'delivering', 'failed', 'delivered', 'dead', 'parked')),
  attempts        int         not null default 0 constraint outbox_events_attempts_nonnegative_check check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error      text,
  delivered_at    timestamptz,
  claim_token     uuid,                                           -- the claim delivering it (per claim call)
  primary key (id, created_at)
) partition by range (created_at);
comment on table public.outbox_events is
  'The transactional outbox: events published with their domain write, delivered at least once (consumers dedupe on id).';

create index outbox_events_due_idx on public.outbox_events (next_attempt_at, seq)
  where state in ('pending', 'delivering', 'failed');
create index outbox_events_aggregate_idx on public.outbox_events (tenant_id, aggregate_type, aggregate_id, seq);
create index outbox_events_trace_idx on public.outbox_events (trace_id) where trace_id is not null;
-- The relay's claim reads the oldest undelivered events in seq order and stops at the batch
-- size (ordered by next_attempt_at, a claim sorted every due event: its cost grew with the
-- backlog).
create index outbox_events_undelivered_seq_idx on public.outbox_events (seq)
  where state in ('pending', 'delivering', 'failed');

select ops.tenant_rls('public.outbox_events', 'outbox.read', 'outbox.publish', 'outbox.deliver', null);

select ops.set_rls_sample('public.outbox_events',
  '{"tenant_id": "$tenant", "aggregate_type": "shipment", "aggregate_id": "matrix-$n", "event_type": "shipment.created"}');

-- Subscriptions and deliveries
create table public.outbox_subscriptions (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  name         text not null constraint outbox_subscriptions_name_length_check check (length(name) between 1 and 100),
  endpoint_url text not null constraint outbox_subscriptions_endpoint_url_format_check check (endpoint_url ~ '^https?://[^\s]+$'),
  -- Vault secret name of the signing key, in the tenant's namespace: '<tenant uuid>/<name>'
  secret_ref   text not null constraint outbox_subscriptions_secret_ref_format_check
               check (starts_with(secret_ref, tenant_id::text || '/') and length(secret_ref) between 38 and 200),
  event_filter text[] not null default '{*}',       -- event types; '*' and 'prefix.*' patterns
  enabled      boolean not null default true,
  -- set when the receiver answered 410 Gone (the relay switched it off): matching events are
  -- parked in the DLQ until a human re-enables it (which clears both)
  gone_at      timestamptz,
  disabled_reason text,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint outbox_subscriptions_name unique (tenant_id, name)
);
comment on table public.outbox_subscriptions is
  'Webhook subscribers of a tenant: endpoint, event filter, signing key (Vault name), gone mark (410).';
-- Rail class delivery: the relay's 410 handling switches a subscription off as delivery
-- bookkeeping (relay@ passes the stop); for everyone else it is the kill switch as before.
select ops.attach_rails('public.outbox_subscriptions', 'integrations.read', 'integrations.manage',
                        'integrations.manage', 'integrations.manage', 'delivery');
select ops.set_rls_sample('public.outbox_subscriptions',
  '{"tenant_id": "$tenant", "name": "matrix-$n", "endpoint_url": "https://example.test/hook", "secret_ref": "$tenant/whsec_matrix"}');

create table public.outbox_deliveries (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  event_id         uuid not null,
  event_created_at timestamptz,
  subscription_id  uuid references public.outbox_subscriptions (id) on delete set null,
  attempt          int  not null constraint outbox_deliveries_attempt_positive_check check (attempt >= 1),
  ok               boolean not null,
  status_code      int,
  error            text,
  duration_ms      int,
  trace_id         text,
  created_at       timestamptz not null default now()
);
comment on table public.outbox_deliveries is
  'Every delivery attempt of an outbox event to a subscription.';
create index outbox_deliveries_event_idx on public.outbox_deliveries (event_id);
select ops.tenant_rls('public.outbox_deliveries', 'outbox.read', 'outbox.deliver', null, null);
select ops.set_rls_sample('public.outbox_deliveries',
  '{"tenant_id": "$tenant", "event_id": "$uuid", "attempt": 1, "ok": true}');

-- DLQ
create table public.dlq_entries (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null references public.tenants (id) on delete cascade,
  event_id          uuid not null,
  event_created_at  timestamptz not null,
  event_type        text,
  aggregate_type    text,
  aggregate_id      text,
  event             jsonb not null,                 -- the original outbox row
  attempts          int   not null default 0,
  errors            jsonb not null default '[]'::jsonb,
  last_error        text,
  payload_bytes     int   not null default 0 constraint dlq_entries_payload_bytes_nonnegative_check check (payload_bytes >= 0),
  trace_id          text,
  state             text  not null default 'dead' constraint dlq_entries_state_allowed_check check (state in ('dead', 'parked', 'replayed', 'discarded')),
  parked_for        uuid[],                         -- parked: the gone subscriptions that did not take it
  dead_at           timestamptz not null default now(),
  replayed_at       timestamptz,
  replay_request_id uuid,
  constraint dlq_entries_event unique (event_id, event_created_at)
);
comment on table public.dlq_entries is
  'Dead (attempts exhausted) and parked (receiver gone) outbox events with their original row, errors and trace id; replayed through replay_requests.';
create index dlq_entries_tenant_state_idx on public.dlq_entries (tenant_id, state);
create index dlq_entries_trace_idx on public.dlq_entries (trace_id) where trace_id is not null;
select ops.tenant_rls('public.dlq_entries', 'dlq.read', 'outbox.deliver', null, null);
select ops.set_rls_sample('public.dlq_entries',
  '{"tenant_id": "$tenant", "event_id": "$uuid", "event_created_at": "$now", "event": {}}');

create table public.replay_requests (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null references public.tenants (id) on delete cascade,
  requested_by      uuid,
  requested_by_name text not null,
  requested_ip      inet,
  dry_run           boolean not null,
  dlq_ids           uuid[] not null,
  batch_size        int not null,
  payload_bytes     bigint not null,
  caps              jsonb not null,                 -- the caps applied, as read at request time
  status            text not null
                    constraint replay_requests_status_allowed_check check (status in ('dry_run', 'pending_approval', 'approved', 'rejected', 'executed')),
  approved_by       uuid,
  approved_by_name  text,
  decided_at        timestamptz,
  decision_note     text,
  outcome           jsonb,
  created_at        timestamptz not null default now(),
  executed_at       timestamptz
);
comment on table public.replay_requests is
  'DLQ replay requests and dry runs, with the caps applied and the approval when one was needed.';
-- Rail class delivery: a run stopped because more than 20% of it failed is recorded by the
-- relay's acknowledgement (relay@'s bookkeeping, under STOP too); requests are written only
-- through replay_request / replay_decide, which every machine but relay@ the stop refuses.
select ops.attach_rails('public.replay_requests', 'dlq.read', null, null, null, 'delivery');
select ops.set_rls_sample('public.replay_requests',
  '{"tenant_id": "$tenant", "requested_by_name": "matrix", "dry_run": true, "dlq_ids": "{}", "batch_size": 0,
    "payload_bytes": 0, "caps": {}, "status": "dry_run"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- BEFORE INSERT: new events start pending; publisher and trace come from the request.
create function app_private.outbox_prepare() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  c record;
  m text[];
begin
  if not app_private.is_trusted_session() then
    new.state := 'pending';
    new.attempts := 0;
    new.next_attempt_at := now();
    new.delivered_at := null;
    new.last_error := null;
  end if;
  new.published_by := coalesce(app_private.principal_id(), new.published_by);
  select * into c from app_private.request_context();
  if new.headers ->> 'traceparent' is null and c.trace_id is not null then
    new.headers := new.headers || jsonb_build_object('traceparent', '00-' || c.trace_id || '-' || c.span_id || '-01');
  end if;
  if new.trace_id is null then
    m := regexp_match(coalesce(new.headers ->> 'traceparent', ''), '^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$');
    new.trace_id := coalesce(m[1], c.trace_id);
  end if;
  return new;
end $$;

create function app_private.outbox_notify() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform pg_notify('outbox', json_build_object('id', new.id, 'seq', new.seq, 'tenant_id', new.tenant_id,
                                                'event_type', new.event_type)::text);
  return null;
end $$;

-- Publish helper (SECURITY INVOKER: the caller's RLS and rails apply). The id is made here
-- rather than read back with RETURNING, which would also need the SELECT policy
-- (outbox.read) that publishers such as dispatchers do not hold.
create function app_private.outbox_publish(p_aggregate_type text, p_aggregate_id text, p_event_type text,
                                           p_payload jsonb default '{}'::jsonb, p_headers jsonb default '{}'::jsonb,
                                           p_tenant_id uuid default null)
returns uuid
language plpgsql set search_path = '' as $$
declare
  v_id uuid := gen_random_uuid();
begin
  insert into public.outbox_events (id, tenant_id, aggregate_type, aggregate_id, event_type, payload, headers)
  values (v_id, coalesce(p_tenant_id, app_private.claim_tenant()), p_aggregate_type, p_aggregate_id, p_event_type,
          coalesce(p_payload, '{}'::jsonb), coalesce(p_headers, '{}'::jsonb));
  return v_id;
end $$;
comment on function app_private.outbox_publish(text, text, text, jsonb, jsonb, uuid) is
  'Publishes an outbox event as the caller (RLS and rails apply).';

create function app_private.event_matches(p_filter text[], p_event_type text) returns boolean
language sql immutable set search_path = '' as $$
  select exists (select 1 from unnest(p_filter) f
                 where f = '*' or f = p_event_type
                    or (f like '%.*' and p_event_type like left(f, -1) || '%'))
$$;

-- Relay functions

-- Claims up to p_limit due events (pending, failed and due, or delivering with an expired
-- claim) in the tenants where the caller holds outbox.deliver. Only the oldest undelivered
-- event of each aggregate is claimable, which keeps per-aggregate order. The claimed rows
-- carry one new claim_token: the claim's holder extends it (outbox_extend) and acknowledges
-- under it (outbox_ack_batch). The `due` query is where a rule skipping events goes.
create function app_private.outbox_claim(p_limit int default 50, p_claim_seconds int default 30)
returns setof public.outbox_events
language plpgsql security definer set search_path = '' as $$
declare
  v_tenants uuid[];
  v_claim   uuid := gen_random_uuid();
begin
  if p_limit is null or p_limit not between 1 and 1000 or p_claim_seconds is null or p_claim_seconds not between 1 and 3600 then
    perform app_private.raise_error('bad_request', 'outbox_claim: limit 1..1000, claim_seconds 1..3600');
  end if;
  if not app_private.is_trusted_session() then
    v_tenants := app_private.permitted_tenants('outbox.deliver');
  end if;
  return query
    with due as (
      select e.id, e.created_at
      from public.outbox_events e
      where e.state in ('pending', 'failed', 'delivering')
        and e.next_attempt_at <= now()
        and (v_tenants is null or e.tenant_id = any (v_tenants))
        and not exists (
          select 1 from public.outbox_events p
          where p.tenant_id = e.tenant_id and p.aggregate_type = e.aggregate_type
            and p.aggregate_id = e.aggregate_id and p.seq < e.seq
            and p.state in ('pending', 'delivering', 'failed'))
      order by e.seq
      limit p_limit
      for update of e skip locked
    )
    update public.outbox_events o
       set state = 'delivering', attempts = o.attempts + 1,
           next_attempt_at = now() + make_interval(secs => p_claim_seconds), claim_token = v_claim
      from due
     where o.id = due.id and o.created_at = due.created_at
    returning o.*;
end $$;
comment on function app_private.outbox_claim(int, int) is
  'Claims due outbox events (SKIP LOCKED, one undelivered event per aggregate at a time).';

-- Extends a claim while its deliveries run (the relay's heartbeat, every third of the claim):
-- a batch that takes longer than its claim (a slow receiver) is not claimed again under it.
-- Returns how many events the claim still holds.
create function app_private.outbox_extend(p_claim uuid, p_claim_seconds int default 30)
returns int
language plpgsql security definer set search_path = '' as $$
declare
  v_n int;
begin
  if p_claim is null or p_claim_seconds is null or p_claim_seconds not between 1 and 3600 then
    perform app_private.raise_error('bad_request', 'outbox_extend: a claim token and claim_seconds 1..3600');
  end if;
  -- rows locked in id order, as the acknowledgements lock them: a late acknowledgement of
  -- these events by another relay cannot deadlock with this
  update public.outbox_events o set next_attempt_at = now() + make_interval(secs => p_claim_seconds)
   where o.id in (select e.id from public.outbox_events e
                  where e.claim_token = p_claim and e.state = 'delivering'
                    and (app_private.is_trusted_session() or e.tenant_id = any (app_private.permitted_tenants('outbox.deliver')))
                  order by e.id for update)
     and o.claim_token = p_claim;
  get diagnostics v_n = row_count;
  return v_n;
end $$;
comment on function app_private.outbox_extend(uuid, int) is
  'Extends an outbox claim while its deliveries run (the relay''s heartbeat); returns the events it still holds.';

-- Settles events whose every attempt succeeded (internal: the acknowledgements call it for
-- events they hold): delivered, or parked when a gone subscription (410) matching the event
-- never took it; a parked event gets a DLQ entry in state 'parked' naming those
-- subscriptions, replayable once they are re-enabled. Returns each event's new state.
create function app_private.outbox_settle(p_ids uuid[])
returns table (event_id uuid, state text)
language plpgsql security definer set search_path = '' as $$
declare
  v_parked jsonb;
  v_ids    uuid[];
begin
  select coalesce(jsonb_agg(jsonb_build_object('id', q.id, 'subs', q.subs, 'why', q.why)), '[]'::jsonb),
         coalesce(array_agg(q.id), '{}')
    into v_parked, v_ids
  from (select e.id, array_agg(s.id order by s.name) as subs,
               format('parked: subscription %s answered 410 Gone; re-enable it, then replay',
                      string_agg(s.name, ', ' order by s.name)) as why
        from public.outbox_events e
        join public.outbox_subscriptions s on s.tenant_id = e.tenant_id and s.gone_at is not null and not s.enabled
         and app_private.event_matches(s.event_filter, e.event_type)
        where e.id = any (p_ids)
          and not exists (select 1 from public.outbox_deliveries d
                          where d.event_id = e.id and d.subscription_id = s.id and d.ok)
        group by e.id) q;
  if cardinality(v_ids) > 0 then
    insert into public.dlq_entries (tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id,
                                    event, attempts, errors, last_error, payload_bytes, trace_id, state, parked_for)
    select e.tenant_id, e.id, e.created_at, e.event_type, e.aggregate_type, e.aggregate_id,
           to_jsonb(e) || jsonb_build_object('state', 'parked', 'last_error', p.why), e.attempts,
           coalesce((select jsonb_agg(jsonb_build_object('at', x.created_at, 'subscription_id', x.subscription_id,
                                                         'status_code', x.status_code, 'error', x.error) order by x.created_at)
                     from public.outbox_deliveries x where x.event_id = e.id and not x.ok), '[]'::jsonb),
           p.why, octet_length(e.payload::text), e.trace_id, 'parked', p.subs
    from jsonb_to_recordset(v_parked) p(id uuid, subs uuid[], why text)
    join public.outbox_events e on e.id = p.id and e.id = any (v_ids)
    on conflict on constraint dlq_entries_event do update
      set state = 'parked', parked_for = excluded.parked_for, attempts = excluded.attempts, errors = excluded.errors,
          last_error = excluded.last_error, dead_at = now();
    update public.outbox_events o set state = 'parked', last_error = p.why
      from jsonb_to_recordset(v_parked) p(id uuid, why text) where o.id = p.id and o.id = any (v_ids);
  end if;
  update public.outbox_events o set state = 'delivered', delivered_at = now(), last_error = null
   where o.id = any (p_ids) and o.id <> all (v_ids);
  return query select u.id, case when u.id = any (v_ids) then 'parked' else 'delivered' end from unnest(p_ids) u(id);
end $$;
comment on function app_private.outbox_settle(uuid[]) is
  'Settles fully attempted outbox events: delivered, or parked in the DLQ for gone (410) subscriptions.';
revoke execute on function app_private.outbox_settle(uuid[]) from public;

-- Reports a delivery attempt of a claimed event. p_deliveries: per-subscription results
-- [{subscription_id, ok, status_code, error, duration_ms}] (logged). Returns the new state:
-- delivered | parked (see outbox_settle) | failed (retry with exponential backoff) | dead
-- (moved to the DLQ).
create function app_private.outbox_ack(p_event_id uuid, p_ok boolean, p_error text default null,
                                       p_deliveries jsonb default '[]'::jsonb, p_max_attempts int default 8)
returns text
language plpgsql security definer set search_path = '' as $$
declare
  e public.outbox_events;
  d jsonb;
begin
  select * into e from public.outbox_events o where o.id = p_event_id for update;
  if not found then
    perform app_private.raise_error('bad_request', format('no outbox event %s', p_event_id));
  end if;
  if not app_private.is_trusted_session() then
    perform app_private.require_permission(e.tenant_id, 'outbox.deliver');
  end if;
  if e.state <> 'delivering' then
    perform app_private.raise_error('bad_request', format('outbox event %s is %s, not delivering', p_event_id, e.state));
  end if;
  for d in select * from jsonb_array_elements(coalesce(p_deliveries, '[]'::jsonb)) loop
    insert into public.outbox_deliveries (tenant_id, event_id, event_created_at, subscription_id, attempt,
                                          ok, status_code, error, duration_ms, trace_id)
    values (e.tenant_id, e.id, e.created_at, (d ->> 'subscription_id')::uuid, e.attempts,
            coalesce((d ->> 'ok')::boolean, p_ok), (d ->> 'status_code')::int, d ->> 'error',
            (d ->> 'duration_ms')::int, e.trace_id);
  end loop;
  if p_ok then
    return (select s.state from app_private.outbox_settle(array[e.id]) s);
  end if;
  if e.attempts >= p_max_attempts then
    update public.outbox_events o set state = 'dead', last_error = p_error
     where o.id = e.id and o.created_at = e.created_at;
    insert into public.dlq_entries (tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id,
                                    event, attempts, errors, last_error, payload_bytes, trace_id)
    values (e.tenant_id, e.id, e.created_at, e.event_type, e.aggregate_type, e.aggregate_id,
            to_jsonb(e) || jsonb_build_object('state', 'dead', 'last_error', p_error), e.attempts,
            coalesce((select jsonb_agg(jsonb_build_object('at', x.created_at, 'subscription_id', x.subscription_id,
                                                          'status_code', x.status_code, 'error', x.error)
                                       order by x.created_at)
                      from public.outbox_deliveries x where x.event_id = e.id and not x.ok), '[]'::jsonb),
            p_error, octet_length(e.payload::text), e.trace_id)
    on conflict on constraint dlq_entries_event do update
      set state = 'dead', attempts = excluded.attempts, errors = excluded.errors,
          last_error = excluded.last_error, dead_at = now();
    return 'dead';
  end if;
  update public.outbox_events o
     set state = 'failed', last_error = p_error,
         next_attempt_at = now() + make_interval(secs => least(3600, 5 * power(2, e.attempts - 1)))
   where o.id = e.id and o.created_at = e.created_at;
  return 'failed';
end $$;
comment on function app_private.outbox_ack(uuid, boolean, text, jsonb, int) is
  'Reports one delivery attempt: delivered | failed (backoff) | dead (moved to the DLQ).';

-- Replays

-- The first subscription of p_parked_for that is still gone (switched off after a 410 and
-- not re-enabled), or null: a parked DLQ entry is replayable once this is null.
create function app_private.dlq_still_gone(p_parked_for uuid[]) returns text
language sql stable security definer set search_path = '' as $$
  select s.name from public.outbox_subscriptions s
  where s.id = any (p_parked_for) and s.gone_at is not null and not s.enabled
  order by s.name limit 1
$$;
comment on function app_private.dlq_still_gone(uuid[]) is
  'The first still-gone (410, not re-enabled) subscription a parked DLQ entry waits for, or null.';
revoke execute on function app_private.dlq_still_gone(uuid[]) from public;

-- Re-enqueues the DLQ entries of an approved request (internal). The original event id is
-- kept (consumers dedupe on it); its row goes back to pending, or is re-created when its
-- partition has been rotated away.
create function app_private.replay_execute(p_request_id uuid) returns public.replay_requests
language plpgsql security definer set search_path = '' as $$
declare
  r        public.replay_requests;
  x        public.dlq_entries;
  v_reset  int := 0;
  v_copied int := 0;
begin
  select * into r from public.replay_requests q where q.id = p_request_id for update;
  if r.status <> 'approved' then
    perform app_private.raise_error('bad_request', format('replay %s is %s, not approved', p_request_id, r.status));
  end if;
  if app_private.flag_bool('dlq.paused', r.tenant_id) or app_private.flag_text('autonomy.mode') = 'DEGRADE' then
    perform app_private.raise_error('dlq_paused', 'DLQ replays are paused (dlq.paused or autonomy.mode DEGRADE)');
  end if;
  for x in select * from public.dlq_entries d where d.id = any (r.dlq_ids) and d.state in ('dead', 'parked') for update loop
    update public.outbox_events o
       set state = 'pending', attempts = 0, next_attempt_at = now(), last_error = null,
           headers = o.headers || jsonb_build_object('x-replay-request', r.id)
     where o.id = x.event_id and o.created_at = x.event_created_at;
    if found then
      v_reset := v_reset + 1;
    else
      insert into public.outbox_events (id, tenant_id, aggregate_type, aggregate_id, event_type, payload, headers, trace_id)
      values (x.event_id, x.tenant_id, x.aggregate_type, x.aggregate_id, x.event_type,
              coalesce(x.event -> 'payload', '{}'::jsonb),
              coalesce(x.event -> 'headers', '{}'::jsonb) || jsonb_build_object('x-replay-request', r.id),
              x.trace_id);
      v_copied := v_copied + 1;
    end if;
    update public.dlq_entries d set state = 'replayed', replayed_at = now(), replay_request_id = r.id
     where d.id = x.id;
  end loop;
  update public.replay_requests q
     set status = 'executed', executed_at = now(),
         outcome = jsonb_build_object('requeued', v_reset + v_copied, 'reset', v_reset, 'recreated', v_copied)
   where q.id = r.id
  returning * into r;
  return r;
end $$;
comment on function app_private.replay_execute(uuid) is
  'Re-enqueues the DLQ entries of an approved replay, keeping their event ids.';

-- Requests a replay (or a dry run) of DLQ entries of one tenant, with the caps enforced.
create function app_private.replay_request(p_tenant_id uuid, p_dlq_ids uuid[], p_dry_run boolean default true,
                                           p_ip inet default null)
returns public.replay_requests
language plpgsql security definer set search_path = '' as $$
declare
  a         record;
  v_ids     uuid[];
  v_found   int;
  v_bytes   bigint;
  v_batch   int;
  v_max_mb  numeric := app_private.flag_number('budget.replay.maxPayloadMB', p_tenant_id);
  v_max_n   int     := app_private.flag_number('budget.replay.maxBatch', p_tenant_id)::int;
  v_rate    int     := app_private.flag_number('rate.replay.per5m', p_tenant_id)::int;
  v_mode    text    := app_private.flag_text('autonomy.mode');
  v_ip      inet    := coalesce(p_ip, (app_private.request_context()).ip);
  v_caps    jsonb;
  v_status  text;
  v_gone    text;
  v_gone_id uuid;
  r         public.replay_requests;
begin
  if p_tenant_id is null then
    perform app_private.raise_error('bad_request', 'replay_request needs a tenant_id');
  end if;
  perform app_private.require_permission(p_tenant_id, 'dlq.replay.request');
  select array_agg(distinct i) into v_ids from unnest(p_dlq_ids) i where i is not null;
  v_batch := coalesce(cardinality(v_ids), 0);
  if v_batch = 0 then
    perform app_private.raise_error('bad_request', 'a replay names at least one DLQ entry');
  end if;
  v_caps := jsonb_build_object('budget.replay.maxBatch', v_max_n, 'budget.replay.maxPayloadMB', v_max_mb,
                               'rate.replay.per5m', v_rate, 'autonomy.mode', v_mode);
  if v_batch > v_max_n then
    perform app_private.raise_error('replay_cap_exceeded',
      format('batch of %s exceeds budget.replay.maxBatch %s', v_batch, v_max_n), v_caps);
  end if;
  select count(*), coalesce(sum(d.payload_bytes), 0) into v_found, v_bytes
  from public.dlq_entries d where d.id = any (v_ids) and d.tenant_id = p_tenant_id and d.state in ('dead', 'parked');
  if v_found <> v_batch then
    perform app_private.raise_error('replay_bad_selection',
      format('%s of %s DLQ entries are not dead or parked entries of tenant %s', v_batch - v_found, v_batch, p_tenant_id));
  end if;
  -- a parked entry waits for its subscription: replayed while it is still gone, it would park again
  select d.id, app_private.dlq_still_gone(d.parked_for) into v_gone_id, v_gone
  from public.dlq_entries d where d.id = any (v_ids) and d.state = 'parked' and app_private.dlq_still_gone(d.parked_for) is not null
  limit 1;
  if v_gone is not null then
    perform app_private.raise_error('replay_bad_selection',
      format('DLQ entry %s is parked for subscription %s, which is still switched off (its receiver answered 410 Gone): re-enable it first',
             v_gone_id, v_gone));
  end if;
  if v_bytes > v_max_mb * 1024 * 1024 then
    perform app_private.raise_error('replay_cap_exceeded',
      format('payload of %s bytes exceeds budget.replay.maxPayloadMB %s', v_bytes, v_max_mb), v_caps);
  end if;

  if p_dry_run then
    v_status := 'dry_run';
  else
    if app_private.flag_bool('dlq.paused', p_tenant_id) or v_mode = 'DEGRADE' then
      perform app_private.raise_error('dlq_paused', 'DLQ replays are paused (dlq.paused or autonomy.mode DEGRADE)', v_caps);
    end if;
    -- charter §8: 3 per 5 minutes per tenant and per IP
    perform app_private.rate_limit_take_or_raise('replay', 'tenant:' || p_tenant_id, v_rate, 300, 1, p_tenant_id);
    if v_ip is not null then
      perform app_private.rate_limit_take_or_raise('replay', 'ip:' || host(v_ip), v_rate, 300, 1, null);
    end if;
    v_status := case when v_mode = 'STEP-DOWN' then 'pending_approval' else 'approved' end;
  end if;

  select * into a from app_private.actor();
  insert into public.replay_requests (tenant_id, requested_by, requested_by_name, requested_ip, dry_run, dlq_ids,
                                      batch_size, payload_bytes, caps, status, outcome)
  values (p_tenant_id, a.principal_id, coalesce(a.principal_name, a.db_user), v_ip, p_dry_run, v_ids,
          v_batch, v_bytes, v_caps, v_status,
          case when p_dry_run then jsonb_build_object('would_replay', v_batch, 'payload_bytes', v_bytes) end)
  returning * into r;
  if v_status = 'approved' then
    r := app_private.replay_execute(r.id);
  end if;
  return r;
end $$;
comment on function app_private.replay_request(uuid, uuid[], boolean, inet) is
  'Requests a DLQ replay or dry run with the caps enforced in Postgres.';

-- A human with dlq.replay.approve (not the requester) approves or rejects a pending replay;
-- approval executes it.
create function app_private.replay_decide(p_request_id uuid, p_approve boolean, p_note text default null)
returns public.replay_requests
language plpgsql security definer set search_path = '' as $$
declare
  r public.replay_requests;
  a record;
begin
  select * into r from public.replay_requests q where q.id = p_request_id for update;
  if not found then
    perform app_private.raise_error('bad_request', format('no replay request %s', p_request_id));
  end if;
  select * into a from app_private.actor();
  if not app_private.is_trusted_session() then
    if a.principal_kind is distinct from 'human' then
      perform app_private.raise_error('approval_forbidden', 'replays are approved by humans, not machine principals');
    end if;
    if not app_private.has_permission(r.tenant_id, 'dlq.replay.approve') then
      perform app_private.raise_error('approval_forbidden',
        format('principal %s (%s) lacks dlq.replay.approve in tenant %s', a.principal_id, a.principal_kind, r.tenant_id));
    end if;
    if a.principal_id = r.requested_by then
      perform app_private.raise_error('approval_forbidden', 'the requester cannot approve its own replay');
    end if;
  end if;
  if r.status <> 'pending_approval' then
    perform app_private.raise_error('bad_request', format('replay %s is %s, not pending_approval', p_request_id, r.status));
  end if;
  update public.replay_requests q
     set status = case when p_approve then 'approved' else 'rejected' end,
         approved_by = a.principal_id, approved_by_name = coalesce(a.principal_name, a.db_user),
         decided_at = now(), decision_note = p_note
   where q.id = r.id
  returning * into r;
  if p_approve then
    r := app_private.replay_execute(r.id);
  end if;
  return r;
end $$;
comment on function app_private.replay_decide(uuid, boolean, text) is
  'A human approves or rejects a pending replay (not its requester); approval executes it.';

-- Delivery progress of a replay's events; should_stop when more than 20% failed (charter §6).
-- Readable with dlq.read, and by the relay (outbox.deliver), whose acknowledgements stop a run.
create function app_private.replay_progress(p_request_id uuid)
returns table (total int, delivered int, failed int, pending int, fail_ratio numeric, should_stop boolean)
language sql stable security definer set search_path = '' as $$
  with r as (select * from public.replay_requests q where q.id = p_request_id
             and (app_private.is_trusted_session() or app_private.has_permission(q.tenant_id, 'dlq.read')
                  or app_private.has_permission(q.tenant_id, 'outbox.deliver'))),
  ev as (
    select o.state from r, public.dlq_entries d
    join public.outbox_events o on o.id = d.event_id
    where d.replay_request_id = r.id and o.headers ->> 'x-replay-request' = r.id::text
  )
  select count(*)::int,
         count(*) filter (where state = 'delivered')::int,
         count(*) filter (where state in ('failed', 'dead', 'parked'))::int,
         count(*) filter (where state in ('pending', 'delivering'))::int,
         round(coalesce(count(*) filter (where state in ('failed', 'dead', 'parked'))::numeric / nullif(count(*), 0), 0), 4),
         coalesce(count(*) filter (where state in ('failed', 'dead', 'parked'))::numeric / nullif(count(*), 0), 0) > 0.20
  from ev
$$;

grant execute on function
  app_private.outbox_publish(text, text, text, jsonb, jsonb, uuid),
  app_private.event_matches(text[], text),
  app_private.outbox_claim(int, int),
  app_private.outbox_extend(uuid, int),
  app_private.outbox_ack(uuid, boolean, text, jsonb, int),
  app_private.replay_request(uuid, uuid[], boolean, inet),
  app_private.replay_decide(uuid, boolean, text),
  app_private.replay_progress(uuid)
to authenticated, service_role;

-- True when a URL's host is loopback, private (RFC 1918, CGNAT, ULA fc00::/7), link-local
-- (169.254/16, fe80::/10), unspecified, 'localhost', or a numeric form that is not a plain
-- dotted quad (e.g. http://2130706433/, which URL parsers read as 127.0.0.1). Host names
-- are resolved and checked by the relay at delivery.
create function app_private.url_targets_private(p_url text) returns boolean
language plpgsql immutable set search_path = '' as $$
declare
  v_host text := lower(substring(p_url from '^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)'));
  v_ip   inet;
begin
  if v_host is null or v_host = '' then
    return true;
  end if;
  v_host := rtrim(btrim(v_host, '[]'), '.');
  if v_host = 'localhost' or v_host like '%.localhost' then
    return true;
  end if;
  if v_host ~ '^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$'
     and v_host !~ '^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$' then
    return true;  -- integer / hex / octal IPv4 forms
  end if;
  begin
    v_ip := v_host::inet;
  exception when others then
    return false;   -- a host name
  end;
  return v_ip <<= any (array[inet '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16',
                             '172.16.0.0/12', '192.168.0.0/16', '::/128', '::1/128', '::ffff:0:0/96',
                             'fc00::/7', 'fe80::/10']);
end $$;
comment on function app_private.url_targets_private(text) is
  'True when a URL names a loopback, private, link-local or fc00::/7 address (literal or localhost).';

-- Write-time check of a subscription: its secret (if already in Vault) is a valid
-- Standard Webhooks secret; its endpoint is not private unless outbox.allowPrivateTargets.
create function app_private.outbox_subscription_validate() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_secret text;
  v_part   text;
begin
  select v.decrypted_secret into v_secret from vault.decrypted_secrets v where v.name = new.secret_ref;
  if v_secret is not null then
    if btrim(v_secret) = '' then
      perform app_private.raise_error('bad_subscription_secret', format('secret %s is empty', new.secret_ref));
    end if;
    foreach v_part in array regexp_split_to_array(btrim(v_secret), '\s+') loop
      v_part := regexp_replace(v_part, '^whsec_', '');
      if v_part !~ '^[A-Za-z0-9+/]+={0,2}$' or length(v_part) % 4 <> 0
         or length(decode(v_part, 'base64')) < 16 then
        perform app_private.raise_error('bad_subscription_secret',
          format('secret %s is not whsec_ + base64 of 16 bytes or more', new.secret_ref));
      end if;
    end loop;
  end if;
  if app_private.url_targets_private(new.endpoint_url)
     and not app_private.flag_bool('outbox.allowPrivateTargets') then
    perform app_private.raise_error('private_target',
      format('endpoint %s is a loopback, private or link-local address (outbox.allowPrivateTargets is off)',
             substring(new.endpoint_url from '^[^?#]*')));
  end if;
  return new;
end $$;
comment on function app_private.outbox_subscription_validate() is
  'Write-time check of a subscription: valid secret (when in Vault), no private target unless allowed.';
revoke execute on function app_private.url_targets_private(text), app_private.outbox_subscription_validate() from public;

-- Re-enabling a subscription clears its gone mark: its parked DLQ entries become replayable.
create function app_private.outbox_subscription_reenable() returns trigger
language plpgsql set search_path = '' as $$
begin
  if new.enabled and not old.enabled then
    new.gone_at := null;
    new.disabled_reason := null;
  end if;
  return new;
end $$;
revoke execute on function app_private.outbox_subscription_reenable() from public;

-------------------------------------------------------------------------------------------
-- triggers and partitions
-------------------------------------------------------------------------------------------
create trigger outbox_subscription_reenable before update of enabled on public.outbox_subscriptions
  for each row execute function app_private.outbox_subscription_reenable();
create trigger outbox_subscription_validate before insert or update of tenant_id, endpoint_url, secret_ref
  on public.outbox_subscriptions for each row execute function app_private.outbox_subscription_validate();

create trigger outbox_prepare before insert on public.outbox_events
  for each row execute function app_private.outbox_prepare();

create trigger outbox_notify after insert on public.outbox_events
  for each row execute function app_private.outbox_notify();

-- Publishing is domain work; delivery bookkeeping is stopped only by the kill switch.
create trigger rails_guard before insert on public.outbox_events
  for each statement execute function app_private.rails_guard('domain');
create trigger rails_guard_delivery before update or delete or truncate on public.outbox_events
  for each statement execute function app_private.rails_guard('delivery');

select ops.register_partitioned('public.outbox_events', 'day', 14, interval '14 days',
                                $$state in ('pending', 'delivering', 'failed')$$);

create trigger rails_guard before insert or update or delete or truncate on public.outbox_deliveries
  for each statement execute function app_private.rails_guard('delivery');

create trigger rails_guard before insert or update or delete or truncate on public.dlq_entries
  for each statement execute function app_private.rails_guard('delivery');
