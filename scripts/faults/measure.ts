/**
 * What a scenario did, counted from the database and the receiver (never from logs).
 *
 * Each scenario has its own tenant and subscription, so every row of that tenant is the
 * scenario's. Definitions (bench/README.md "Fault suite" says the same):
 *  - accepted: requests whose final answer was 2xx (distinct quotes);
 *  - committed: quotes stored with their outbox event and their audit row;
 *  - half-written: quotes missing either (counted as lost);
 *  - delivered: events the receiver took (2xx that reached the relay);
 *  - duplicates: webhook-ids the receiver took more than once (retries after a failed
 *    attempt are not duplicates);
 *  - parked: undelivered events kept visible for a human (in the DLQ, or state dead/parked);
 *  - lost: accepted but not committed, half-written, or committed and neither delivered nor
 *    parked once the scenario has recovered (an event marked delivered that the receiver never
 *    took counts here);
 *  - unrecorded attempts: requests the receiver saw beyond the attempts outbox_deliveries holds.
 */
import type postgres from "postgres";
import { latency, percentile } from "../../bench/lib/stats.ts";
import type { Sent } from "./load.ts";
import { deliveredAt, duplicates, type Receiver } from "./receiver.ts";

export interface Figures {
  sent: number;
  accepted: number;
  committed: number;
  halfWritten: number;
  committedNotAnswered: number;
  events: number;
  delivered: number;
  duplicates: number;
  parked: number;
  lost: number;
  lostDetail: { notCommitted: number; halfWritten: number; undelivered: number; markedDeliveredNotTaken: number };
  unrecordedAttempts: number;
  /** Requests the receiver saw (all webhook-ids, every attempt). */
  receiverRequests: number;
  /** "500 internal_error": n, over every attempt. */
  fiveXx: Record<string, number>;
  with503RetryAfter: number;
  finalNot2xx: Record<string, number>;
  /** Latency of the 2xx attempts (send to answer), ms. */
  latency: { p50: number; p95: number; max: number };
  /** Commit -> receiver lag of the events committed in the lag window (never delivered: Infinity), ms. */
  lag: { p50: number; p95: number; n: number };
}

interface EventRow {
  id: string;
  aggregate_id: string;
  created_at: Date;
  state: string;
  in_dlq: boolean;
  recorded: number;
}

export async function events(sql: postgres.Sql, tenant: string, subscription: string): Promise<EventRow[]> {
  return await sql<EventRow[]>`
    select e.id, e.aggregate_id, e.created_at, e.state,
           exists (select 1 from public.dlq_entries d where d.tenant_id = e.tenant_id and d.event_id = e.id) as in_dlq,
           (select count(*)::int from public.outbox_deliveries d where d.event_id = e.id and d.subscription_id = ${subscription}) as recorded
    from public.outbox_events e
    where e.tenant_id = ${tenant} and e.event_type = 'rates.quote.created'`;
}

/** Waits until every committed event of the tenant is delivered or parked (or `ms` passed). */
export async function waitDelivered(sql: postgres.Sql, tenant: string, sub: string, r: Receiver, ms: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const taken = deliveredAt(r);
    const open = (await events(sql, tenant, sub)).filter((e) => !taken.has(e.id) && !isParked(e)).length;
    if (open === 0 || Date.now() - started > ms) return open;
    await new Promise((res) => setTimeout(res, 500));
  }
}

const isParked = (e: EventRow) => e.in_dlq || e.state === "dead" || e.state === "parked";

