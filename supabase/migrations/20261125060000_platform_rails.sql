-- Rails (issue item 4): idempotency, rate limiting, concurrency leases, webhook nonces and
-- the per-tenant cost ledger. Each is one function call (one round trip) for the edge and
-- is atomic in Postgres. The tables are readable with rails.read / cost.read and written
-- only through these functions (no API role, not even service_role, writes them directly).
--
-- Sections: tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Idempotency (IETF Idempotency-Key draft): 24 h records per (tenant, principal, key)
create table public.idempotency_keys (
  id              uuid primary key default gen_random_uuid(),
  tenant_id       uuid references public.tenants (id) on delete cascade,
  principal_id    uuid not null,
  key             text not null,
  fingerprint     text not null,              -- hash of method + path + body, from the edge
  state           text not null constraint idempotency_keys_state_allowed_check check (state in ('in_flight', 'completed')),
  response_status int,
  response_body   jsonb,
  created_at      timestamptz not null default now(),
  locked_until    timestamptz not null default now() + interval '60 seconds',
  -- the session that took the key (in_flight): a retry takes over at once when it is gone
  holder_pid      int,
  holder_started  timestamptz,
  completed_at    timestamptz,
  expires_at      timestamptz not null default now() + interval '24 hours',
  constraint idempotency_keys_unique unique nulls not distinct (tenant_id, principal_id, key)
);
comment on table public.idempotency_keys is
  'Idempotency-Key records per (tenant, principal, key): 24 h, with the stored response.';
create index idempotency_keys_expires_idx on public.idempotency_keys (expires_at);

-- Rate limiting: GCRA (generic cell rate algorithm), one row per (bucket, subject)
-- tat = theoretical arrival time. Each request of cost c moves tat by c * window/limit; a
-- request is allowed when the new tat is at most `window` ahead of now. "3 per 5 minutes"
-- allows a burst of 3, then one more every 100 s.
create table public.rate_limits (
  bucket     text not null constraint rate_limits_bucket_length_check check (length(bucket) between 1 and 200),
  subject    text not null constraint rate_limits_subject_length_check check (length(subject) between 1 and 300),   -- e.g. tenant:<uuid>, ip:1.2.3.4
  tenant_id  uuid references public.tenants (id) on delete cascade,
  tat        timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (bucket, subject)
);
comment on table public.rate_limits is
  'GCRA rate-limit state, one row per (bucket, subject).';

-- Concurrency leases against budget.<pool>.maxConcurrent
create table public.concurrency_leases (
  id           uuid primary key default gen_random_uuid(),
  pool         text not null default 'agents',
  tenant_id    uuid references public.tenants (id) on delete cascade,
  principal_id uuid not null,
  holder       text not null constraint concurrency_leases_holder_length_check check (length(holder) between 1 and 300),   -- task / job id
  acquired_at  timestamptz not null default now(),
  expires_at   timestamptz not null,
  constraint concurrency_leases_holder unique (pool, holder)
);
comment on table public.concurrency_leases is
  'Concurrency leases against budget.<pool>.maxConcurrent.';
create index concurrency_leases_pool_idx on public.concurrency_leases (pool, expires_at);

-- Webhook nonces (v2 HMAC: timestamp + nonce, single use within the tolerance window)
create table public.webhook_nonces (
  source      text not null constraint webhook_nonces_source_length_check check (length(source) between 1 and 200),   -- signer: n8n, stripe, edi:<partner>
  nonce       text not null constraint webhook_nonces_nonce_length_check check (length(nonce) between 8 and 200),
  tenant_id   uuid references public.tenants (id) on delete cascade,
  received_at timestamptz not null default now(),
  expires_at  timestamptz not null,
  primary key (source, nonce)
);
comment on table public.webhook_nonces is
  'Webhook nonces seen within the tolerance window (single use).';
create index webhook_nonces_expires_idx on public.webhook_nonces (expires_at);

-- Per-tenant cost ledger with ceilings (flags budget.cost.dailyUSD / budget.cost.monthlyUSD)
create table public.cost_ledger (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  principal_id uuid,
  category     text not null constraint cost_ledger_category_length_check check (length(category) between 1 and 100),   -- llm, sms, maps, edi, ...
  amount_usd   numeric(14, 6) not null constraint cost_ledger_amount_usd_nonnegative_check check (amount_usd >= 0),
  ref          text,                                                       -- idempotent charge reference
  created_at   timestamptz not null default now(),
  constraint cost_ledger_ref unique (tenant_id, category, ref)
);
comment on table public.cost_ledger is
  'Per-tenant cost charges, checked against the daily and monthly ceilings.';
