-- Adaptive concurrency (issue 12, item 9): budget.agents.maxConcurrent follows the latency
-- gradient on every autopilot tick, not only after a confirmed SLO breach (Gradient2, the
-- pure step in packages/shared/autopilot/throttle.ts; its state here), and the budget covers
-- EVERY agent write: app_private.action_begin takes one slot of it for each action an agents@
-- principal runs, whatever door the action came through, held until its transaction ends.
--
-- Slots are transaction-level advisory locks, key (20261126, n) for slot n < the cap: taken
-- and seen by every session at once, released by commit, rollback or a dropped connection
-- (nothing to leak or reap). A tenant-scoped value of the flag caps that tenant's share too,
-- as it does for the agents' loop leases. Slots in flight:
--   select count(*) from pg_locks where locktype = 'advisory' and classid = 20261126 and objsubid = 2;
--
-- Sections: flags; tables; functions.

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('autopilot.gradient.tolerance', 'number', 1, 10, null, false, '{global}', '1.5', 'flags.global.write',
   'Latency the gradient tolerates: the limit shrinks once the short-term p95 exceeds this multiple of the long-term one'),
  ('autopilot.gradient.smoothing', 'number', 0.01, 1, null, false, '{global}', '0.2', 'flags.global.write',
   'How much of a shrink step the limit takes per tick (1: all of it)'),
  ('autopilot.gradient.longWindow', 'integer', 1, 10000, null, false, '{global}', '20', 'flags.global.write',
   'Ticks the long-term p95 averages over (exponential moving average)'),
  ('autopilot.gradient.minRttMs', 'integer', 1, 600000, null, false, '{global}', '250', 'flags.global.write',
   'p95 samples are floored here: below the histogram''s 250 ms bucket, latency differences are bucket noise, not queueing'),
  ('autopilot.gradient.minRequests', 'integer', 1, 1000000, null, false, '{global}', '20', 'flags.global.write',
   'Portal requests in the last 2 minutes a p95 sample needs (fewer: no latency signal, nothing queues)')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- The Gradient2 state of each pool: the limit as a real number (the flag holds its floor),
-- the long-term p95 and the last sample. Written by the autopilot each tick.
create table ops.concurrency_state (
  pool           text primary key,
  estimated      numeric not null constraint concurrency_state_estimated_nonnegative_check check (estimated >= 0),
  long_rtt_ms    numeric,
  short_rtt_ms   numeric,
  gradient       numeric,
  samples        int not null default 0,
  updated_at     timestamptz not null default now()
);
comment on table ops.concurrency_state is
  'Adaptive concurrency (Gradient2) state per pool: estimated limit, long-term and last p95, gradient.';
revoke all on ops.concurrency_state from public, anon, authenticated, service_role;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- One slot of budget.agents.maxConcurrent (and of the tenant's share, when the flag has a
-- value for the tenant) for the calling transaction, or budget_exhausted. Internal:
-- action_begin calls it for agents@.
create function app_private.agent_slot_take(p_tenant_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_cap  int := app_private.flag_number('budget.agents.maxConcurrent')::int;
  v_tcap int;
  v_got  boolean := false;
  v_at   int;
begin
  if p_tenant_id is not null then
    select f.value::int into v_tcap from public.feature_flags_v2 f
    where f.key = 'budget.agents.maxConcurrent' and f.tenant_id = p_tenant_id and f.portal is null;
  end if;
  if v_tcap is not null then
    v_at := floor(random() * greatest(v_tcap, 1));
    for i in 0 .. v_tcap - 1 loop
      v_got := pg_try_advisory_xact_lock(hashtextextended('switchyard.agent-slot:' || p_tenant_id || ':' || ((v_at + i) % v_tcap), 0));
      exit when v_got;
    end loop;
    if not v_got then
      perform app_private.raise_error('budget_exhausted',
        format('tenant %s has all %s of its budget.agents.maxConcurrent slots in use', p_tenant_id, v_tcap),
        jsonb_build_object('budget', 'budget.agents.maxConcurrent', 'cap', v_tcap, 'tenant_id', p_tenant_id, 'retry_after_seconds', 1));
    end if;
    v_got := false;
  end if;
  -- from a random slot: concurrent takers rarely try the same one
  v_at := floor(random() * greatest(v_cap, 1));
  for i in 0 .. v_cap - 1 loop
    v_got := pg_try_advisory_xact_lock(20261126, (v_at + i) % v_cap);
    exit when v_got;
  end loop;
  if not v_got then
    perform app_private.raise_error('budget_exhausted',
      format('all %s budget.agents.maxConcurrent slots are in use', v_cap),
      jsonb_build_object('budget', 'budget.agents.maxConcurrent', 'cap', v_cap, 'retry_after_seconds', 1));
  end if;
end $$;
comment on function app_private.agent_slot_take(uuid) is
  'Takes a budget.agents.maxConcurrent slot (transaction advisory lock) for an agent action, or raises budget_exhausted.';
revoke execute on function app_private.agent_slot_take(uuid) from public;

-- Agent actions holding a slot right now (every session's).
create function app_private.agent_slots_in_use() returns int
language sql stable security definer set search_path = '' as $$
  select count(*)::int from pg_catalog.pg_locks l
  where l.locktype = 'advisory' and l.classid = 20261126 and l.objsubid = 2 and l.granted
$$;
comment on function app_private.agent_slots_in_use() is
  'Agent actions holding a budget.agents.maxConcurrent slot now.';
revoke execute on function app_private.agent_slots_in_use() from public;

-- The autopilot records a pool's Gradient2 state (flags.concurrency.write: the permission
-- that moves the flag itself).
create function app_private.concurrency_state_save(p_pool text, p_estimated numeric, p_long_rtt_ms numeric,
                                                   p_short_rtt_ms numeric, p_gradient numeric, p_samples int)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_permission(null, 'flags.concurrency.write');
  perform app_private.flag_definition('budget.' || p_pool || '.maxConcurrent');   -- unknown pool -> unknown_flag
  if p_estimated is null or p_estimated < 0 or p_samples is null or p_samples < 0 then
    perform app_private.raise_error('bad_request', 'concurrency state needs an estimated limit >= 0 and a sample count');
  end if;
  insert into ops.concurrency_state as c (pool, estimated, long_rtt_ms, short_rtt_ms, gradient, samples, updated_at)
  values (p_pool, p_estimated, p_long_rtt_ms, p_short_rtt_ms, p_gradient, p_samples, now())
  on conflict (pool) do update
    set estimated = excluded.estimated, long_rtt_ms = excluded.long_rtt_ms, short_rtt_ms = excluded.short_rtt_ms,
        gradient = excluded.gradient, samples = excluded.samples, updated_at = now();
end $$;
comment on function app_private.concurrency_state_save(text, numeric, numeric, numeric, numeric, int) is
  'Records a pool''s adaptive concurrency state (flags.concurrency.write, globally).';
revoke execute on function app_private.concurrency_state_save(text, numeric, numeric, numeric, numeric, int) from public;
grant execute on function app_private.concurrency_state_save(text, numeric, numeric, numeric, numeric, int) to authenticated;
