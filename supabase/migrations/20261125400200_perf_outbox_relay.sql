-- Performance (issue 7, bench/README.md): the outbox relay's claim and batch acknowledgement.
--
-- Measured before: the relay delivered about 300 events/s and fell behind at 1,000 events/s
-- (lag p95 15 s). Per batch of 100:
-- - app_private.outbox_ack_batch took about 110 ms: it acknowledged event by event, and each
--   event ran three guarded statements (delivery row insert, event update, a 410 check on
--   the subscriptions), each statement firing the kill-switch guard (check_rails), plus a
--   permission check and a flag read per event;
-- - app_private.outbox_claim sorted every due event to find the oldest 100 (the due index is
--   ordered by next_attempt_at), so a claim cost grew with the backlog (15 ms at 3,000).
--
-- Now the successful acknowledgements of a batch are set-based: one permission check per
-- tenant, one row lock pass, one insert of all delivery rows, one update of the events, and
-- the 410 update only when a receiver answered 410 -- the rails guard fires once per
-- statement as before, so the kill switch stops acknowledgements exactly as it did. Failed
-- attempts (retry schedule, DLQ, alerts) go through the unchanged per-event path. Same
-- results, same order, same errors for an unknown event or one that is not delivering.
-- The claim gets an index in seq order over the undelivered events, so it reads the oldest
-- due events first and stops at the batch size.

create index outbox_events_undelivered_seq_idx on public.outbox_events (seq)
  where state in ('pending', 'delivering', 'failed');

-- The acknowledgements join outbox_events by `o.id = any (v_ok)` as well as by the id in
-- the JSON, so the planner probes each partition's primary key instead of scanning every
-- partition once the outbox has history (measured: 142 ms per batch of 100 with 66,000
-- rows, the relay falling to ~580 events/s, before this).

create or replace function app_private.outbox_ack_batch(p_results jsonb)
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
