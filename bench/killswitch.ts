/**
 * Measure 3, kill-switch latency under load: agents write at full speed (direct SQL as the
 * agents principal with its claims, a pipelined quote + outbox insert per transaction, from
 * several connections; and HMAC v2 signed rates/price_one calls as agents through the
 * gateway) while the charter's stop UPDATE commits, and relay@ delivers their events to a
 * local receiver throughout. Counted: machine writes whose commit timestamp
 * (track_commit_timestamp) is after the flag change's commit (target 0), and the time from
 * the stop's commit until refusals begin.
 *
 * Excluded from that count, exactly: relay@'s delivery bookkeeping (issue 12, README
 * "Operating it"), which the stop does not halt: it goes on delivering the events committed
 * before the stop, so their rows change state after it (an event row's xmin then moves, so an
 * event is counted by its publishing transaction: the quote inserted beside it, never updated)
 * and their attempts are logged. Both are reported beside the count.
 */
import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { createLogger } from "../packages/shared/observability/logger.ts";
import { Relay } from "../packages/shared/outbox/relay.ts";
import { signRequest } from "../packages/shared/security/hmac.ts";
import { sha256Hex } from "../packages/shared/util/encoding.ts";
import { type BenchContext, functionUrl } from "./lib/context.ts";
import { AGENTS, benchTenant, priceOneBody } from "./lib/fixtures.ts";
import { fmtMs, progress, sleep } from "./lib/stats.ts";
import { startReceiver, subscribe } from "./outbox.ts";

export const STOP_SQL = "update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global';";
export const RESUME_SQL = "update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';";

export interface KillSwitchFigures {
  tenants: number;
  sqlWriters: number;
  httpWriters: number;
  writesBeforeStop: number; // machine writes committed during the run before the stop
  writesPerSecond: number;
  stopStatementMs: number; // the UPDATE's round trip (it may wait for in-flight writers)
  writesAfterStop: number; // machine writes committed after the flag's commit: target 0
  afterStopDetail: { quotes: number; outbox: number; maxAfterMs: number | null };
  /** Not counted above: relay@'s delivery bookkeeping after the stop (events settled, attempts logged). */
  bookkeepingAfterStop: { eventsSettled: number; attemptsLogged: number; received: number };
  firstRefusalMs: number | null; // stop commit acknowledged -> first refusal seen by a writer
  allRefusedMs: number | null; // stop commit acknowledged -> last successful write acknowledged
  refusals: number;
  otherErrors: number;
  errorSamples: string[];
}

const now = () => performance.timeOrigin + performance.now();

