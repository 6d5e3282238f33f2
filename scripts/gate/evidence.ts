/**
 * Recent errors and logs for the report: error spans, failing outbox events, open alerts,
 * failed pg_cron runs and pg_net errors in the window. Each source is read on its own, so
 * one that is missing (or not readable) leaves a note instead of sinking the report.
 */
import type { Queryable } from "../ops/db.ts";
import { windowStart, type Window } from "../ops/metrics.ts";

export interface Evidence {
  title: string;
  rows: Record<string, unknown>[];
  note?: string;
}

type Source = [string, (sql: Queryable, w: Window) => Promise<readonly object[]>];

const SOURCES: Source[] = [
  ["Error spans", (sql, w) => sql`
    select trace_id, name, function_name, portal, status_message, start_time from public.spans
    where status = 'error' and start_time >= ${windowStart(sql, w)} order by start_time desc limit 15`],
  ["Failing outbox events", (sql, w) => sql`
    select id, event_type, state, attempts, last_error, trace_id, created_at from public.outbox_events
    where state = 'failed' or (state = 'dead' and created_at >= ${windowStart(sql, w)})
    order by created_at desc limit 15`],
  ["Open alerts", (sql) => sql`
    select severity, source, summary, trace_id, created_at from public.alerts
    where resolved_at is null order by created_at desc limit 15`],
  ["Failed pg_cron runs", (sql, w) => sql`
    select j.jobname, d.status, d.return_message, d.start_time from cron.job_run_details d join cron.job j using (jobid)
    where d.status = 'failed' and d.start_time >= ${windowStart(sql, w)} order by d.start_time desc limit 15`],
  ["pg_net errors (scheduled function calls)", (sql, w) => sql`
    select id, status_code, error_msg, left(content, 300) as content, created from net._http_response
    where (status_code >= 400 or error_msg is not null) and created >= ${windowStart(sql, w)}
    order by created desc limit 15`],
];

export async function gatherEvidence(sql: Queryable, w: Window): Promise<Evidence[]> {
  const out: Evidence[] = [];
  for (const [title, read] of SOURCES) {
    try {
      out.push({ title, rows: (await read(sql, w)).map((r) => ({ ...r })) });
    } catch (err) {
      out.push({ title, rows: [], note: `unavailable: ${(err as Error).message}` });
    }
  }
  return out;
}
