-- The edge action pipeline's database half (issue 4): the rails of one action in one call,
-- the machine callers' HMAC key lookup, and the Live Feed (with its stream tickets).
--
-- An action runs as ONE transaction under the caller's claims:
--   set role authenticated + request.jwt.claims + request.headers     (pipelined)
--   select app_private.action_begin(...)                              (rails, pipelined)
--   detect reads / act writes + outbox + idempotency_complete         (pipelined)
--   commit
--
-- Sections: permissions and grants; flags; tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('nonce_reused', 'SY030', 401, 'Nonce reused', 'The signed request''s nonce was already used within the tolerance window.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
-- The per-action rate limit the edge takes (rate_limit_take_or_raise) before an action.
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('rate.actions.perMinute', 'integer', 0, 1000000, null, true, '{global,tenant,portal,tenant_portal}', '600',
   'flags.budget.write', 'Portal actions per minute per tenant, caller and IP')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Live Feed (charter §5, §10): each action's start, prove result and finish, per tenant.
-- Rows are the replay log behind Last-Event-ID; an insert notifies 'live_feed' once per
-- statement and tenant, and the SSE function reads the new rows under the reader's RLS.
create table public.live_feed (
  id         bigserial primary key,
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  trace_id   text,
  portal     text not null,
  action     text not null,
  phase      text not null constraint live_feed_phase_allowed_check check (phase in ('start', 'prove', 'finish')),
  ok         boolean,
  principal  text,
  detail     jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
comment on table public.live_feed is
  'The Live Feed: start, prove and finish of each action, per tenant (replay log behind Last-Event-ID).';
create index live_feed_tenant_id_idx on public.live_feed (tenant_id, id);
create index live_feed_created_idx on public.live_feed (created_at);
-- Readers: anyone who may read the tenant's operational data. Writes only through
-- app_private.feed_publish (observability is never stopped by the kill switch).
select ops.tenant_rls('public.live_feed', 'domain.read', null, null, null);

select ops.set_rls_sample('public.live_feed',
  '{"tenant_id": "$tenant", "portal": "rates", "action": "price_one", "phase": "start"}');


-- Live Feed stream tickets: EventSource cannot send headers, and a JWT in a URL lands in
-- access logs and browser history. POST live-feed/ticket with the JWT issues an opaque
-- ticket: one use, valid 60 s, for the Live Feed only, bound to the principal and tenant;
-- only its sha256 is kept. The stream it opens ends when the JWT would have expired.
create table ops.stream_tickets (
  ticket_hash        bytea primary key,
  principal_id       uuid not null references public.principals (id) on delete cascade,
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  purpose            text not null default 'live_feed' constraint stream_tickets_purpose_allowed_check check (purpose in ('live_feed')),
  session_expires_at timestamptz not null,
  expires_at         timestamptz not null,
  created_at         timestamptz not null default now()
);
comment on table ops.stream_tickets is
  'Single-use Live Feed stream tickets (sha256 only), valid 60 s, bound to a principal and tenant.';
create index stream_tickets_expires_idx on ops.stream_tickets (expires_at);
revoke all on ops.stream_tickets from public, anon, authenticated, service_role;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- An Idempotency-Key in flight whose holder stalled: its session sits idle in its
-- transaction (for 5 s or more), i.e. the client that holds the key went silent -- a
-- connection cut without the server noticing, a request whose writes were lost, a frozen
-- isolate -- and every retry would be told 409 for as long as that session lives. The
-- holder is ended (pg_terminate_backend, waited for: its transaction rolls back, nothing of
-- it committed) and the key's lock taken: true. A holder running a statement (waiting on a
-- lock included) is in flight for real: false, and the retry is told 409.
create function app_private.idempotency_reclaim(p_lock bigint) returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  v_holder int;
begin
  select l.pid into v_holder
  from pg_catalog.pg_locks l
  join pg_catalog.pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.objsubid = 1
    and l.database = (select d.oid from pg_catalog.pg_database d where d.datname = pg_catalog.current_database())
    and l.classid = ((p_lock >> 32) & 4294967295)::oid and l.objid = (p_lock & 4294967295)::oid
    and a.state in ('idle in transaction', 'idle in transaction (aborted)')
    and a.state_change < pg_catalog.clock_timestamp() - interval '5 seconds';
  if v_holder is null or not pg_catalog.pg_terminate_backend(v_holder, 5000) then
    return false;
  end if;
  return pg_catalog.pg_try_advisory_xact_lock(p_lock);
end $$;
comment on function app_private.idempotency_reclaim(bigint) is
  'Ends the session holding an idempotency key''s lock when it has been idle in its transaction for 5 s; true when the lock is now this session''s.';

-- Rails of an action, in the order the edge reports them: permission (forbidden), kill
-- switch / mode / portal flag / suspended tenant (autonomy_halted, autonomy_step_down,
-- agents_disabled, quarantined, portal_disabled, tenant_suspended), an agent's concurrency
-- slot (budget_exhausted), HMAC nonce (nonce_reused; the edge
-- spends its signed requests' nonces in a statement of their own before this, so a refusal
-- here cannot un-spend one, and passes null), then idempotency. (The rate limit is taken
-- by the edge in its own statement beside this transaction: rate_limit_take_or_raise.)
-- Raises the refusing rail's error; otherwise returns
--   {"principal": {...}, "idempotency": "new"|"replay"|"mismatch"|"in_flight"|null,
--    "response_status": int, "response_body": jsonb}
-- Idempotency in flight: the first request holds a transaction-level advisory lock on
-- (principal, key) until it commits, so a duplicate arriving meanwhile is told 409 at
-- once instead of waiting; after the commit it gets the stored response. A holder that is
-- gone (its session died with the database, the runtime or a pg_terminate_backend) has
-- released the lock with its transaction: the retry replays what committed or runs anew.
-- A holder that stalled is ended (idempotency_reclaim).
create function app_private.action_begin(
  p_permission text,
  p_idempotency_key text default null,
  p_fingerprint text default null,
  p_nonce_source text default null,
  p_nonce text default null,
  p_nonce_ts timestamptz default null,
  p_rails text default 'domain')
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_pid    uuid := app_private.principal_id();
  v_p      public.principals;
  v_outcome text;
  v_status  int;
  v_body    jsonb;
  v_lock    bigint;
begin
  if v_pid is null then
    perform app_private.raise_error('unknown_principal',
      format('no enabled principal for sub %s', coalesce(auth.uid()::text, '(none)')));
  end if;
  if v_tenant is null then
    perform app_private.raise_error('bad_request', 'the request names no tenant (tenant_id claim)');
  end if;
  select * into v_p from public.principals p where p.id = v_pid;
  perform app_private.require_permission(v_tenant, p_permission);
  -- the tenant's session policy (SSO required: 20261202150000_admin_portal)
  perform app_private.admin_session_check(v_tenant);
  -- a machine key acts only in the tenants it names (reads too)
  perform app_private.check_machine_tenant(v_tenant);
  -- 'domain': writes (kill switch, mode, agents, portal flag); 'control': the switchboard's
  -- own levers (no portal flag, no mode); 'none': reads answer under every rail.
  if p_rails in ('domain', 'control') then
    perform app_private.check_rails(p_rails, v_tenant, null);
  elsif p_rails is distinct from 'none' then
    raise exception 'action_begin: unknown rails %', p_rails;
  end if;
  -- every agent write holds a slot of budget.agents.maxConcurrent until it commits
  -- (20261126140000_platform_concurrency), whichever door it came through
  if p_rails = 'domain' and v_p.kind = 'machine' and v_p.name = 'agents' then
    perform app_private.agent_slot_take(v_tenant);
  end if;
  -- every domain action of an autonomous machine charges the tenant's cost ledger by the
  -- cost model (budget.cost.agentActionUSD; 20261202140500_super_admin_portal): past
  -- budget.cost.dailyUSD / monthlyUSD it is refused budget_exhausted. Humans are not charged.
  if p_rails = 'domain' and v_p.kind = 'machine'
     and exists (select 1 from public.service_accounts s where s.principal_id = v_p.id and s.autonomous) then
    perform app_private.cost_charge_agent_action(v_tenant);
  end if;

  if p_nonce is not null then
    if not app_private.webhook_nonce_use(p_nonce_source, p_nonce, p_nonce_ts, 300, v_tenant) then
      perform app_private.raise_error('nonce_reused', 'this request nonce was already used');
    end if;
  end if;

  if p_idempotency_key is not null then
    v_lock := hashtextextended(v_pid::text || ':' || p_idempotency_key, 0);
    if not pg_try_advisory_xact_lock(v_lock) and not app_private.idempotency_reclaim(v_lock) then
      return jsonb_build_object('principal', jsonb_build_object('id', v_p.id, 'kind', v_p.kind, 'name', v_p.name),
                                'idempotency', 'in_flight');
    end if;
    select i.outcome, i.response_status, i.response_body into v_outcome, v_status, v_body
    from app_private.idempotency_begin(p_idempotency_key, p_fingerprint, v_tenant) i;
  end if;

  return jsonb_build_object(
    'principal', jsonb_build_object('id', v_p.id, 'kind', v_p.kind, 'name', v_p.name),
    'idempotency', v_outcome,
    'response_status', v_status,
    'response_body', v_body);
end $$;
comment on function app_private.action_begin(text, text, text, text, text, timestamptz, text) is
  'The rails of one action in one call: permission, the rails of its class (domain, control or none for reads), nonce, idempotency.';
grant execute on function app_private.action_begin(text, text, text, text, text, timestamptz, text)
  to authenticated;

-- HMAC v2 for machine callers: the signing key of a live service key is the hex sha256 of
-- its secret, kept in Vault ('service_key:<key_id>', encrypted; service_account_keys holds
-- only its fingerprint, which cannot sign). HMAC is symmetric, so the verifier reads the
-- key itself: only the edge's own database session (trusted) may look it up; API roles
-- cannot.
create function app_private.hmac_signing_key(p_key_id text)
returns table (principal_id uuid, principal_name text, signing_key text)
language sql stable security definer set search_path = '' as $$
  select p.id, p.name, v.decrypted_secret
  from public.service_account_keys k
  join public.principals p on p.id = k.principal_id and p.disabled_at is null
  join vault.decrypted_secrets v on v.name = 'service_key:' || k.key_id
  where k.key_id = p_key_id and k.revoked_at is null and k.expires_at > now()
$$;
revoke all on function app_private.hmac_signing_key(text) from public, authenticated, service_role;

create function app_private.live_feed_notify() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  t uuid;
begin
  for t in select distinct tenant_id from new_rows loop
    perform pg_notify('live_feed', t::text);
  end loop;
  return null;
end $$;

-- Publishes feed rows for a tenant (rows: [{trace_id, portal, action, phase, ok,
-- principal, detail}]). The edge publishes on its own session; a JWT principal needs
-- telemetry.write in the tenant, and its rows carry its own name (a machine's, or
-- user:<id prefix> as the pipeline writes for humans), never the one the rows name.
create function app_private.feed_publish(p_tenant_id uuid, p_rows jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_pid uuid := app_private.principal_id();
  v_who text;
begin
  perform app_private.require_rails_caller(p_tenant_id);
  if v_pid is not null then
    perform app_private.require_permission(p_tenant_id, 'telemetry.write');
    select case when p.kind = 'machine' then p.name else 'user:' || left(p.id::text, 8) end into v_who
    from public.principals p where p.id = v_pid;
  end if;
  if p_tenant_id is null then
    perform app_private.raise_error('bad_request', 'feed rows need a tenant');
  end if;
  insert into public.live_feed (tenant_id, trace_id, portal, action, phase, ok, principal, detail)
  select p_tenant_id, r.trace_id, r.portal, r.action, r.phase, r.ok, coalesce(v_who, r.principal), coalesce(r.detail, '{}'::jsonb)
  from jsonb_to_recordset(p_rows) as r(trace_id text, portal text, action text, phase text, ok boolean,
                                       principal text, detail jsonb);
end $$;
comment on function app_private.feed_publish(uuid, jsonb) is
  'Publishes Live Feed rows for a tenant.';
grant execute on function app_private.feed_publish(uuid, jsonb) to authenticated;


-- Issues a Live Feed ticket for the calling principal in its claim tenant (domain.read).
-- The stream it opens ends at the token's expiry (the exp claim), at most a day away.
create function app_private.stream_ticket_issue()
returns table (ticket text, expires_at timestamptz)
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.claim_tenant();
  v_ticket  text := translate(encode(extensions.gen_random_bytes(32), 'base64'), '+/=', '-_');
  v_exp     text := app_private.claim('exp');
  v_session timestamptz;
begin
  if v_tenant is null then
    perform app_private.raise_error('bad_request', 'a stream ticket needs a tenant (tenant_id claim)');
  end if;
  perform app_private.require_permission(v_tenant, 'domain.read');
  if app_private.principal_id() is null then
    perform app_private.raise_error('unknown_principal', 'a stream ticket belongs to a principal');
  end if;
  v_session := least(case when v_exp ~ '^\d{1,12}$' then to_timestamp(v_exp::bigint) else now() + interval '60 seconds' end,
                     now() + interval '1 day');
  if v_session <= now() then
    perform app_private.raise_error('bad_request', 'the token has expired');
  end if;
  delete from ops.stream_tickets t where t.expires_at < now() - interval '5 minutes';
  insert into ops.stream_tickets (ticket_hash, principal_id, tenant_id, session_expires_at, expires_at)
  values (sha256(convert_to(v_ticket, 'UTF8')), app_private.principal_id(), v_tenant, v_session, now() + interval '60 seconds');
  return query select v_ticket, now() + interval '60 seconds';
end $$;
comment on function app_private.stream_ticket_issue() is
  'Issues a single-use, 60 s Live Feed ticket for the calling principal and claim tenant.';
grant execute on function app_private.stream_ticket_issue() to authenticated;

-- Redeems a ticket once (spent whatever the outcome); a row only while it is valid and its
-- principal enabled. The live-feed function calls it as service_role.
create function app_private.stream_ticket_redeem(p_ticket text, p_purpose text default 'live_feed')
returns table (principal_id uuid, tenant_id uuid, session_expires_at timestamptz)
language sql security definer set search_path = '' as $$
  with spent as (
    delete from ops.stream_tickets t
     where t.ticket_hash = sha256(convert_to(coalesce(p_ticket, ''), 'UTF8')) and t.purpose = p_purpose
    returning t.*
  )
  select s.principal_id, s.tenant_id, s.session_expires_at
  from spent s join public.principals p on p.id = s.principal_id and p.disabled_at is null
  where s.expires_at > now() and s.session_expires_at > now()
$$;
comment on function app_private.stream_ticket_redeem(text, text) is
  'Spends a Live Feed ticket; returns its principal, tenant and session expiry while valid.';
grant execute on function app_private.stream_ticket_redeem(text, text) to service_role;

-- Functions are executable by PUBLIC by default: only what is granted above.
revoke execute on function app_private.action_begin(text, text, text, text, text, timestamptz, text),
  app_private.idempotency_reclaim(bigint), app_private.feed_publish(uuid, jsonb), app_private.live_feed_notify(),
  app_private.stream_ticket_issue(), app_private.stream_ticket_redeem(text, text) from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger live_feed_notify after insert on public.live_feed
  referencing new table as new_rows for each statement execute function app_private.live_feed_notify();
