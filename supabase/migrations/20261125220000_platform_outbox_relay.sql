-- Outbox relay support (issue 5): batch acknowledgement with a documented retry schedule,
-- Retry-After, 410 Gone, and the pg_cron safety net that drains the outbox every 30 s.
--
-- Retry schedule (per event, after a failed attempt n = 1, 2, ...):
--   delay = min(600 s, outbox.retryBaseMs × 2^(n-1)) × jitter, jitter uniform in [0.5, 1.0]
--   (default base 2 s: about 1-2 s, 2-4 s, 4-8 s, 8-16 s, ... capped at 5-10 min);
--   a receiver's Retry-After wins when it asks for longer. After outbox.maxAttempts
--   attempts (default 8) the event moves to the DLQ with its trace id and last error.
--
-- Sections: flags; tables; functions; schedules.

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('outbox.retryBaseMs', 'integer', 10, 600000, null, false, '{global,tenant}', '2000', 'flags.global.write',
   'Base delay of the outbox retry schedule, in ms (doubles per attempt, jittered)'),
  ('outbox.maxAttempts', 'integer', 1, 100, null, false, '{global,tenant}', '8', 'flags.global.write',
   'Delivery attempts before an outbox event moves to the DLQ')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Commit-to-ack lag of deliveries (deliveries.created_at is when the 2xx was recorded).
create view public.outbox_delivery_lag with (security_invoker = true) as
  select d.tenant_id, d.event_id, d.subscription_id, d.created_at as acked_at,
         extract(epoch from d.created_at - d.event_created_at) * 1000 as lag_ms
  from public.outbox_deliveries d where d.ok;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Acknowledges a batch of delivery attempts in one round trip.
-- p_results: [{event_id, ok, error, retry_after, deliveries: [{subscription_id, ok, status_code,
-- error, duration_ms}]}]. Subscriptions that answered 410 Gone are switched off.
-- The successful acknowledgements of a batch are set-based: one permission check per
-- tenant, one row lock pass, one insert of all delivery rows, one update of the events, and
-- the 410 update only when a receiver answered 410 (acknowledging event by event cost about
-- 110 ms per 100: three guarded statements, a permission check and a flag read per event).
-- The rails guard fires once per statement, so the kill switch stops acknowledgements as
-- before. Failed attempts (retry schedule, DLQ, alerts) go one by one through outbox_ack.
-- Results come back in the order given; an unknown event or one that is not delivering
-- raises bad_request. The acknowledgements join outbox_events by `o.id = any (v_ok)` as
-- well as by the id in the JSON, so the planner probes each partition's primary key instead
-- of scanning every partition once the outbox has history.
create function app_private.outbox_ack_batch(p_results jsonb)
returns table (event_id uuid, state text)
language plpgsql security definer set search_path = '' as $$
declare
  r           jsonb;
  v_results   jsonb := coalesce(p_results, '[]'::jsonb);
  v_ok        uuid[];
  v_id        uuid;
  v_tenant    uuid;
  v_state     text;
  v_n         int;
  v_delay     double precision;
  v_fail_ids  uuid[] := '{}';
  v_fail_st   text[] := '{}';
