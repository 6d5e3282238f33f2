/**
 * Measure 2, the outbox relay: events per second delivered to a local receiver and the
 * commit-to-ack lag (public.outbox_delivery_lag) at 100 and 1,000 events/s and at the maximum
 * (a backlog drained as fast as the relay goes); side by side with pg-boss moving the same
 * number of jobs on the same Postgres, doing the same delivery work (Standard Webhooks
 * signature + HTTP POST to the same receiver) with the same delivery concurrency.
 */
import { randomBytes } from "node:crypto";
import { Agent, createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import PgBoss from "pg-boss";
import type postgres from "postgres";
import { Webhook } from "standardwebhooks";
import type { BenchContext } from "./lib/context.ts";
import { startDenoRelay } from "./lib/deno-relay.ts";
import { benchTenant } from "./lib/fixtures.ts";
import { fmtMs, fmtRate, type Latency, latency, progress, sleep } from "./lib/stats.ts";

export interface QueueRun {
  phase: string; // "100/s" | "1000/s" | "max"
  target: number | null; // events/s offered (null: backlog)
  events: number;
  delivered: number;
  seconds: number; // first publish -> last ack
  perSecond: number; // delivered / seconds
  lag: Latency;
}

export interface OutboxFigures {
  relay: QueueRun[];
  pgboss: QueueRun[];
  settings: Record<string, unknown>;
}

const RELAY_BATCH = 100;
const CONCURRENCY = 32;
const PGBOSS_WORKERS = 2;
const PGBOSS_BATCH = 500;

/** The stand-in for n8n: counts deliveries, answers 204. */
export async function startReceiver(): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      n++;
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    count: () => n,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** One subscription per tenant to the receiver, with its signing secret in Vault. */
export async function subscribe(sql: postgres.Sql, tenants: string[], url: string, secret: string): Promise<void> {
  for (const t of tenants) {
    const ref = `${t}/bench-hook`;
    await sql`delete from vault.secrets where name = ${ref}`;
    await sql`select vault.create_secret(${secret}, ${ref})`;
    await sql`insert into public.outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
              values (${t}, 'bench', ${url}, ${ref})
              on conflict on constraint outbox_subscriptions_name do update set endpoint_url = excluded.endpoint_url,
                secret_ref = excluded.secret_ref, enabled = true`;
  }
}

/** Marks whatever earlier measures left undelivered as delivered, so each run starts clean. */
export async function settleOutbox(sql: postgres.Sql): Promise<void> {
  await sql`update public.outbox_events set state = 'delivered', delivered_at = now()
            where state in ('pending', 'delivering', 'failed')`;
  // That mass update leaves as many dead entries at the head of the claim's index; a
  // steady-state system has autovacuum keep up with them.
  await sql`vacuum (analyze) public.outbox_events`;
}

/** Publishes `rate` events/s for `seconds` (a statement every 10 ms), or all at once. */
async function publishLoop(rate: number, seconds: number, send: (n: number, from: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  let published = 0;
  const total = Math.round(rate * seconds);
  while (published < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate)) - published;
    if (due > 0) {
      await send(due, published);
      published += due;
    }
    await sleep(10);
  }
  return published;
}

async function until(pred: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await pred()) return true;
    await sleep(100);
  }
  return pred();
}

export async function runRelay(ctx: BenchContext, tenants: string[], phase: string, rate: number | null, events: number): Promise<QueueRun> {
  const { admin } = ctx.stack;
  const tag = `bench_${phase.replace(/\W/g, "")}_${Date.now()}`;
  const payload = ctx.sample.payload;
  const publish = (n: number, from: number) =>
    admin`insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
          select (${tenants}::uuid[])[1 + (g % ${tenants.length})], ${tag}, ${tag} || '-' || g, 'bench.event.created', ${payload}::jsonb
          from generate_series(${from}::int, ${from + n - 1}::int) g`.then(() => {});
  await settleOutbox(admin);
  let relay: { stop: () => Promise<void> } | null = null;
  const start = () => startDenoRelay(ctx.stack.dbUrl, { batch: RELAY_BATCH, concurrency: CONCURRENCY });
  try {
    if (rate === null) {
      await publish(events, 0); // the backlog, committed at once, then the relay starts
      relay = await start();
    } else {
      relay = await start();
      await publishLoop(rate, events / rate, publish);
    }
    const left = async () =>
      // (the undelivered states: the partial indexes serve it, not a scan of the history)
      (await admin`select count(*)::int as n from public.outbox_events
                   where state in ('pending', 'delivering', 'failed') and aggregate_type = ${tag}`)[0].n === 0;
    await until(left, ctx.quick ? 20_000 : 60_000);
  } finally {
    await relay?.stop();
  }
  const rows = await admin`
    select l.lag_ms::float8 as lag, extract(epoch from l.acked_at)::float8 as acked, extract(epoch from e.created_at)::float8 as created
    from public.outbox_events e join public.outbox_delivery_lag l on l.event_id = e.id
    where e.aggregate_type = ${tag}`;
  const first = Math.min(...rows.map((r) => r.created));
  const last = Math.max(...rows.map((r) => r.acked));
  const seconds = rows.length ? Math.max(0.001, last - first) : NaN;
  return { phase, target: rate, events, delivered: rows.length, seconds, perSecond: rows.length / seconds, lag: latency(rows.map((r) => r.lag)) };
}

