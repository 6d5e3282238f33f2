import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Webhook } from "standardwebhooks";
import { jsonb, type Sql, type Tx, withClaims } from "../db/client.ts";
import type { Logger } from "../observability/logger.ts";
import { isDbUnavailable } from "../pipeline/db-errors.ts";

/**
 * The outbox relay: claims due events in batches (SKIP LOCKED, so several relays can run;
 * only the oldest undelivered event of an aggregate is claimable, so order holds per
 * aggregate), delivers each to every matching subscription with Standard Webhooks
 * signatures and the event's traceparent, and acknowledges the batch in one round trip.
 *
 * It acts as relay@ (issue 12), a non-autonomous service account holding outbox.deliver
 * only: delivering what a committed transaction published is nobody's decision, so it goes
 * on with agents off (an SLO rollback), in DEGRADE and STEP-DOWN, and under STOP, where
 * machines publish nothing new and relay@ writes only its delivery bookkeeping (README,
 * "Operating it"). While a batch is being delivered its claim is extended (a heartbeat every
 * third of the claim), so a slow receiver does not let another relay claim the batch again;
 * an acknowledgement that comes late anyway is logged, not fatal to the batch.
 *
 * Each delivery stands alone (issue 11): a subscription whose secret is missing or invalid
 * gets a failed attempt and is never sent (nothing goes out unsigned); a target that is, or
 * resolves (every A / AAAA record) to, a loopback / private / link-local / fc00::/7 address
 * is refused unless outbox.allowPrivateTargets is on; redirects are not followed (a 3xx is
 * a failed attempt); nothing one delivery does can fail another's.
 */
export interface RelayOptions {
  /** The principal the relay acts as (claims carried into Postgres); relay@ unless a test says otherwise. */
  principalId?: string;
  batchSize?: number;
  claimSeconds?: number;
  timeoutMs?: number;
  /** Concurrent HTTP deliveries within a batch. */
  concurrency?: number;
  /**
   * Deliver one tenant's events only: its claims carry the tenant, so Postgres narrows what
   * it may claim, extend and acknowledge to it (app_private.permitted_tenants). A relay for a
   * tenant of its own; the tests' relays beside the shared stack's other traffic.
   */
  tenantId?: string;
}

/** relay@, the relay's own service account (migration ..._platform_tenancy_principals). */
export const RELAY_PRINCIPAL = "a0000000-0000-4000-8000-000000000007";

/**
 * The outbox-relay function's drain budget (pg_cron's safety net). Its pg_net call waits
 * 25 s (migration ..._platform_outbox_relay), and a drain with a budget starts no delivery
 * that could end after it, so the call answers in time.
 */
export const SCHEDULED_DRAIN_MS = 20_000;

interface ClaimedEvent {
  id: string;
  tenant_id: string;
  aggregate_type: string;
  aggregate_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  headers: Record<string, string>;
  created_at: Date;
  attempts: number;
  claim_token: string;
}

interface Subscription {
  id: string;
  tenant_id: string;
  endpoint_url: string;
  event_filter: string[];
  secret_ref: string;
  secrets: string[];
  /** Whether the target may be a private address (outbox.allowPrivateTargets). */
  allowPrivate: boolean;
}

interface DeliveryResult {
  subscription_id: string;
  ok: boolean;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  retry_after: number | null;
}

export interface DrainStats {
  claimed: number;
  delivered: number;
  failed: number;
  dead: number;
  /** Delivered to every live subscription, kept in the DLQ for one whose receiver answered 410. */
  parked: number;
  /** Acknowledged after the claim had lapsed and the event was claimed again: logged only. */
  late: number;
  /** Not fully attempted before the drain's deadline: given back without counting an attempt. */
  released: number;
}

const noStats = (): DrainStats => ({ claimed: 0, delivered: 0, failed: 0, dead: 0, parked: 0, late: 0, released: 0 });

/** '*', an exact type, or 'prefix.*' (same rule as app_private.event_matches). */
export function eventMatches(filter: string[], type: string): boolean {
  return filter.some((f) => f === "*" || f === type || (f.endsWith(".*") && type.startsWith(f.slice(0, -1))));
}

