-- Outbox relay support (issue 5): batch acknowledgement with a documented retry schedule,
-- Retry-After, 410 Gone, and the pg_cron safety net that drains the outbox every 30 s.
-- Issue 12: late acknowledgements are logged, not fatal; released attempts; a 410 parks
-- what the gone subscription would have taken (see the outbox migration) and alerts.
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
-- Switches off the subscriptions whose receiver answered 410 Gone in these results (internal,
-- from outbox_ack_batch): enabled false, gone_at, the reason (also the audit row's, through
-- app.reason), and one alert to the tenant. From then on the events it would have taken are
-- parked in the DLQ (outbox_settle) until a human re-enables it.
create function app_private.outbox_mark_gone(p_results jsonb) returns void
language plpgsql security definer set search_path = '' as $$
declare
  g        record;
  v_reason text := current_setting('app.reason', true);
begin
  for g in
    select distinct on (s.id) s.id, s.tenant_id, s.name, o.id as event_id, o.trace_id
    from jsonb_array_elements(coalesce(p_results, '[]'::jsonb)) x
    cross join lateral jsonb_array_elements(coalesce(x -> 'deliveries', '[]'::jsonb)) d
    join public.outbox_events o on o.id = (x ->> 'event_id')::uuid
    join public.outbox_subscriptions s on s.id = (d ->> 'subscription_id')::uuid and s.tenant_id = o.tenant_id
    where (d ->> 'status_code')::int = 410 and s.enabled
    order by s.id
  loop
    perform set_config('app.reason', format('receiver of subscription %s answered 410 Gone to event %s', g.name, g.event_id), true);
    update public.outbox_subscriptions s
       set enabled = false, gone_at = now(), updated_at = now(),
           disabled_reason = format('410 Gone from the receiver (event %s)', g.event_id)
     where s.id = g.id;
    perform app_private.alert_upsert(g.tenant_id, 'outbox.subscription_gone', 'warning', g.id::text,
      format('Webhook subscription %s answered 410 Gone and was switched off; its events are parked in the DLQ. '
             'Re-enable it, then replay them (npm run ops -- dlq list --state parked)', g.name),
      jsonb_build_object('subscription_id', g.id, 'event_id', g.event_id), g.trace_id);
  end loop;
  perform set_config('app.reason', coalesce(v_reason, ''), true);
end $$;
revoke execute on function app_private.outbox_mark_gone(jsonb) from public;

-- Acknowledges a batch of delivery attempts in one round trip.
-- p_results: [{event_id, claim, attempt, ok, released, error, retry_after, deliveries:
-- [{subscription_id, ok, status_code, error, duration_ms}]}]; `claim` is the claim_token the
-- relay claimed the batch under, `attempt` the attempt number it claimed.
--
-- Every delivery attempt in the results is logged (outbox_deliveries), whatever else happens:
-- an attempt that reached a receiver is never lost from the log (issue 12). Then, per event:
--   late      the event is no longer under this claim (it was claimed again elsewhere after
--             the claim lapsed, or settled since): logged only, nothing else changes, and the
--             batch goes on (a late acknowledgement used to fail the whole batch);
--   released  the relay stopped before attempting every delivery (its time budget ran out):
--             the attempt is given back (attempts - 1, due now); the deliveries it did make
--             count, so the next attempt skips those subscriptions;
--   ok        every attempt succeeded (or answered 410): delivered, or parked (outbox_settle);
--   failed    retry schedule, or dead at outbox.maxAttempts (DLQ + alert).
-- Receivers that answered 410 are switched off first (outbox_mark_gone). Successful
-- acknowledgements are set-based (acknowledging event by event cost about 110 ms per 100:
-- three guarded statements, a permission check and a flag read per event); failed attempts
-- go one by one through outbox_ack. The rails guard fires once per statement. Results come
-- back in the order given; an unknown event, or one named twice, raises bad_request. Events
-- are joined by `o.id = any (v_all)` as well as by the id in the JSON, so the planner probes
-- each partition's primary key instead of scanning every partition once the outbox has history.
create function app_private.outbox_ack_batch(p_results jsonb)
returns table (event_id uuid, state text)
language plpgsql security definer set search_path = '' as $$
declare
  r           jsonb;
  v_results   jsonb := coalesce(p_results, '[]'::jsonb);
  v_all       uuid[];
  v_late      uuid[];
  v_released  uuid[];
  v_ok        uuid[];
  v_id        uuid;
  v_tenant    uuid;
  v_state     text;
  v_n         int;
  v_delay     double precision;
  v_ids       uuid[] := '{}';
  v_states    text[] := '{}';
  v_fail_ids  uuid[] := '{}';
