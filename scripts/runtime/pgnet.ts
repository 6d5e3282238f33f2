import type { Sql } from "../../packages/shared/db/client.ts";
import { isDbUnavailable } from "../../packages/shared/pipeline/db-errors.ts";

interface Queued {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  timeout_milliseconds: number;
}

interface HttpResponse {
  status: number | null;
  contentType: string | null;
  headers: Record<string, string> | null;
  content: string | null;
  timedOut: boolean;
  errorMsg: string | null;
}

type Log = (o: Record<string, unknown>) => void;

/** Waits before each retry of a response write while the database is away (about a minute in all). */
const RECORD_RETRY_MS = [250, 500, 1000, 2000, 4000, 8000, 15_000, 30_000];

/**
 * The pg_net stand-in's worker: drains net.http_request_queue (woken by NOTIFY, polling
 * once a second as a safety net), sends each request and records net._http_response,
 * as pg_net's background worker does. Nothing here rejects into the runtime (issue 12): a
 * failed call is recorded as pg_net records one, a response write is retried while the
 * database is away, and one that cannot be written is logged, never dropped silently.
 */
export async function startPgNetWorker(sql: Sql, log: Log, maxInFlight = 32): Promise<() => Promise<void>> {
  // Requests run concurrently and independently: a slow call (a long autopilot tick) must
  // not hold back the next health probe, as pg_net's own worker does not.
  let inFlight = 0;
  let draining = false;
  let again = false;
  let stopped = false;
  const failed = (what: string) => (err: unknown) => log({ level: "error", msg: what, err: String(err) });
  const drain = async (): Promise<void> => {
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    again = false;
    try {
      while (inFlight < maxInFlight && !stopped) {
        const batch = await sql<Queued[]>`
          delete from net.http_request_queue
          where id in (select id from net.http_request_queue order by id limit ${maxInFlight - inFlight} for update skip locked)
          returning id, method, url, headers, body, timeout_milliseconds`;
        if (batch.length === 0) break;
        for (const r of batch) {
          inFlight++;
          void call(r, log)
            .then((res) => record(sql, r.id, res, log, () => stopped))
            .catch(failed("pg_net request failed"))
            .finally(() => {
              inFlight--;
              wake();
            });
        }
      }
    } catch (err) {
      log({ level: "error", msg: "pg_net worker failed to drain", err: String(err) });
    } finally {
      draining = false;
    }
    if (again && !stopped) return drain();
  };
  const wake = () => void drain().catch(failed("pg_net worker failed to drain"));
  const listener = await sql.listen("net_http_request", wake);
  const timer = setInterval(wake, 1000);
  // pg_net keeps responses for 6 hours.
  const trim = setInterval(
    () => void sql`delete from net._http_response where created < now() - interval '6 hours'`.catch(failed("pg_net trim failed")),
    600_000,
  );
  await drain();
  return async () => {
    stopped = true;
    clearInterval(timer);
    clearInterval(trim);
    await listener.unlisten().catch(failed("pg_net unlisten failed"));
  };
}

/** Sends one request; a failure is the response (as pg_net records it), never a rejection. */
async function call(r: Queued, log: Log): Promise<HttpResponse> {
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.body ? new Uint8Array(r.body) : undefined,
      signal: AbortSignal.timeout(r.timeout_milliseconds),
    });
    return {
      status: res.status, contentType: res.headers.get("content-type"), headers: Object.fromEntries(res.headers),
      content: await res.text(), timedOut: false, errorMsg: null,
    };
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    const errorMsg = timedOut ? `Timeout of ${r.timeout_milliseconds} ms reached` : String(err);
    log({ level: "warn", msg: "pg_net request failed", request_id: r.id, error: errorMsg });
    return { status: null, contentType: null, headers: null, content: null, timedOut, errorMsg };
  }
}

/**
 * Writes the response row, retrying while the database is away. A response that still cannot
 * be written (the database refused the row, or stayed away) is logged with what it said:
 * status, error, size; not its body, which may carry tenant data.
 */
async function record(sql: Sql, id: string, res: HttpResponse, log: Log, stopped: () => boolean): Promise<void> {
  for (let attempt = 0;; attempt++) {
    try {
      await sql`
        insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
        values (${id}, ${res.status}, ${res.contentType}, ${res.headers ? sql.json(res.headers) : null}, ${res.content},
                ${res.timedOut}, ${res.errorMsg})`;
      return;
    } catch (err) {
      if (isDbUnavailable(err) && attempt < RECORD_RETRY_MS.length && !stopped()) {
        await new Promise((r) => setTimeout(r, RECORD_RETRY_MS[attempt]));
        continue;
      }
      log({
        level: "error", msg: "pg_net response not recorded", request_id: id, status_code: res.status,
        timed_out: res.timedOut, error_msg: res.errorMsg, content_bytes: res.content?.length ?? 0, attempts: attempt + 1,
        err: String(err),
      });
      return;
    }
  }
}