/** Retry-After as seconds (delta or HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The Standard Webhooks body: {type, timestamp, data} plus the ids a consumer needs. */
export function webhookBody(e: ClaimedEvent): string {
  return JSON.stringify({
    id: e.id,
    type: e.event_type,
    timestamp: new Date(e.created_at).toISOString(),
    tenant_id: e.tenant_id,
    aggregate: { type: e.aggregate_type, id: e.aggregate_id },
    data: e.payload,
  });
}

/** webhook-signature with one "v1,<b64>" per live secret (two while a secret rotates). */
export function signatureHeader(secrets: string[], id: string, at: Date, body: string): string {
  if (secrets.length === 0) throw new Error("no signing secret");
  return secrets.map((s) => new Webhook(s).sign(id, at, body)).join(" ");
}

const PRIVATE_V4: [number, number][] = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16], [0xac100000, 12], [0xc0a80000, 16],
];

/** Loopback, private (RFC 1918, CGNAT), link-local (169.254/16), unspecified; v6: ::, ::1, fc00::/7, fe80::/10, v4-mapped. */
export function isPrivateAddress(ip: string): boolean {
  const a = ip.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(a) === 4) {
    const n = a.split(".").reduce((acc, o) => (acc * 256) + Number(o), 0);
    return PRIVATE_V4.some(([net, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(net / 2 ** (32 - bits)));
  }
  if (isIP(a) === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    if (mapped) return isPrivateAddress(mapped[1]);
    if (a.startsWith("::ffff:")) return true; // v4-mapped in hex form
    if (a === "::" || a === "::1") return true;
    const first = parseInt(a.split(":")[0] || "0", 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  }
  return true; // not an address: refuse
}

/** Why a delivery to `url` is refused (a private target), or null: resolves every A / AAAA record. */
export async function privateTargetReason(url: string, resolve: typeof lookup = lookup): Promise<string | null> {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return "endpoint URL is invalid";
  }
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await resolve(host, { all: true, verbatim: true })).map((r) => r.address);
    } catch {
      return `DNS lookup of ${host} failed`;
    }
  }
  const bad = addresses.find(isPrivateAddress);
  return bad || addresses.length === 0
    ? `target ${host} is a private address (${bad ?? "none"}): outbox.allowPrivateTargets is off`
    : null;
}

async function deliver(e: ClaimedEvent, s: Subscription, timeoutMs: number): Promise<DeliveryResult> {
  const started = performance.now();
  const failed = (error: string, status_code: number | null = null): DeliveryResult => ({
    subscription_id: s.id, ok: false, status_code, error, duration_ms: Math.round(performance.now() - started), retry_after: null,
  });
  const body = webhookBody(e);
  const at = new Date();
  // Never unsigned: a missing or invalid secret is this delivery's failure, and nobody else's.
  if (s.secrets.length === 0) return failed(`signing secret ${s.secret_ref} is missing in Vault: not sent unsigned`);
  let signature: string;
  try {
    signature = signatureHeader(s.secrets, e.id, at, body);
  } catch {
    return failed(`signing secret ${s.secret_ref} is not a valid whsec_/base64 secret: not sent`);
  }
  if (!s.allowPrivate) {
    const reason = await privateTargetReason(s.endpoint_url);
    if (reason) return failed(reason);
  }
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "webhook-id": e.id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
  };
  if (e.headers?.traceparent) headers.traceparent = e.headers.traceparent;
  try {
    const res = await fetch(s.endpoint_url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 300;
    const redirect = res.status >= 300 && res.status < 400;
    return {
      subscription_id: s.id, ok, status_code: res.status,
      error: ok ? null : redirect ? `HTTP ${res.status}: redirects are not followed` : `HTTP ${res.status}`,
      duration_ms: Math.round(performance.now() - started), retry_after: retryAfterSeconds(res.headers.get("retry-after")),
    };
  } catch (err) {
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    return {
      subscription_id: s.id, ok: false, status_code: null, error: timedOut ? `timeout after ${timeoutMs} ms` : "connection failed",
      duration_ms: Math.round(performance.now() - started), retry_after: null,
    };
  }
}

