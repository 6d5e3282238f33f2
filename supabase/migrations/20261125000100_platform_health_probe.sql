-- Health probe every 30 s (charter §6): pg_cron -> net.http_post -> the `health` function.
-- Its responses land in net._http_response, which is how prove-green sees cron working.
--
-- Sections: schedules.

-------------------------------------------------------------------------------------------
-- schedules
-------------------------------------------------------------------------------------------
select ops.schedule_every_30s('health-probe', $$select ops.invoke_function('health')$$);
