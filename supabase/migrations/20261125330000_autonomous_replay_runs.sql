-- DLQ replay runs (charter §6, §8): choosing what to replay within the caps, and stopping a
-- run as soon as more than 20% of it has failed. The caps themselves (batch, payload, 3 per
-- 5 minutes per tenant and per IP, approval in STEP-DOWN) are enforced by
-- app_private.replay_request, so psql cannot exceed them either.
--
-- Sections: functions.

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The oldest dead entries of a tenant that fit the caps: at most budget.replay.maxBatch,
-- total payload within budget.replay.maxPayloadMB; an entry larger than the payload cap on
-- its own is skipped and reported (it can never be replayed as is).
create function app_private.replay_selection(p_tenant_id uuid)
returns table (dlq_id uuid, payload_bytes int, selected boolean, reason text)
language sql stable security definer set search_path = '' as $$
  with caps as (
    select app_private.flag_number('budget.replay.maxBatch', p_tenant_id)::int as max_n,
           (app_private.flag_number('budget.replay.maxPayloadMB', p_tenant_id) * 1024 * 1024)::bigint as max_bytes
  ),
  dead as (
    select d.id, d.payload_bytes, d.dead_at from public.dlq_entries d, caps
    where d.tenant_id = p_tenant_id and d.state = 'dead'
      and (app_private.is_trusted_session() or app_private.has_permission(p_tenant_id, 'dlq.read'))
  ),
  fits as (
    select x.*, sum(x.payload_bytes) over (order by x.dead_at, x.id) as running,
           row_number() over (order by x.dead_at, x.id) as n
    from dead x, caps where x.payload_bytes <= caps.max_bytes
  )
  select f.id, f.payload_bytes, true, null from fits f, caps where f.n <= caps.max_n and f.running <= caps.max_bytes
  union all
  select x.id, x.payload_bytes, false, 'payload_too_large' from dead x, caps where x.payload_bytes > caps.max_bytes
$$;
comment on function app_private.replay_selection(uuid) is
  'The oldest dead DLQ entries of a tenant that fit the replay caps.';

-- Stops a replay run whose failures passed 20%: its undelivered events go back to the DLQ
-- (dead, replayable later) and the request records the stop. Returns true when it stopped.
create function app_private.replay_stop_if_failing(p_request_id uuid)
returns boolean
language plpgsql security definer set search_path = '' as $$
declare
  p record;
  n int;
begin
  select * into p from app_private.replay_progress(p_request_id);
  if not coalesce(p.should_stop, false) then
    return false;
  end if;
  with stopped as (
    update public.outbox_events o set state = 'dead', last_error = 'replay stopped: more than 20% failed'
     where o.headers ->> 'x-replay-request' = p_request_id::text and o.state in ('pending', 'failed', 'delivering')
    returning o.id, o.created_at
  )
  -- By event id: a replay may have re-created the event with a new created_at.
  update public.dlq_entries d set state = 'dead', replay_request_id = null, replayed_at = null
    from stopped s where d.event_id = s.id and d.replay_request_id = p_request_id;
  get diagnostics n = row_count;
  -- Entries whose events failed for good already went back to the DLQ via outbox_ack.
  update public.replay_requests q
     set outcome = coalesce(q.outcome, '{}'::jsonb) || jsonb_build_object(
           'stopped', true, 'stopped_at', now(), 'returned_to_dlq', n,
           'delivered', p.delivered, 'failed', p.failed, 'fail_ratio', p.fail_ratio)
   where q.id = p_request_id and not coalesce((q.outcome ->> 'stopped')::boolean, false);
  return true;
end $$;
comment on function app_private.replay_stop_if_failing(uuid) is
  'Stops a replay run once more than 20% of it failed; its undelivered events go back to the DLQ.';

revoke execute on function app_private.replay_selection(uuid), app_private.replay_stop_if_failing(uuid) from public;
grant execute on function app_private.replay_selection(uuid) to authenticated;

-- The relay's batch ack checks the replays its failures belong to.
create or replace function app_private.outbox_ack_batch_replays(p_event_ids uuid[])
returns void
language plpgsql security definer set search_path = '' as $$
declare
  rid uuid;
begin
  for rid in select distinct (o.headers ->> 'x-replay-request')::uuid from public.outbox_events o
             where o.id = any (p_event_ids) and o.headers ? 'x-replay-request' and o.state in ('failed', 'dead') loop
    perform app_private.replay_stop_if_failing(rid);
  end loop;
end $$;
revoke execute on function app_private.outbox_ack_batch_replays(uuid[]) from public;