/** Runs `fn` over `items` with at most `limit` at a time; an item is started only while `mayStart()`. */
async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>, mayStart = () => true): Promise<(R | undefined)[]> {
  const out: (R | undefined)[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && mayStart()) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

export class Relay {
  private readonly claims: Record<string, string>;
  constructor(private readonly sql: Sql, private readonly opts: RelayOptions, private readonly log: Logger) {
    this.claims = { sub: opts.principalId ?? RELAY_PRINCIPAL, role: "authenticated", ...(opts.tenantId ? { tenant_id: opts.tenantId } : {}) };
  }

  /** Runs `query` as the relay's principal (RLS and the rails apply). */
  private asRelay<T>(query: (tx: Tx) => PromiseLike<T>): Promise<T> {
    return withClaims(this.sql, this.claims, query);
  }

  /** The live subscriptions of these tenants with their signing secrets (from Vault). */
  private async subscriptions(tenants: string[]): Promise<Subscription[]> {
    // A subscription's secret is its own tenant's (secret_ref '<tenant>/...', checked again here).
    const rows = await this.sql`
      select s.id, s.tenant_id, s.endpoint_url, s.event_filter, s.secret_ref, v.decrypted_secret as secret,
             app_private.flag_bool('outbox.allowPrivateTargets') as allow_private
      from public.outbox_subscriptions s
      left join vault.decrypted_secrets v on v.name = s.secret_ref and starts_with(s.secret_ref, s.tenant_id::text || '/')
      where s.enabled and s.tenant_id = any(${tenants}::uuid[]) and not app_private.is_quarantined('subscription', s.id::text)`;
    return rows.map((r) => ({
      id: r.id, tenant_id: r.tenant_id, endpoint_url: r.endpoint_url, event_filter: r.event_filter, secret_ref: r.secret_ref,
      secrets: String(r.secret ?? "").split(/\s+/).filter(Boolean), allowPrivate: r.allow_private === true,
    }));
  }

  /**
   * Keeps the claim alive while `work` runs: extends it every third of the claim (one
   * extension in flight at a time; a failed one is logged, the next may succeed). Returns
   * only once no extension is in flight, so the acknowledgement never waits on one.
   */
  private async holdingClaim<T>(claim: string, claimSeconds: number, work: () => Promise<T>): Promise<T> {
    let inFlight: Promise<void> | null = null;
    const beat = setInterval(() => {
      inFlight ??= this.asRelay((tx) => tx`select app_private.outbox_extend(${claim}, ${claimSeconds})`)
        .then(() => {}, (err) => this.log.warn({ err: err instanceof Error ? err.message : String(err) }, "outbox claim extension failed"))
        .finally(() => (inFlight = null));
    }, Math.max(200, (claimSeconds * 1000) / 3));
    try {
      return await work();
    } finally {
      clearInterval(beat);
      await inFlight;
    }
  }

  /**
   * Acknowledges a batch, and again while the database is away: a restart between the
   * receivers' 2xx and the acknowledgement would otherwise redeliver the whole batch once its
   * claim lapsed (duplicates the receivers must dedupe). The claim survives the restart, so an
   * acknowledgement within half of it still settles the events. (If the lost answer was to an
   * acknowledgement that did commit, the retry is late: its attempts are logged again, nothing
   * else changes.)
   */
  private async acknowledge(acks: unknown[], claimSeconds: number) {
    const giveUpAt = Date.now() + claimSeconds * 500;
    for (let wait = 100;; wait = Math.min(2 * wait, 2_000)) {
      try {
        return await this.asRelay((tx) => tx`select event_id, state from app_private.outbox_ack_batch(${jsonb(tx, acks)})`);
      } catch (err) {
        if (!isDbUnavailable(err) || Date.now() + wait > giveUpAt) throw err;
        this.log.warn({ err: err instanceof Error ? err.message : String(err), retry_in_ms: wait }, "outbox acknowledgement: database unavailable; retrying");
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * Claims one batch, delivers it and acknowledges it. With a `deadline` (epoch ms) no
   * delivery starts that could end after it; the events it did not get to are released.
   */
  async drainOnce(deadline?: number): Promise<DrainStats> {
    const claimSeconds = this.opts.claimSeconds ?? 30;
    const timeoutMs = this.opts.timeoutMs ?? 10_000;
    const events = await this.asRelay((tx) =>
      tx`select * from app_private.outbox_claim(${this.opts.batchSize ?? 100}, ${claimSeconds})`
    ) as unknown as ClaimedEvent[];
    const stats: DrainStats = { ...noStats(), claimed: events.length };
    if (events.length === 0) return stats;
    const claim = events[0].claim_token;

    const ids = events.map((e) => e.id);
    const jobs = await this.holdingClaim(claim, claimSeconds, async () => {
      const [subs, done] = await Promise.all([
        this.subscriptions([...new Set(events.map((e) => e.tenant_id))]),
        // Subscriptions that already took an event on an earlier attempt are not sent it again.
        this.sql`select event_id, subscription_id from public.outbox_deliveries where ok and event_id = any(${ids}::uuid[])`,
      ]);
      const already = new Set(done.map((d) => `${d.event_id}:${d.subscription_id}`));
      const todo = events.flatMap((e) =>
        subs.filter((s) => s.tenant_id === e.tenant_id && eventMatches(s.event_filter, e.event_type) && !already.has(`${e.id}:${s.id}`))
          .map((s) => ({ e, s, result: undefined as DeliveryResult | undefined }))
      );
      const mayStart = () => deadline === undefined || Date.now() + timeoutMs <= deadline;
      const results = await pool(todo, this.opts.concurrency ?? 32, ({ e, s }) =>
        deliver(e, s, timeoutMs).catch((err): DeliveryResult => ({
          subscription_id: s.id, ok: false, status_code: null, duration_ms: 0, retry_after: null,
          error: `delivery failed: ${err instanceof Error ? err.message : String(err)}`,
        })), mayStart);
      todo.forEach((j, i) => (j.result = results[i]));
      return todo;
    });

    const byEvent = new Map(events.map((e) => [e.id, { attempt: e.attempts, released: false, results: [] as DeliveryResult[] }]));
    for (const j of jobs) {
      const b = byEvent.get(j.e.id)!;
      if (j.result) b.results.push(j.result);
      else b.released = true;
    }
    const acks = [...byEvent].map(([event_id, { attempt, released, results: rs }]) => {
      // A 410 is not the event's failure: the subscription is switched off and the event parked for it.
      const failed = rs.filter((r) => !r.ok && r.status_code !== 410);
      return {
        event_id,
        claim,
        attempt,
        released,
        ok: failed.length === 0,
        error: failed.map((r) => r.error).join("; ") || null,
        retry_after: Math.max(0, ...failed.map((r) => r.retry_after ?? 0)) || null,
        deliveries: rs.map(({ retry_after: _r, ...d }) => d),
      };
    });
    const states = await this.acknowledge(acks, claimSeconds);
    for (const s of states) {
      const k = s.state as keyof DrainStats;
      if (k in stats && k !== "claimed") stats[k]++;
    }
    if (stats.dead) this.log.warn({ dead: stats.dead }, "outbox events moved to the DLQ");
    if (stats.parked) this.log.warn({ parked: stats.parked }, "outbox events parked: a subscription's receiver answered 410 Gone");
    if (stats.late) this.log.warn({ late: stats.late }, "outbox acknowledgements came after the claim lapsed: logged only");
    return stats;
  }

  /**
   * Drains until nothing is due or the budget is spent; returns within the budget (plus the
   * claim and acknowledgement round trips): no delivery starts that could end after it.
   */
  async drain(budgetMs = SCHEDULED_DRAIN_MS): Promise<DrainStats> {
    const total = noStats();
    const deadline = Date.now() + budgetMs;
    while (Date.now() < deadline) {
      const s = await this.drainOnce(deadline);
      for (const k of Object.keys(total) as (keyof DrainStats)[]) total[k] += s[k];
      if (s.claimed === 0 || s.released > 0) break;
    }
    return total;
  }

  /**
   * A long-running worker: LISTEN 'outbox' wakes it on every commit of an event; a timer
   * catches retries that come due and anything missed. Returns a stop function.
   */
  async start(pollMs = 1000): Promise<() => Promise<void>> {
    let running = false, again = false, stopped = false;
    const kick = async () => {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          // batch after batch until nothing is due (no deadline: a worker has no caller waiting)
          while (!stopped && (await this.drainOnce()).claimed > 0);
        } while (again && !stopped);
      } catch (err) {
        this.log.warn({ err: err instanceof Error ? err.message : String(err) }, "relay drain failed");
      } finally {
        running = false;
      }
    };
    const wake = () => void kick().catch((err) => this.log.error({ err: String(err) }, "relay wake-up failed"));
    const listener = await this.sql.listen("outbox", wake);
    const timer = setInterval(wake, pollMs);
    wake();
    return async () => {
      stopped = true;
      clearInterval(timer);
      await listener.unlisten();
    };
  }
}
