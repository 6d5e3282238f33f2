import type { Sql } from "../../packages/shared/db/client.ts";

interface Queued {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array | null;
  timeout_milliseconds: number;
}

/**
 * The pg_net stand-in's worker: drains net.http_request_queue (woken by NOTIFY, polling
 * once a second as a safety net), sends each request and records net._http_response,
 * as pg_net's background worker does.
 */
export async function startPgNetWorker(sql: Sql, log: (o: Record<string, unknown>) => void, maxInFlight = 32) {
  // Requests run concurrently and independently: a slow call (a long autopilot tick) must
  // not hold back the next health probe, as pg_net's own worker does not.
  let inFlight = 0;
  let draining = false;
  let again = false;
  const drain = async (): Promise<void> => {
    if (draining) {
      again = true;
      return;
    }
    draining = true;
    again = false;
    try {
      while (inFlight < maxInFlight) {
        const batch = await sql<Queued[]>`
          delete from net.http_request_queue
          where id in (select id from net.http_request_queue order by id limit ${maxInFlight - inFlight} for update skip locked)
          returning id, method, url, headers, body, timeout_milliseconds`;
        if (batch.length === 0) break;
        for (const r of batch) {
          inFlight++;
          void send(sql, r, log).finally(() => {
            inFlight--;
            void drain();
          });
        }
      }
    } catch (err) {
      log({ level: "error", msg: "pg_net worker failed to drain", err: String(err) });
    } finally {
      draining = false;
    }
    if (again) return drain();
  };
  await sql.listen("net_http_request", () => void drain());
  const timer = setInterval(drain, 1000);
  // pg_net keeps responses for 6 hours.
  const trim = setInterval(() => sql`delete from net._http_response where created < now() - interval '6 hours'`.catch(() => {}), 600_000);
  await drain();
  return () => { clearInterval(timer); clearInterval(trim); };
}

async function send(sql: Sql, r: Queued, log: (o: Record<string, unknown>) => void) {
  let status: number | null = null, contentType: string | null = null, headers: Record<string, string> | null = null;
  let content: string | null = null, timedOut = false, errorMsg: string | null = null;
  try {
    const res = await fetch(r.url, {
      method: r.method,
      headers: r.headers,
      body: r.body ? new Uint8Array(r.body) : undefined,
      signal: AbortSignal.timeout(r.timeout_milliseconds),
    });
    status = res.status;
    contentType = res.headers.get("content-type");
    headers = Object.fromEntries(res.headers);
    content = await res.text();
  } catch (err) {
    timedOut = err instanceof DOMException && err.name === "TimeoutError";
    errorMsg = timedOut ? `Timeout of ${r.timeout_milliseconds} ms reached` : String(err);
    log({ level: "warn", msg: "pg_net request failed", request_id: r.id, error: errorMsg });
  }
  await sql`
    insert into net._http_response (id, status_code, content_type, headers, content, timed_out, error_msg)
    values (${r.id}, ${status}, ${contentType}, ${headers ? sql.json(headers) : null}, ${content}, ${timedOut}, ${errorMsg})`;
}