export async function measureKillSwitch(ctx: BenchContext, opts: { tenants?: number } = {}): Promise<KillSwitchFigures> {
  const { admin } = ctx.stack;
  const tenants = Array.from({ length: opts.tenants ?? 1 }, (_, i) => benchTenant(i + 1));
  const sqlWriters = 4;
  const httpWriters = 4;
  await admin.unsafe(RESUME_SQL);
  const [k] = await admin`select key_id, secret from ops.issue_service_key('agents')`;
  const key = { keyId: k.key_id as string, secret: await sha256Hex(k.secret as string) };
  // relay@ delivers the writers' events to a receiver before, during and after the stop.
  const rx = await startReceiver();
  await subscribe(admin, tenants, rx.url, `whsec_${randomBytes(24).toString("base64")}`);
  const relaySql = postgres(ctx.stack.dbUrl, { prepare: false, max: 4, onnotice: () => {} });
  const stopRelay = await new Relay(relaySql, { timeoutMs: 5000 }, createLogger("bench-relay", { write: () => {} })).start(100);
  const started = now();

  let running = true;
  let refusals = 0, otherErrors = 0;
  const errorSamples: string[] = [];
  const successes: number[] = []; // client times writes were acknowledged
  const refusedAt: number[] = [];
  const onError = (msg: string, halted: boolean) => {
    if (halted) {
      refusals++;
      refusedAt.push(now());
    } else {
      otherErrors++;
      if (errorSamples.length < 5) errorSamples.push(msg.slice(0, 200));
    }
  };

  const conns = Array.from({ length: sqlWriters }, () => postgres(ctx.stack.dbUrl, { prepare: false, max: 1, onnotice: () => {} }));
  const sqlLoop = async (sql: postgres.Sql, w: number) => {
    let i = 0;
    while (running) {
      const tenant = tenants[(w + i++) % tenants.length];
      const claims = JSON.stringify({ sub: AGENTS, role: "authenticated", tenant_id: tenant, principal_kind: "machine", principal_name: "agents", portal: "rates" });
      const id = randomUUID();
      try {
        await sql.begin((tx) => [
          tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`,
          tx`insert into public.rates_quotes (id, tenant_id, request, quote, total, status, trace_id)
             values (${id}, ${tenant}, ${ctx.sample.request}::jsonb, ${ctx.sample.quote}::jsonb, 2793.95, 'priced', null)`,
          tx`insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
             values (${tenant}, 'rates_quote', ${id}, 'rates.quote.created', ${ctx.sample.payload}::jsonb)`,
        ]);
        successes.push(now());
      } catch (err) {
        const e = err as { code?: string; message?: string };
        onError(e.message ?? String(err), e.code === "SY001");
        if (e.code === "SY001") await sleep(1); // refused: keep knocking, without a hot spin
      }
    }
  };
  const url = functionUrl(ctx, "rates/price_one");
  const httpLoop = async (w: number) => {
    let i = 0;
    while (running) {
      const tenant = tenants[(w + i++) % tenants.length];
      const u = `${url}?tenant=${tenant}`;
      const body = priceOneBody();
      try {
        const sig = await signRequest({ keyId: key.keyId, secret: key.secret, method: "POST", url: u, body });
        const res = await fetch(u, { method: "POST", headers: { "content-type": "application/json", ...sig }, body });
        const text = await res.text();
        if (res.status === 200) successes.push(now());
        else onError(`HTTP ${res.status} ${text}`, res.status === 503 && text.includes("autonomy_halted"));
      } catch (err) {
        onError(String(err), false);
      }
    }
  };

  const loops = [...conns.map((c, w) => sqlLoop(c, w)), ...Array.from({ length: httpWriters }, (_, w) => httpLoop(w))];
  let stopSent = 0, stopDone = 0;
  try {
    await sleep(ctx.quick ? 1500 : 3000);
    stopSent = now();
    await admin.unsafe(STOP_SQL);
    stopDone = now();
    await sleep(ctx.quick ? 1000 : 2000);
  } finally {
    running = false;
    await Promise.all(loops);
    await Promise.all(conns.map((c) => c.end({ timeout: 2 })));
    await stopRelay();
    await relaySql.end({ timeout: 2 });
    await admin`update public.outbox_subscriptions set enabled = false where name = 'bench' and tenant_id = any(${tenants}::uuid[])`;
    await rx.close();
  }
  const [flag] = await admin`
    select pg_xact_commit_timestamp(xmin) as ts, xmin::text as xid from public.feature_flags_v2
    where key = 'autonomy.emergencyStop' and scope = 'global'`;
  // Every writer transaction inserts a quote and its event together; quotes are never updated.
  const [after] = await admin`
    with q as (
      select id, pg_xact_commit_timestamp(xmin) as ts from public.rates_quotes
      where created_by = ${AGENTS} and tenant_id = any(${tenants}::uuid[]) and created_at >= to_timestamp(${started / 1000})),
    e as (
      select coalesce(q.ts, pg_xact_commit_timestamp(e.xmin)) as published, pg_xact_commit_timestamp(e.xmin) as row_ts
      from public.outbox_events e left join q on q.id::text = e.aggregate_id
      where e.published_by = ${AGENTS} and e.tenant_id = any(${tenants}::uuid[]) and e.created_at >= to_timestamp(${started / 1000})),
    w as (select ts, 'quote' as kind from q union all select published, 'outbox' from e)
    select count(*) filter (where ts > ${flag.ts})::int as after,
           count(*) filter (where ts > ${flag.ts} and kind = 'quote')::int as quotes,
           count(*) filter (where ts > ${flag.ts} and kind = 'outbox')::int as outbox,
           count(*) filter (where ts <= ${flag.ts})::int as before,
           (extract(epoch from max(ts) filter (where ts > ${flag.ts}) - ${flag.ts}::timestamptz) * 1000)::float8 as max_after_ms,
           (select count(*) from e where published <= ${flag.ts} and row_ts > ${flag.ts})::int as settled,
           (select count(*) from public.outbox_deliveries d
             where d.tenant_id = any(${tenants}::uuid[]) and pg_xact_commit_timestamp(d.xmin) > ${flag.ts})::int as attempts
    from w`;
  await admin.unsafe(RESUME_SQL);

  const firstRefusal = refusedAt.length ? Math.min(...refusedAt) : null;
  const lastSuccess = successes.length ? Math.max(...successes) : null;
  const runSeconds = (stopSent - started) / 1000;
  const out: KillSwitchFigures = {
    tenants: tenants.length,
    sqlWriters,
    httpWriters,
    writesBeforeStop: after.before,
    writesPerSecond: successes.filter((t) => t < stopSent).length / runSeconds,
    stopStatementMs: stopDone - stopSent,
    writesAfterStop: after.after,
    afterStopDetail: { quotes: after.quotes, outbox: after.outbox, maxAfterMs: after.max_after_ms },
    bookkeepingAfterStop: { eventsSettled: after.settled, attemptsLogged: after.attempts, received: rx.count() },
    firstRefusalMs: firstRefusal === null ? null : firstRefusal - stopDone,
    allRefusedMs: lastSuccess === null ? null : Math.max(0, lastSuccess - stopDone),
    refusals,
    otherErrors,
    errorSamples,
  };
  progress(`killswitch: ${Math.round(out.writesPerSecond)} machine tx/s before stop; stop UPDATE ${fmtMs(out.stopStatementMs)} ms; ` +
    `${out.writesAfterStop} writes committed after the flag (quotes ${after.quotes}, outbox ${after.outbox}; ` +
    `excluded, relay@'s delivery bookkeeping after it: ${after.settled} events settled, ${after.attempts} attempts logged); ` +
    `first refusal ${fmtMs(out.firstRefusalMs)} ms after the stop's commit; last write acknowledged ${fmtMs(out.allRefusedMs)} ms after; ` +
    `${refusals} refusals, ${otherErrors} other errors${errorSamples.length ? ` (${errorSamples[0]})` : ""}`);
  return out;
}