create index cost_ledger_tenant_time_idx on public.cost_ledger (tenant_id, created_at);

select ops.tenant_rls('public.idempotency_keys',   'rails.read', null, null, null);
select ops.tenant_rls('public.rate_limits',        'rails.read', null, null, null);
select ops.tenant_rls('public.concurrency_leases', 'rails.read', null, null, null);
select ops.tenant_rls('public.webhook_nonces',     'rails.read', null, null, null);
select ops.tenant_rls('public.cost_ledger',        'cost.read',  null, null, null);
revoke insert, update, delete, truncate on public.idempotency_keys, public.rate_limits,
  public.concurrency_leases, public.webhook_nonces, public.cost_ledger from service_role;
select ops.set_rls_sample('public.idempotency_keys',
  '{"tenant_id": "$tenant", "principal_id": "$principal", "key": "matrix-$n", "fingerprint": "f", "state": "completed"}');
select ops.set_rls_sample('public.rate_limits',
  '{"bucket": "matrix", "subject": "tenant:$tenant:$n", "tenant_id": "$tenant", "tat": "$now"}');
select ops.set_rls_sample('public.concurrency_leases',
  '{"tenant_id": "$tenant", "principal_id": "$principal", "holder": "matrix-$tenant-$n", "expires_at": "$now"}');
select ops.set_rls_sample('public.webhook_nonces',
  '{"source": "matrix", "nonce": "matrix-$tenant-$n", "tenant_id": "$tenant", "expires_at": "$now"}');