begin
  -- 1. Successful attempts, set-based.
  select coalesce(array_agg((x ->> 'event_id')::uuid), '{}') into v_ok
  from jsonb_array_elements(v_results) x where coalesce((x ->> 'ok')::boolean, false);
  if cardinality(v_ok) > 0 then
    -- lock the events (in id order: two relays acknowledging overlapping ids cannot deadlock)
    perform 1 from public.outbox_events o where o.id = any (v_ok) order by o.id for update;
    select u.id into v_id from unnest(v_ok) u(id)
    where not exists (select 1 from public.outbox_events o where o.id = u.id) limit 1;
    if v_id is not null then
      perform app_private.raise_error('bad_request', format('no outbox event %s', v_id));
    end if;
    if not app_private.is_trusted_session() then
      for v_tenant in select distinct o.tenant_id from public.outbox_events o where o.id = any (v_ok) loop
        perform app_private.require_permission(v_tenant, 'outbox.deliver');
      end loop;
    end if;
    -- a second acknowledgement of the same event in one batch finds it delivered (as before)
    select u.id, 'delivered' into v_id, v_state from unnest(v_ok) u(id) group by u.id having count(*) > 1 limit 1;
    if v_id is null then
      select o.id, o.state into v_id, v_state from public.outbox_events o
      where o.id = any (v_ok) and o.state <> 'delivering' limit 1;
    end if;
    if v_id is not null then
      perform app_private.raise_error('bad_request', format('outbox event %s is %s, not delivering', v_id, v_state));
    end if;
    insert into public.outbox_deliveries (tenant_id, event_id, event_created_at, subscription_id, attempt,
                                          ok, status_code, error, duration_ms, trace_id)
    select o.tenant_id, o.id, o.created_at, (d ->> 'subscription_id')::uuid, o.attempts,
           coalesce((d ->> 'ok')::boolean, true), (d ->> 'status_code')::int, d ->> 'error',
           (d ->> 'duration_ms')::int, o.trace_id
    from jsonb_array_elements(v_results) with ordinality x(r, n)
    -- (o.id = any (v_ok): primary-key probes; a join on the JSON alone scanned every partition)
    join public.outbox_events o on o.id = (x.r ->> 'event_id')::uuid and o.id = any (v_ok)
    cross join lateral jsonb_array_elements(coalesce(x.r -> 'deliveries', '[]'::jsonb)) with ordinality d(d, m)
    where coalesce((x.r ->> 'ok')::boolean, false)
    order by x.n, d.m;
    update public.outbox_events o set state = 'delivered', delivered_at = now(), last_error = null
     where o.id = any (v_ok);
    -- receivers that answered 410 Gone are switched off (only when one did)
    if exists (select 1 from jsonb_array_elements(v_results) x, jsonb_array_elements(coalesce(x -> 'deliveries', '[]'::jsonb)) d
               where coalesce((x ->> 'ok')::boolean, false) and (d ->> 'status_code')::int = 410) then
      update public.outbox_subscriptions s set enabled = false, updated_at = now()
       from (select distinct o.tenant_id, (d ->> 'subscription_id')::uuid as subscription_id
             from jsonb_array_elements(v_results) x
             join public.outbox_events o on o.id = (x ->> 'event_id')::uuid and o.id = any (v_ok)
             cross join lateral jsonb_array_elements(coalesce(x -> 'deliveries', '[]'::jsonb)) d
             where coalesce((x ->> 'ok')::boolean, false) and (d ->> 'status_code')::int = 410) g
       where s.tenant_id = g.tenant_id and s.id = g.subscription_id;
    end if;
  end if;

  -- 2. Failed attempts: one by one, as before (retry schedule, DLQ, alerts).
  for r in select x from jsonb_array_elements(v_results) x where not coalesce((x ->> 'ok')::boolean, false) loop
    v_id := (r ->> 'event_id')::uuid;
    select o.tenant_id into v_tenant from public.outbox_events o where o.id = v_id;
    -- outbox_ack checks outbox.deliver in the event's tenant and dead-letters at the cap.
    v_state := app_private.outbox_ack(v_id, false, r ->> 'error',
                                      coalesce(r -> 'deliveries', '[]'::jsonb),
                                      app_private.flag_number('outbox.maxAttempts', v_tenant)::int);
    update public.outbox_subscriptions s set enabled = false, updated_at = now()
     where s.tenant_id = v_tenant
       and s.id in (select (x ->> 'subscription_id')::uuid from jsonb_array_elements(coalesce(r -> 'deliveries', '[]'::jsonb)) x
                    where (x ->> 'status_code')::int = 410);
    if v_state = 'failed' then
      select o.attempts into v_n from public.outbox_events o where o.id = v_id;
      v_delay := least(600.0, app_private.flag_number('outbox.retryBaseMs', v_tenant) / 1000.0 * power(2, v_n - 1))
                 * (0.5 + random() * 0.5);
      v_delay := greatest(v_delay, coalesce((r ->> 'retry_after')::double precision, 0));
      update public.outbox_events o set next_attempt_at = now() + make_interval(secs => v_delay) where o.id = v_id;
    end if;
    if v_state = 'dead' then
      -- Slack (via the autopilot) gets the trace link; the DLQ entry has the same trace id.
      perform app_private.raise_alert(v_tenant, 'outbox.dead', 'warning', v_id::text,
        format('Outbox event %s dead after its last attempt: %s', v_id, coalesce(r ->> 'error', 'failed')),
        jsonb_build_object('event_id', v_id),
        (select o.trace_id from public.outbox_events o where o.id = v_id));
    end if;
    v_fail_ids := v_fail_ids || v_id;
    v_fail_st := v_fail_st || v_state;
  end loop;

  -- In the order given.
  return query
    select (x.r ->> 'event_id')::uuid,
           case when coalesce((x.r ->> 'ok')::boolean, false) then 'delivered'
                else v_fail_st[array_position(v_fail_ids, (x.r ->> 'event_id')::uuid)] end
    from jsonb_array_elements(v_results) with ordinality x(r, n)
    order by x.n;
  -- A replay run stops once more than 20% of it failed (see the replay runs migration).
  if cardinality(v_fail_ids) > 0 then
    perform app_private.outbox_ack_batch_replays(v_fail_ids);
  end if;
end $$;
comment on function app_private.outbox_ack_batch(jsonb) is
  'Acknowledges a batch of delivery attempts in one round trip (set-based for successes).';
revoke execute on function app_private.outbox_ack_batch(jsonb) from public;
grant execute on function app_private.outbox_ack_batch(jsonb) to authenticated;

-------------------------------------------------------------------------------------------
-- schedules
-------------------------------------------------------------------------------------------
-- Safety net: the relay function drains the outbox every 30 s even if no worker listens.
select ops.schedule_every_30s('outbox-relay', $$select ops.invoke_function('outbox-relay', '{}'::jsonb, 'service_role_key')$$);
