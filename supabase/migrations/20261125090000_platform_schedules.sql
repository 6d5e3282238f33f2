-- Schedules of the control plane (charter §6), run by pg_cron as the database owner:
--   daily:  partition rotation (ops.rotate_partitions) and TTL cleanup of the unpartitioned
--           logs (ops.ttl_cleanup)
--   5 min:  stale lock cleanup (expired idempotency records, leases, nonces, idle rate rows)
-- cron.schedule(name, ...) replaces a job of the same name, so this stays re-runnable.
--
-- Sections: functions; schedules.

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Delivery attempts older than 30 days; DLQ entries replayed or discarded more than 30
-- days ago; decided replay requests older than 90 days. (Audit, spans, metrics and the
-- outbox itself age out with their partitions.)
create function ops.ttl_cleanup(p_now timestamptz default now())
returns table (what text, removed bigint)
language plpgsql set search_path = '' as $$
declare
  n bigint;
begin
  delete from public.outbox_deliveries where created_at < p_now - interval '30 days';
  get diagnostics n = row_count; what := 'outbox_deliveries'; removed := n; return next;
  delete from public.dlq_entries where state in ('replayed', 'discarded')
    and coalesce(replayed_at, dead_at) < p_now - interval '30 days';
  get diagnostics n = row_count; what := 'dlq_entries'; removed := n; return next;
  delete from public.replay_requests where status in ('dry_run', 'rejected', 'executed')
    and created_at < p_now - interval '90 days';
  get diagnostics n = row_count; what := 'replay_requests'; removed := n; return next;
end $$;

-------------------------------------------------------------------------------------------
-- schedules
-------------------------------------------------------------------------------------------
select cron.schedule('partition-rotation', '17 3 * * *', $$select ops.rotate_partitions(); select ops.ttl_cleanup()$$);
select cron.schedule('rails-cleanup', '*/5 * * * *', $$select ops.cleanup_rails()$$);