async function runPgBoss(ctx: BenchContext, boss: PgBoss, receiverUrl: string, secret: string, phase: string, rate: number | null, events: number): Promise<QueueRun> {
  const queue = `bench-${phase.replace(/\W/g, "")}-${Date.now()}`;
  await boss.createQueue(queue);
  const wh = new Webhook(secret);
  // Node's own HTTP client with keep-alive (faster than Node's fetch): pg-boss runs in Node.
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(receiverUrl);
  const post = (headers: Record<string, string>, body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent, headers, timeout: 5000 }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.end(body);
    });
  const deliver = async (job: PgBoss.Job<{ n: number; payload: unknown }>) => {
    const body = JSON.stringify({ id: job.id, type: "bench.event.created", timestamp: new Date().toISOString(), data: job.data.payload });
    const at = new Date();
    const status = await post({
      "content-type": "application/json", "webhook-id": job.id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": wh.sign(job.id, at, body),
    }, body);
    if (status >= 300) throw new Error(`HTTP ${status}`);
  };
  const perWorker = Math.ceil(CONCURRENCY / PGBOSS_WORKERS);
  const handler = async (jobs: PgBoss.Job<{ n: number; payload: unknown }>[]) => {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(perWorker, jobs.length) }, async () => {
      while (next < jobs.length) await deliver(jobs[next++]);
    }));
  };
  const payload = JSON.parse(ctx.sample.payload);
  const publish = (n: number, from: number) =>
    boss.insert(Array.from({ length: n }, (_, i) => ({ name: queue, data: { n: from + i, payload } })));
  const workers: string[] = [];
  const startWorkers = async () => {
    for (let i = 0; i < PGBOSS_WORKERS; i++) {
      workers.push(await boss.work(queue, { batchSize: PGBOSS_BATCH, pollingIntervalSeconds: 0.5 }, handler));
    }
  };
  try {
    if (rate === null) {
      for (let i = 0; i < events; i += 1000) await publish(Math.min(1000, events - i), i);
      await startWorkers();
    } else {
      await startWorkers();
      await publishLoop(rate, events / rate, publish);
    }
    const done = async () =>
      (await ctx.stack.admin`select count(*)::int as n from pgboss.job where name = ${queue} and state = 'completed'`)[0].n >= events;
    await until(done, ctx.quick ? 20_000 : 60_000);
  } finally {
    for (const w of workers) await boss.offWork(w);
    agent.destroy();
  }
  const rows = await ctx.stack.admin`
    select extract(epoch from completed_on - created_on)::float8 * 1000 as lag, extract(epoch from completed_on)::float8 as acked,
           extract(epoch from created_on)::float8 as created
    from pgboss.job where name = ${queue} and state = 'completed'`;
  const first = Math.min(...rows.map((r) => r.created));
  const last = Math.max(...rows.map((r) => r.acked));
  const seconds = rows.length ? Math.max(0.001, last - first) : NaN;
  return { phase, target: rate, events, delivered: rows.length, seconds, perSecond: rows.length / seconds, lag: latency(rows.map((r) => r.lag)) };
}

export const relayPhases = (quick: boolean) => [
  { phase: "100/s", rate: 100, events: quick ? 300 : 1000 },
  { phase: "1000/s", rate: 1000, events: quick ? 3000 : 10000 },
  { phase: "max", rate: null, events: quick ? 5000 : 20000 },
];

const line = (who: string, r: QueueRun) =>
  `outbox: ${who} ${r.phase}: ${r.delivered}/${r.events} delivered, ${fmtRate(r.perSecond)} events/s, lag p50 ${fmtMs(r.lag.p50)} p95 ${fmtMs(r.lag.p95)} p99 ${fmtMs(r.lag.p99)} ms`;

export async function measureOutbox(ctx: BenchContext): Promise<OutboxFigures> {
  const rx = await startReceiver();
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const tenants = [benchTenant(1)];
  const out: OutboxFigures = {
    relay: [],
    pgboss: [],
    settings: { relayBatch: RELAY_BATCH, deliveryConcurrency: CONCURRENCY, pgbossWorkers: PGBOSS_WORKERS, pgbossBatch: PGBOSS_BATCH, pgbossPollingSeconds: 0.5 },
  };
  try {
    await subscribe(ctx.stack.admin, tenants, rx.url, secret);
    for (const p of relayPhases(ctx.quick)) {
      const r = await runRelay(ctx, tenants, p.phase, p.rate, p.events);
      out.relay.push(r);
      progress(line("relay", r));
    }
    const boss = new PgBoss({ connectionString: ctx.stack.dbUrl, schema: "pgboss", max: 8, supervise: false, schedule: false });
    boss.on("error", (err) => progress(`pg-boss error: ${err.message}`));
    await boss.start();
    try {
      for (const p of relayPhases(ctx.quick)) {
        const r = await runPgBoss(ctx, boss, rx.url, secret, p.phase, p.rate, p.events);
        out.pgboss.push(r);
        progress(line("pg-boss", r));
      }
    } finally {
      await boss.stop({ graceful: true, wait: true, timeout: 5000 });
    }
  } finally {
    await rx.close();
  }
  return out;
}