export async function measure(
  sql: postgres.Sql,
  o: { tenant: string; subscription: string; receiver: Receiver; sent: Sent[]; lagFrom?: number; lagTo?: number },
): Promise<Figures> {
  const mine = o.sent.filter((s) => s.tenant === o.tenant);
  const quotes = await sql<{ id: string; event: boolean; audit: boolean }[]>`
    select q.id,
           exists (select 1 from public.outbox_events e where e.tenant_id = q.tenant_id and e.aggregate_type = 'rates_quote'
                   and e.aggregate_id = q.id::text and e.event_type = 'rates.quote.created') as event,
           exists (select 1 from public.audit_log a where a.tenant_id = q.tenant_id and a.action = 'rates_quotes.insert'
                   and a.target_id = q.id::text) as audit
    from public.rates_quotes q where q.tenant_id = ${o.tenant}`;
  const complete = new Set(quotes.filter((q) => q.event && q.audit).map((q) => q.id));
  const acceptedIds = new Set(mine.filter((s) => s.status >= 200 && s.status < 300 && s.quoteId).map((s) => s.quoteId!));
  const evs = await events(sql, o.tenant, o.subscription);
  const taken = deliveredAt(o.receiver);
  const undelivered = evs.filter((e) => !taken.has(e.id) && !isParked(e));

  const fiveXx: Record<string, number> = {};
  const finalNot2xx: Record<string, number> = {};
  let with503RetryAfter = 0;
  for (const s of mine) {
    for (const a of s.attempts) {
      if (a.status >= 500) {
        const k = `${a.status}${a.code ? ` ${a.code}` : ""}`;
        fiveXx[k] = (fiveXx[k] ?? 0) + 1;
      }
      if (a.status === 503 && a.retryAfter !== null) with503RetryAfter++;
    }
    if (!(s.status >= 200 && s.status < 300)) {
      const last = s.attempts.at(-1);
      const k = last ? (last.status === 0 ? String(last.code) : `${last.status}${last.code ? ` ${last.code}` : ""}`) : "unsent";
      finalNot2xx[k] = (finalNot2xx[k] ?? 0) + 1;
    }
  }
  const okMs = mine.flatMap((s) => s.attempts.filter((a) => a.status >= 200 && a.status < 300).map((a) => a.ms));
  const lat = latency(okMs);
  const lags = evs
    .filter((e) => (o.lagFrom === undefined || e.created_at.getTime() >= o.lagFrom) && (o.lagTo === undefined || e.created_at.getTime() <= o.lagTo))
    .map((e) => (taken.has(e.id) ? taken.get(e.id)! - e.created_at.getTime() : Infinity)).sort((a, b) => a - b);

  let unrecorded = 0;
  for (const e of evs) unrecorded += Math.max(0, (o.receiver.seen.get(e.id)?.length ?? 0) - e.recorded);
  const notCommitted = [...acceptedIds].filter((id) => !quotes.some((q) => q.id === id)).length;
  const halfWritten = quotes.length - complete.size;
  const markedDeliveredNotTaken = undelivered.filter((e) => e.state === "delivered").length;
  const committedNotAnswered = [...complete].filter((id) => !acceptedIds.has(id)).length;
  return {
    sent: mine.length,
    accepted: acceptedIds.size,
    committed: complete.size,
    halfWritten,
    committedNotAnswered,
    events: evs.length,
    delivered: evs.filter((e) => taken.has(e.id)).length,
    duplicates: duplicates(o.receiver),
    parked: evs.filter((e) => !taken.has(e.id) && isParked(e)).length,
    lost: notCommitted + halfWritten + undelivered.length,
    lostDetail: { notCommitted, halfWritten, undelivered: undelivered.length, markedDeliveredNotTaken },
    unrecordedAttempts: unrecorded,
    receiverRequests: [...o.receiver.seen.values()].reduce((n, l) => n + l.length, 0),
    fiveXx,
    with503RetryAfter,
    finalNot2xx,
    latency: { p50: lat.p50, p95: lat.p95, max: okMs.length ? Math.max(...okMs) : NaN },
    lag: { p50: percentile(lags, 50), p95: percentile(lags, 95), n: lags.length },
  };
}

/**
 * When service came back after `from`: the answer time of the first request sent after
 * `from` that succeeded promptly (2xx within `promptMs`). null: it never did.
 */
export function recoveredAt(sent: Sent[], from: number, promptMs = 2000): number | null {
  let best: number | null = null;
  for (const s of sent) {
    for (const a of s.attempts) {
      if (a.at >= from && a.status >= 200 && a.status < 300 && a.ms <= promptMs) {
        const t = a.at + a.ms;
        if (best === null || t < best) best = t;
      }
    }
  }
  return best;
}
