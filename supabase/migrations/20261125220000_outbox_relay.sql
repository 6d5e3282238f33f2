-- Outbox relay support (issue 5): batch acknowledgement with a documented retry schedule,
-- Retry-After, 410 Gone, and the pg_cron safety net that drains the outbox every 30 s.
--
-- Retry schedule (per event, after a failed attempt n = 1, 2, ...):
--   delay = min(600 s, outbox.retryBaseMs × 2^(n-1)) × jitter, jitter uniform in [0.5, 1.0]
--   (default base 2 s: about 1-2 s, 2-4 s, 4-8 s, 8-16 s, ... capped at 5-10 min);
--   a receiver's Retry-After wins when it asks for longer. After outbox.maxAttempts
--   attempts (default 8) the event moves to the DLQ with its trace id and last error.

insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('outbox.retryBaseMs', 'integer', 10, 600000, null, false, '{global,tenant}', '2000', 'flags.global.write',
   'Base delay of the outbox retry schedule, in ms (doubles per attempt, jittered)'),
  ('outbox.maxAttempts', 'integer', 1, 100, null, false, '{global,tenant}', '8', 'flags.global.write',
   'Delivery attempts before an outbox event moves to the DLQ')
on conflict (key) do nothing;

-- Acknowledges a batch of delivery attempts in one round trip.
-- p_results: [{event_id, ok, error, retry_after, deliveries: [{subscription_id, ok, status_code,
-- error, duration_ms}]}]. Subscriptions that answered 410 Gone are switched off.
create function app_private.outbox_ack_batch(p_results jsonb)
returns table (event_id uuid, state text)
language plpgsql security definer set search_path = '' as $$
declare
  r        jsonb;
  v_id     uuid;
  v_tenant uuid;
  v_state  text;
  v_n      int;
  v_delay  double precision;
begin
  for r in select * from jsonb_array_elements(coalesce(p_results, '[]'::jsonb)) loop
    v_id := (r ->> 'event_id')::uuid;
    select o.tenant_id into v_tenant from public.outbox_events o where o.id = v_id;
    -- outbox_ack checks outbox.deliver in the event's tenant and dead-letters at the cap.
    v_state := app_private.outbox_ack(v_id, coalesce((r ->> 'ok')::boolean, false), r ->> 'error',
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
    event_id := v_id;
    state := v_state;
    return next;
  end loop;
  -- A replay run stops once more than 20% of it failed (see the replay runs migration).
  perform app_private.outbox_ack_batch_replays(array(
    select (x ->> 'event_id')::uuid from jsonb_array_elements(coalesce(p_results, '[]'::jsonb)) x
    where not coalesce((x ->> 'ok')::boolean, false)));
end $$;
revoke execute on function app_private.outbox_ack_batch(jsonb) from public;
grant execute on function app_private.outbox_ack_batch(jsonb) to authenticated;

-- Commit-to-ack lag of deliveries (deliveries.created_at is when the 2xx was recorded).
create view public.outbox_delivery_lag with (security_invoker = true) as
  select d.tenant_id, d.event_id, d.subscription_id, d.created_at as acked_at,
         extract(epoch from d.created_at - d.event_created_at) * 1000 as lag_ms
  from public.outbox_deliveries d where d.ok;

-- Safety net: the relay function drains the outbox every 30 s even if no worker listens.
select ops.schedule_every_30s('outbox-relay', $$select ops.invoke_function('outbox-relay', '{}'::jsonb, 'service_role_key')$$);
