/**
 * The fault suite's client: rates/price_one at a fixed arrival rate (open loop: a request
 * leaves on schedule whatever the earlier ones are doing), each with its own Idempotency-Key,
 * retried as a well-behaved client would retry it:
 *  - 503 and 429: after Retry-After (seconds; 1 s when absent, at most 10 s);
 *  - a connection error or a timeout (15 s): after 1, 2, 4, 8 s (backing off: a saturated
 *    server is not sent twice the load), the same key (the first attempt may have committed:
 *    the replay answers its result);
 *  - 409 idempotency_in_flight: after 1 s (the first attempt still holds the key);
 * everything else is final. A request stops retrying 60 s after it was first sent (`retryWindowMs`).
 */
import { randomUUID } from "node:crypto";
import { priceOneBody } from "../../bench/lib/fixtures.ts";
import { sleep } from "../../bench/lib/stats.ts";

export interface Attempt {
  at: number;
  ms: number;
  /** HTTP status, or 0 for a connection error / timeout. */
  status: number;
  code: string | null;
  retryAfter: string | null;
}

export interface Sent {
  key: string;
  tenant: string;
  firstAt: number;
  attempts: Attempt[];
  /** The final answer's status (0: never answered), the quote a 2xx returned. */
  status: number;
  quoteId: string | null;
  done: boolean;
}

export interface LoadRun {
  sent: Sent[];
  /** Resolves when the schedule has ended and every request has its final answer. */
  stop: () => Promise<Sent[]>;
}

const TIMEOUT_MS = 15_000;
const MAX_IN_FLIGHT = 4000;

async function attempt(url: string, token: string, key: string, body: string): Promise<Attempt & { quoteId: string | null }> {
  const at = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "idempotency-key": key },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = JSON.parse(text);
    } catch { /* not JSON: keep the status */ }
    return {
      at, ms: Date.now() - at, status: res.status, retryAfter: res.headers.get("retry-after"),
      code: res.ok ? null : typeof parsed?.code === "string" ? parsed.code : null,
      quoteId: res.ok && typeof parsed?.data?.quote_id === "string" ? parsed.data.quote_id : null,
    };
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    return { at, ms: Date.now() - at, status: 0, code: timedOut ? "timeout" : "connection_error", retryAfter: null, quoteId: null };
  }
}

/** How long to wait before the next attempt (`n` so far), or null when the answer is final. */
export function retryDelayMs(a: Attempt, n = 1): number | null {
  if (a.status === 503 || a.status === 429) {
    const s = Number(a.retryAfter);
    return Number.isFinite(s) && s >= 0 && a.retryAfter !== null ? Math.min(10, s) * 1000 : 1000;
  }
  if (a.status === 0) return Math.min(8000, 1000 * 2 ** (n - 1));
  if (a.status === 409 && a.code === "idempotency_in_flight") return 1000;
  return null;
}

async function request(url: string, token: string, s: Sent, body: string, windowMs: number): Promise<void> {
  for (;;) {
    const a = await attempt(url, token, s.key, body);
    const { quoteId, ...rec } = a;
    s.attempts.push(rec);
    s.status = a.status;
    const wait = retryDelayMs(a, s.attempts.length);
    if (wait === null || Date.now() + wait - s.firstAt > windowMs) {
      s.quoteId = quoteId;
      s.done = true;
      return;
    }
    await sleep(wait);
  }
}

/**
 * Starts price_one at `rate`/s for `seconds` (or until stop()), spread over the tenants'
 * tokens in turn.
 */
export function startLoad(
  o: { api: string; callers: { tenant: string; token: string }[]; rate: number; seconds?: number; retryWindowMs?: number },
): LoadRun {
  const url = `${o.api}/functions/v1/rates/price_one`;
  const sent: Sent[] = [];
  const pending = new Set<Promise<void>>();
  const started = Date.now();
  const endAt = o.seconds ? started + o.seconds * 1000 : Infinity;
  let stopped = false;
  let n = 0;
  const body = priceOneBody();
  const tick = () => {
    const now = Date.now();
    const due = Math.floor(((Math.min(now, endAt) - started) / 1000) * o.rate);
    while (n < due && pending.size < MAX_IN_FLIGHT) {
      const caller = o.callers[n % o.callers.length];
      const s: Sent = { key: randomUUID(), tenant: caller.tenant, firstAt: Date.now(), attempts: [], status: 0, quoteId: null, done: false };
      sent.push(s);
      const p = request(url, caller.token, s, body, o.retryWindowMs ?? 60_000).finally(() => pending.delete(p));
      pending.add(p);
      n++;
    }
    if (n < due) n = due; // over the in-flight cap: those requests are skipped, not queued
  };
  const timer = setInterval(() => {
    if (!stopped) tick();
    if (Date.now() >= endAt) stopped = true;
  }, 10);
  const finished = (async () => {
    while (!stopped) await sleep(20);
    clearInterval(timer);
    while (pending.size > 0) await Promise.allSettled([...pending]);
    return sent;
  })();
  return {
    sent,
    stop: () => {
      stopped = true;
      return finished;
    },
  };
}