select ops.set_rls_sample('public.cost_ledger',
  '{"tenant_id": "$tenant", "category": "matrix", "amount_usd": 1, "ref": "matrix-$n"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Who may call a rail: trusted database sessions, service_role (the edge before it knows
-- the caller, e.g. public website traffic), or an enabled principal with rails.use in the
-- tenant; no tenant (platform rails) takes a global grant of rails.use.
create function app_private.require_rails_caller(p_tenant_id uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if app_private.is_trusted_session()
     or (auth.uid() is null and (auth.role() = 'service_role' or current_setting('role', true) = 'service_role')) then
    return;
  end if;
  if app_private.principal_id() is null then
    perform app_private.raise_error('unknown_principal',
      format('no enabled principal for sub %s', coalesce(auth.uid()::text, '(none)')));
  end if;
  perform app_private.require_permission(p_tenant_id, 'rails.use');
end $$;

create function app_private.idempotency_check_key(p_key text) returns void
language plpgsql stable set search_path = '' as $$
begin
  if p_key is null or p_key = '' then
    perform app_private.raise_error('bad_idempotency_key', 'Idempotency-Key is missing');
  end if;
  if length(p_key) > 255 then
    perform app_private.raise_error('bad_idempotency_key',
      format('Idempotency-Key is %s characters; the maximum is 255', length(p_key)));
  end if;
  if p_key !~ '^[\x21-\x7e]+$' then
    perform app_private.raise_error('bad_idempotency_key',
      'Idempotency-Key must be printable ASCII without spaces');
  end if;
end $$;

-- Whether the session that took an in-flight key still runs: its pid, started at the same
-- time (pids are reused). Unknown (not recorded, or not visible to this role): alive.
create function app_private.session_alive(p_pid int, p_started timestamptz) returns boolean
language sql stable set search_path = '' as $$
  select p_pid is null or exists (
    select from pg_catalog.pg_stat_get_activity(p_pid) a
    where a.backend_start is null or p_started is null or a.backend_start = p_started)
$$;
comment on function app_private.session_alive(int, timestamptz) is
  'Whether the backend p_pid started at p_started still runs (unknown: true).';

-- outcome: 'new'       go ahead (the record is now in_flight for you)
--          'replay'    completed before with the same fingerprint: return response_*
--          'mismatch'  the key was used with another request (HTTP 422)
--          'in_flight' the first request is still running (HTTP 409)
-- Called in the same transaction as the work, a concurrent duplicate waits for it and then
-- gets 'replay'; called in its own transaction it gets 'in_flight'. An in_flight record
-- whose lock expired (p_lock_seconds), or whose session is gone (it died or was cut off
-- before completing or abandoning the key), is taken over as 'new'.
create function app_private.idempotency_begin(p_key text, p_fingerprint text,
                                              p_tenant_id uuid default null, p_lock_seconds int default 60)
returns table (outcome text, response_status int, response_body jsonb,
               first_seen_at timestamptz, expires_at timestamptz)
language plpgsql security definer set search_path = '' as $$
declare
  v_pid    uuid := app_private.principal_id();
  v_tenant uuid := coalesce(p_tenant_id, app_private.claim_tenant());
  v_row    public.idempotency_keys;
  v_started timestamptz := (select a.backend_start from pg_catalog.pg_stat_get_activity(pg_catalog.pg_backend_pid()) a);
begin
  perform app_private.idempotency_check_key(p_key);
  if v_pid is null then
    perform app_private.raise_error('unknown_principal', 'idempotency keys belong to a principal; no enabled principal for this request');
  end if;
  perform app_private.require_rails_caller(v_tenant);
  if p_fingerprint is null or p_fingerprint = '' then
    perform app_private.raise_error('bad_request', 'idempotency fingerprint is required');
  end if;
  if p_lock_seconds is null or p_lock_seconds not between 1 and 3600 then
    perform app_private.raise_error('bad_request', format('lock_seconds must be 1..3600 (got %s)', p_lock_seconds));
  end if;

  insert into public.idempotency_keys as k (tenant_id, principal_id, key, fingerprint, state, locked_until, expires_at,
                                            holder_pid, holder_started)
  values (v_tenant, v_pid, p_key, p_fingerprint, 'in_flight',
          now() + make_interval(secs => p_lock_seconds), now() + interval '24 hours',
          pg_catalog.pg_backend_pid(), v_started)
  on conflict on constraint idempotency_keys_unique do nothing
  returning * into v_row;
  if v_row.id is not null then
    return query select 'new'::text, null::int, null::jsonb, v_row.created_at, v_row.expires_at;
    return;
  end if;

  select * into v_row from public.idempotency_keys k
  where k.principal_id = v_pid and k.key = p_key
    and (k.tenant_id = v_tenant or (v_tenant is null and k.tenant_id is null))
  for update;

  if v_row.expires_at <= now()
     or (v_row.state = 'in_flight'
         and (v_row.locked_until <= now() or not app_private.session_alive(v_row.holder_pid, v_row.holder_started))) then
    update public.idempotency_keys k
       set fingerprint = p_fingerprint, state = 'in_flight', response_status = null, response_body = null,
           created_at = now(), completed_at = null,
           locked_until = now() + make_interval(secs => p_lock_seconds), expires_at = now() + interval '24 hours',
           holder_pid = pg_catalog.pg_backend_pid(), holder_started = v_started
     where k.id = v_row.id
    returning * into v_row;
    return query select 'new'::text, null::int, null::jsonb, v_row.created_at, v_row.expires_at;
  elsif v_row.fingerprint <> p_fingerprint then
    return query select 'mismatch'::text, null::int, null::jsonb, v_row.created_at, v_row.expires_at;
  elsif v_row.state = 'in_flight' then
    return query select 'in_flight'::text, null::int, null::jsonb, v_row.created_at, v_row.expires_at;
  else
    return query select 'replay'::text, v_row.response_status, v_row.response_body, v_row.created_at, v_row.expires_at;
  end if;
end $$;
comment on function app_private.idempotency_begin(text, text, uuid, int) is
  'Starts or replays an idempotent request: new | replay | mismatch | in_flight.';

-- Stores the response of an in-flight key (same principal).
create function app_private.idempotency_complete(p_key text, p_response_status int, p_response_body jsonb,
                                                 p_tenant_id uuid default null)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := coalesce(p_tenant_id, app_private.claim_tenant());
begin
  perform app_private.require_rails_caller(v_tenant);
  update public.idempotency_keys k
     set state = 'completed', response_status = p_response_status, response_body = p_response_body,
         completed_at = now()
   where k.principal_id = app_private.principal_id() and k.key = p_key and k.state = 'in_flight'
     and (k.tenant_id = v_tenant or (v_tenant is null and k.tenant_id is null));
  if not found then
    perform app_private.raise_error('bad_request', format('no in-flight idempotency record for key "%s"', p_key));
  end if;
end $$;

-- Forgets an in-flight key after a failure, so a retry starts afresh.
create function app_private.idempotency_abandon(p_key text, p_tenant_id uuid default null)
returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := coalesce(p_tenant_id, app_private.claim_tenant());
begin
  perform app_private.require_rails_caller(v_tenant);
  delete from public.idempotency_keys k
   where k.principal_id = app_private.principal_id() and k.key = p_key and k.state = 'in_flight'
     and (k.tenant_id = v_tenant or (v_tenant is null and k.tenant_id is null));
  return found;
end $$;

create function app_private.rate_limit_take(p_bucket text, p_subject text, p_limit int, p_window_seconds int,
                                            p_cost int default 1, p_tenant_id uuid default null)
returns table (allowed boolean, remaining int, retry_after_seconds int, reset_after_seconds int)
language plpgsql security definer set search_path = '' as $$
declare
  v_now    timestamptz := clock_timestamp();
  v_window double precision := p_window_seconds;
  v_t      double precision;          -- emission interval, seconds
  v_tat    timestamptz;
  v_new    timestamptz;
  v_ahead  double precision;
begin
  -- (no tenant: the request's; the per-IP replay bucket is taken inside replay_request)
  perform app_private.require_rails_caller(coalesce(p_tenant_id, app_private.claim_tenant()));
  if p_bucket is null or p_bucket = '' or p_subject is null or p_subject = '' then
    perform app_private.raise_error('bad_request', 'rate limit bucket and subject are required');
  end if;
  if p_limit is null or p_limit < 0 then
    perform app_private.raise_error('bad_request', format('rate limit must be >= 0 (got %s)', p_limit));
  end if;
  if p_window_seconds is null or p_window_seconds < 1 then
    perform app_private.raise_error('bad_request', format('rate window must be >= 1 second (got %s)', p_window_seconds));
  end if;
  if p_cost is null or p_cost < 1 then
    perform app_private.raise_error('bad_request', format('rate cost must be >= 1 (got %s)', p_cost));
  end if;
  if p_limit = 0 or p_cost > p_limit then
    return query select false, 0, p_window_seconds, p_window_seconds;
    return;
  end if;
  v_t := v_window / p_limit;

  insert into public.rate_limits as r (bucket, subject, tenant_id, tat)
  values (p_bucket, p_subject, p_tenant_id, v_now)
  on conflict (bucket, subject) do nothing;
  select r.tat into v_tat from public.rate_limits r
  where r.bucket = p_bucket and r.subject = p_subject for update;

  v_tat := greatest(v_tat, v_now);
  v_new := v_tat + make_interval(secs => v_t * p_cost);
  v_ahead := extract(epoch from v_new - v_now);
  if v_ahead <= v_window + 1e-6 then
    update public.rate_limits r set tat = v_new, updated_at = v_now
     where r.bucket = p_bucket and r.subject = p_subject;
    return query select true, floor((v_window - v_ahead) / v_t + 1e-6)::int, 0, ceil(v_ahead)::int;
  else
    return query select false, 0, greatest(1, ceil(v_ahead - v_window))::int,
                        ceil(extract(epoch from v_tat - v_now))::int;
  end if;
end $$;
comment on function app_private.rate_limit_take(text, text, int, int, int, uuid) is
  'Takes from a GCRA rate limit: allowed, remaining, retry after.';

-- Same, raising rate_limited (DETAIL: {"retry_after_seconds": n, ...}) when refused.
create function app_private.rate_limit_take_or_raise(p_bucket text, p_subject text, p_limit int, p_window_seconds int,
                                                     p_cost int default 1, p_tenant_id uuid default null)
returns int
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  select * into r from app_private.rate_limit_take(p_bucket, p_subject, p_limit, p_window_seconds, p_cost, p_tenant_id);
  if not r.allowed then
    perform app_private.raise_error('rate_limited',
      format('%s for %s: %s per %s s; retry after %s s', p_bucket, p_subject, p_limit, p_window_seconds, r.retry_after_seconds),
      jsonb_build_object('bucket', p_bucket, 'subject', p_subject, 'limit', p_limit,
                         'window_seconds', p_window_seconds, 'retry_after_seconds', r.retry_after_seconds));
  end if;
  return r.remaining;
end $$;

-- Acquires (or renews, for the same holder) a lease. Serialized per pool by an advisory
-- lock, expired leases are reaped first; the cap is the global flag value, and a
-- tenant-scoped value of the same flag caps that tenant's share too. Machines are subject
-- to the kill switch, step-down and the agents switch.
create function app_private.lease_acquire(p_holder text, p_ttl_seconds int default 60,
                                          p_pool text default 'agents', p_tenant_id uuid default null)
returns table (granted boolean, lease_id uuid, active int, cap int, expires_at timestamptz, retry_after_seconds int)
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := coalesce(p_tenant_id, app_private.claim_tenant());
  v_flag    text := 'budget.' || p_pool || '.maxConcurrent';
  v_cap     int;
  v_tcap    int;
  v_active  int;
  v_tactive int;
  v_row     public.concurrency_leases;
  v_next    timestamptz;
begin
  perform app_private.flag_definition(v_flag);   -- unknown pool -> unknown_flag
  if not app_private.is_trusted_session() then
    perform app_private.require_permission(v_tenant, 'leases.acquire');
  end if;
  if p_holder is null or p_holder = '' then
    perform app_private.raise_error('bad_request', 'lease holder is required');
  end if;
  if p_ttl_seconds is null or p_ttl_seconds not between 1 and 3600 then
    perform app_private.raise_error('bad_request', format('lease ttl must be 1..3600 s (got %s)', p_ttl_seconds));
  end if;
  perform app_private.check_rails('domain', v_tenant, 'concurrency lease ' || p_pool);

  perform pg_advisory_xact_lock(hashtextextended('switchyard.lease:' || p_pool, 0));
  delete from public.concurrency_leases l where l.pool = p_pool and l.expires_at <= clock_timestamp();

  -- renewal of a live lease for the same holder
  update public.concurrency_leases l set expires_at = clock_timestamp() + make_interval(secs => p_ttl_seconds)
   where l.pool = p_pool and l.holder = p_holder
  returning * into v_row;

  v_cap := app_private.flag_number(v_flag)::int;
  select count(*) into v_active from public.concurrency_leases l where l.pool = p_pool;
  if v_row.id is not null then
    return query select true, v_row.id, v_active, v_cap, v_row.expires_at, 0;
    return;
  end if;

  if v_tenant is not null then
    select f.value::int into v_tcap from public.feature_flags_v2 f
    where f.key = v_flag and f.tenant_id = v_tenant and f.portal is null;
    select count(*) into v_tactive from public.concurrency_leases l where l.pool = p_pool and l.tenant_id = v_tenant;
  end if;

  if v_active >= v_cap or (v_tcap is not null and v_tactive >= v_tcap) then
    select min(l.expires_at) into v_next from public.concurrency_leases l
    where l.pool = p_pool and (v_tcap is null or v_active >= v_cap or l.tenant_id = v_tenant);
    return query select false, null::uuid, v_active, coalesce(least(v_cap, v_tcap), v_cap), null::timestamptz,
      greatest(1, coalesce(ceil(extract(epoch from v_next - clock_timestamp()))::int, 1));
    return;
  end if;

  insert into public.concurrency_leases (pool, tenant_id, principal_id, holder, expires_at)
  values (p_pool, v_tenant, coalesce(app_private.principal_id(), '00000000-0000-0000-0000-000000000000'),
          p_holder, clock_timestamp() + make_interval(secs => p_ttl_seconds))
  returning * into v_row;
  return query select true, v_row.id, v_active + 1, v_cap, v_row.expires_at, 0;
end $$;
comment on function app_private.lease_acquire(text, int, text, uuid) is
  'Acquires or renews a concurrency lease against budget.<pool>.maxConcurrent.';

create function app_private.lease_release(p_lease_id uuid) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  delete from public.concurrency_leases l
   where l.id = p_lease_id
     and (app_private.is_trusted_session() or l.principal_id = app_private.principal_id());
  return found;
end $$;

create function app_private.lease_renew(p_lease_id uuid, p_ttl_seconds int default 60) returns timestamptz
language plpgsql security definer set search_path = '' as $$
declare
  v_exp timestamptz;
begin
  if p_ttl_seconds is null or p_ttl_seconds not between 1 and 3600 then
    perform app_private.raise_error('bad_request', format('lease ttl must be 1..3600 s (got %s)', p_ttl_seconds));
  end if;
  update public.concurrency_leases l set expires_at = clock_timestamp() + make_interval(secs => p_ttl_seconds)
   where l.id = p_lease_id and l.expires_at > clock_timestamp()
     and (app_private.is_trusted_session() or l.principal_id = app_private.principal_id())
  returning l.expires_at into v_exp;
  return v_exp;   -- null: the lease is gone (expired or released)
end $$;

-- true: first use, accept; false: replayed nonce, refuse. A timestamp outside the
-- tolerance raises webhook_timestamp_skew (it could not be checked for reuse later).
create function app_private.webhook_nonce_use(p_source text, p_nonce text, p_timestamp timestamptz,
                                              p_tolerance_seconds int default 300, p_tenant_id uuid default null)
returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  v_now  timestamptz := clock_timestamp();
  v_skew double precision;
  v_ok   boolean;
begin
  perform app_private.require_rails_caller(p_tenant_id);
  if p_source is null or p_source = '' or p_nonce is null or length(p_nonce) < 8 then
    perform app_private.raise_error('bad_request', 'webhook source and a nonce of at least 8 characters are required');
  end if;
  if p_timestamp is null or p_tolerance_seconds is null or p_tolerance_seconds not between 1 and 3600 then
    perform app_private.raise_error('bad_request', 'webhook timestamp and a tolerance of 1..3600 s are required');
  end if;
  if p_tenant_id is not null and not exists (select 1 from public.tenants t where t.id = p_tenant_id) then
    perform app_private.raise_error('forbidden', format('tenant %s does not exist', p_tenant_id));
  end if;
  v_skew := abs(extract(epoch from v_now - p_timestamp));
  if v_skew > p_tolerance_seconds then
    perform app_private.raise_error('webhook_timestamp_skew',
      format('timestamp is %s s away from now; tolerance is %s s', round(v_skew::numeric, 1), p_tolerance_seconds),
      jsonb_build_object('skew_seconds', round(v_skew::numeric, 1), 'tolerance_seconds', p_tolerance_seconds));
  end if;
  insert into public.webhook_nonces as n (source, nonce, tenant_id, received_at, expires_at)
  values (p_source, p_nonce, p_tenant_id, v_now,
          greatest(v_now, p_timestamp) + make_interval(secs => p_tolerance_seconds))
  on conflict (source, nonce) do update
    set received_at = excluded.received_at, expires_at = excluded.expires_at, tenant_id = excluded.tenant_id
    where n.expires_at <= v_now          -- an expired record may be reused
  returning true into v_ok;
  return coalesce(v_ok, false);
end $$;

-- Charges the ledger unless a ceiling would be exceeded (budget_exhausted). A repeated
-- (category, ref) returns the first charge (replayed = true) without charging twice.
create function app_private.cost_charge(p_tenant_id uuid, p_amount_usd numeric, p_category text,
                                        p_ref text default null)
returns table (ledger_id uuid, replayed boolean, spent_today numeric, daily_ceiling numeric,
               spent_month numeric, monthly_ceiling numeric)
language plpgsql security definer set search_path = '' as $$
declare
  v_day    timestamptz := date_trunc('day', now(), 'UTC');
  v_month  timestamptz := date_trunc('month', now(), 'UTC');
  v_dcap   numeric;
  v_mcap   numeric;
  v_day_spent   numeric;
  v_month_spent numeric;
  v_id     uuid;
begin
  if p_tenant_id is null then
    perform app_private.raise_error('bad_request', 'cost_charge needs a tenant_id');
  end if;
  if p_amount_usd is null or p_amount_usd < 0 then
    perform app_private.raise_error('bad_request',
      format('amount_usd cannot be negative or missing (got %s)', coalesce(p_amount_usd::text, 'null')));
  end if;
  if p_category is null or p_category = '' then
    perform app_private.raise_error('bad_request', 'cost category is required');
  end if;
  perform app_private.require_permission(p_tenant_id, 'cost.charge');
  perform pg_advisory_xact_lock(hashtextextended('switchyard.cost:' || p_tenant_id::text, 0));

  if p_ref is not null then
    select l.id into v_id from public.cost_ledger l
    where l.tenant_id = p_tenant_id and l.category = p_category and l.ref = p_ref;
  end if;

  v_dcap := app_private.flag_number('budget.cost.dailyUSD', p_tenant_id);
  v_mcap := app_private.flag_number('budget.cost.monthlyUSD', p_tenant_id);
  select coalesce(sum(l.amount_usd) filter (where l.created_at >= v_day), 0), coalesce(sum(l.amount_usd), 0)
    into v_day_spent, v_month_spent
  from public.cost_ledger l where l.tenant_id = p_tenant_id and l.created_at >= v_month;

  if v_id is not null then
    return query select v_id, true, v_day_spent, v_dcap, v_month_spent, v_mcap;
    return;
  end if;
  if v_day_spent + p_amount_usd > v_dcap then
    perform app_private.raise_error('budget_exhausted',
      format('tenant %s would spend %s USD today; budget.cost.dailyUSD is %s', p_tenant_id, v_day_spent + p_amount_usd, v_dcap),
      jsonb_build_object('period', 'day', 'spent', v_day_spent, 'amount', p_amount_usd, 'ceiling', v_dcap));
  end if;
  if v_month_spent + p_amount_usd > v_mcap then
    perform app_private.raise_error('budget_exhausted',
      format('tenant %s would spend %s USD this month; budget.cost.monthlyUSD is %s', p_tenant_id, v_month_spent + p_amount_usd, v_mcap),
      jsonb_build_object('period', 'month', 'spent', v_month_spent, 'amount', p_amount_usd, 'ceiling', v_mcap));
  end if;
  insert into public.cost_ledger (tenant_id, principal_id, category, amount_usd, ref)
  values (p_tenant_id, app_private.principal_id(), p_category, p_amount_usd, p_ref)
  returning id into v_id;
  return query select v_id, false, v_day_spent + p_amount_usd, v_dcap, v_month_spent + p_amount_usd, v_mcap;
end $$;
comment on function app_private.cost_charge(uuid, numeric, text, text) is
  'Charges the tenant''s cost ledger unless a daily or monthly ceiling would be exceeded.';

-- Grants, RLS, cleanup
grant execute on function
  app_private.require_rails_caller(uuid),
  app_private.idempotency_begin(text, text, uuid, int),
  app_private.idempotency_complete(text, int, jsonb, uuid),
  app_private.idempotency_abandon(text, uuid),
  app_private.lease_acquire(text, int, text, uuid),
  app_private.lease_release(uuid),
  app_private.lease_renew(uuid, int),
  app_private.cost_charge(uuid, numeric, text, text)
to authenticated, service_role;
-- Rate limits and nonces are keyed by a subject the caller names (a tenant, an IP, a key):
-- an API principal could set another tenant's bucket or burn another key's nonces. They
-- are internal rails: the edge's own session, service_role, and the definer functions
-- that take them (replay_request, action_begin).
grant execute on function
  app_private.rate_limit_take(text, text, int, int, int, uuid),
  app_private.rate_limit_take_or_raise(text, text, int, int, int, uuid),
  app_private.webhook_nonce_use(text, text, timestamptz, int, uuid)
to service_role;

-- Stale state cleanup (5-minute schedule): expired idempotency records, leases and nonces,
-- and rate-limit rows whose tat has passed (such a row means the same as no row).
create function ops.cleanup_rails()
returns table (what text, removed bigint)
language plpgsql set search_path = '' as $$
declare
  n bigint;
begin
  delete from public.idempotency_keys where expires_at <= now();
  get diagnostics n = row_count; what := 'idempotency_keys'; removed := n; return next;
  delete from public.concurrency_leases where expires_at <= now();
  get diagnostics n = row_count; what := 'concurrency_leases'; removed := n; return next;
  delete from public.webhook_nonces where expires_at <= now();
  get diagnostics n = row_count; what := 'webhook_nonces'; removed := n; return next;
  delete from public.rate_limits where tat <= now();
  get diagnostics n = row_count; what := 'rate_limits'; removed := n; return next;
end $$;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
-- A charge is autonomous work: refused while stopped. Rail class delivery (kill switch and
-- agents switch; issue 17): relay@'s records of its outbound calls
-- (20261202140500_super_admin_portal, app_private.cost_record_outbound) are delivery
-- bookkeeping and pass the stop like its deliveries.
create trigger rails_guard before insert or update or delete or truncate on public.cost_ledger
  for each statement execute function app_private.rails_guard('delivery');