begin
  select coalesce(array_agg((x ->> 'event_id')::uuid), '{}') into v_all from jsonb_array_elements(v_results) x;
  if cardinality(v_all) = 0 then
    return;
  end if;
  -- lock the events (in id order: two relays acknowledging overlapping ids cannot deadlock)
  perform 1 from public.outbox_events o where o.id = any (v_all) order by o.id for update;
  select u.id into v_id from unnest(v_all) u(id)
  where not exists (select 1 from public.outbox_events o where o.id = u.id) limit 1;
  if v_id is not null then
    perform app_private.raise_error('bad_request', format('no outbox event %s', v_id));
  end if;
  select u.id into v_id from unnest(v_all) u(id) group by u.id having count(*) > 1 limit 1;
  if v_id is not null then
    perform app_private.raise_error('bad_request', format('outbox event %s is acknowledged twice in one batch', v_id));
  end if;
  if not app_private.is_trusted_session() then
    for v_tenant in select distinct o.tenant_id from public.outbox_events o where o.id = any (v_all) loop
      perform app_private.require_permission(v_tenant, 'outbox.deliver');
    end loop;
  end if;

  -- 1. Which events this claim still holds.
  select coalesce(array_agg(o.id) filter (where not held), '{}'),
         coalesce(array_agg(o.id) filter (where held and released), '{}'),
         coalesce(array_agg(o.id) filter (where held and not released and ok), '{}')
    into v_late, v_released, v_ok
  from (select o.id,
               o.state = 'delivering' and (x ->> 'claim' is null or o.claim_token = (x ->> 'claim')::uuid) as held,
               coalesce((x ->> 'released')::boolean, false) as released,
               coalesce((x ->> 'ok')::boolean, false) as ok
        from jsonb_array_elements(v_results) x
        join public.outbox_events o on o.id = (x ->> 'event_id')::uuid and o.id = any (v_all)) o;

  -- 2. Every attempt into the log, in the order given (a late one under the attempt it was).
  insert into public.outbox_deliveries (tenant_id, event_id, event_created_at, subscription_id, attempt,
                                        ok, status_code, error, duration_ms, trace_id)
  select o.tenant_id, o.id, o.created_at, (d ->> 'subscription_id')::uuid,
         case when o.id = any (v_late) then least(o.attempts, greatest(1, coalesce((x.r ->> 'attempt')::int, o.attempts)))
              else o.attempts end,
         coalesce((d ->> 'ok')::boolean, coalesce((x.r ->> 'ok')::boolean, false)), (d ->> 'status_code')::int, d ->> 'error',
         (d ->> 'duration_ms')::int, o.trace_id
  from jsonb_array_elements(v_results) with ordinality x(r, n)
  join public.outbox_events o on o.id = (x.r ->> 'event_id')::uuid and o.id = any (v_all)
  cross join lateral jsonb_array_elements(coalesce(x.r -> 'deliveries', '[]'::jsonb)) with ordinality d(d, m)
  order by x.n, d.m;

  -- 3. Receivers gone (410): switched off before anything settles, so what they missed parks.
  if exists (select 1 from jsonb_array_elements(v_results) x, jsonb_array_elements(coalesce(x -> 'deliveries', '[]'::jsonb)) d
             where (d ->> 'status_code')::int = 410) then
    perform app_private.outbox_mark_gone(v_results);
  end if;

  -- 4. Released: the attempt is given back.
  if cardinality(v_released) > 0 then
    update public.outbox_events o
       set state = case when o.attempts > 1 then 'failed' else 'pending' end, attempts = o.attempts - 1,
           next_attempt_at = now(), claim_token = null
     where o.id = any (v_released);
  end if;

  -- 5. Successes, set-based: delivered or parked.
  if cardinality(v_ok) > 0 then
    select array_agg(s.event_id), array_agg(s.state) into v_ids, v_states from app_private.outbox_settle(v_ok) s;
  end if;

  -- 6. Failed attempts: one by one (retry schedule, DLQ, alerts); their attempts are logged above.
  for r in select x from jsonb_array_elements(v_results) x
           where (x ->> 'event_id')::uuid <> all (v_late || v_released || v_ok) loop
    v_id := (r ->> 'event_id')::uuid;
    select o.tenant_id into v_tenant from public.outbox_events o where o.id = v_id;
    -- outbox_ack dead-letters at the cap
    v_state := app_private.outbox_ack(v_id, false, r ->> 'error', '[]'::jsonb,
                                      app_private.flag_number('outbox.maxAttempts', v_tenant)::int);
    if v_state = 'failed' then
      select o.attempts into v_n from public.outbox_events o where o.id = v_id;
      v_delay := least(600.0, app_private.flag_number('outbox.retryBaseMs', v_tenant) / 1000.0 * power(2, v_n - 1))
                 * (0.5 + random() * 0.5);
      v_delay := greatest(v_delay, coalesce((r ->> 'retry_after')::double precision, 0));
      update public.outbox_events o set next_attempt_at = now() + make_interval(secs => v_delay) where o.id = v_id;
    end if;
    if v_state = 'dead' then
      -- Slack (via the autopilot) gets the trace link; the DLQ entry has the same trace id.
      perform app_private.alert_upsert(v_tenant, 'outbox.dead', 'warning', v_id::text,
        format('Outbox event %s dead after its last attempt: %s', v_id, coalesce(r ->> 'error', 'failed')),
        jsonb_build_object('event_id', v_id),
        (select o.trace_id from public.outbox_events o where o.id = v_id));
    end if;
    v_ids := v_ids || v_id;
    v_states := v_states || v_state;
    v_fail_ids := v_fail_ids || v_id;
  end loop;

  -- In the order given.
  return query
    select u.id,
           case when u.id = any (v_late) then 'late' when u.id = any (v_released) then 'released'
                else v_states[array_position(v_ids, u.id)] end
    from unnest(v_all) with ordinality u(id, n)
    order by u.n;
  -- A replay run stops once more than 20% of it failed (see the replay runs migration).
  if cardinality(v_fail_ids) > 0 then
    perform app_private.outbox_ack_batch_replays(v_fail_ids);
  end if;
end $$;
comment on function app_private.outbox_ack_batch(jsonb) is
  'Acknowledges a batch of delivery attempts in one round trip: every attempt logged; late acks logged only.';
revoke execute on function app_private.outbox_ack_batch(jsonb) from public;
grant execute on function app_private.outbox_ack_batch(jsonb) to authenticated;

-------------------------------------------------------------------------------------------
-- schedules
-------------------------------------------------------------------------------------------
-- Safety net: the relay function drains the outbox every 30 s even if no worker listens.
-- The function drains for at most 20 s (SCHEDULED_DRAIN_MS in packages/shared/outbox/relay.ts:
-- it starts no delivery that could end later); the call waits 25 s, so a full drain is not
-- reported as a failed scheduled call (with pg_net's 10 s default it raised schedule.call).
select ops.schedule_every_30s('outbox-relay',
  $$select ops.invoke_function('outbox-relay', '{}'::jsonb, 'service_role_key', 25000)$$);
