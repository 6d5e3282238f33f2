-- Schedules of the control plane (charter §6), run by pg_cron as the database owner:
--   daily:  partition rotation and TTL cleanup (ops.rotate_partitions)
--   5 min:  stale lock cleanup (expired idempotency records, leases, nonces, idle rate rows)
-- cron.schedule(name, ...) replaces a job of the same name, so this stays re-runnable.

select cron.schedule('partition-rotation', '17 3 * * *', $$select ops.rotate_partitions()$$);
select cron.schedule('rails-cleanup', '*/5 * * * *', $$select ops.cleanup_rails()$$);
