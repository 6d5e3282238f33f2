/**
 * Measure 4, how cost grows: the pipeline, relay and kill-switch figures again at 1, 10 and
 * 100 tenants (load spread over the tenants), then with 1 million historical rows each in
 * audit_log and outbox_events (bulk-loaded with generate_series into their time partitions).
 * Partitioning and the partial/tenant indexes should keep these flat.
 */
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { PROJECT_ROOT } from "../scripts/stack/instance.ts";
import { type BenchContext, functionUrl } from "./lib/context.ts";
import { ensureTenants, opsToken, priceOneBody } from "./lib/fixtures.ts";
import { load } from "./lib/http-load.ts";
import { pgbench } from "./lib/pgbench.ts";
import { fmtMs, fmtRate, type Latency, progress } from "./lib/stats.ts";
import { runRelay, startReceiver, subscribe } from "./outbox.ts";
import { measureKillSwitch } from "./killswitch.ts";
import { halfRate, type PipelineFigures } from "./pipeline.ts";

export interface GrowthStage {
  label: string;
  tenants: number;
  historyRows: number; // bulk-loaded rows in each of audit_log and outbox_events
  fixedRate: number;
  priceOne: Latency & { achieved: number; failed: number };
  closedLoop: { perSecond: number; p95: number };
  pgbenchTps: number;
  relay1000: { perSecond: number; lag: Latency };
  killswitch: { writesAfterStop: number; firstRefusalMs: number | null };
  sizes: { auditRows: number; outboxRows: number; auditPartitions: number; outboxPartitions: number };
}

export interface GrowthFigures {
  stages: GrowthStage[];
  bulkLoadSeconds: number | null;
}

/** 1M (quick: 100k) rows each into audit_log and outbox_events, spread over time partitions. */
async function bulkLoad(ctx: BenchContext, rows: number, tenants: number): Promise<void> {
  const sql = ctx.stack.admin;
  await sql.begin(async (tx) => {
    // Past daily outbox partitions (the schedule premakes future ones; history needs past ones).
    await tx`select ops.ensure_partition('public.outbox_events', now() - make_interval(days => d)) from generate_series(1, 10) d`;
    // Historical rows: triggers off for the load (hash chain, rails, notify), as a restore would.
    await tx`set local session_replication_role = replica`;
    await tx`
      insert into public.audit_log (id, occurred_at, chain_id, chain_seq, tenant_id, principal_id, principal_kind, principal_name,
                                    db_user, action, target_type, target_id, after, trace_id, prev_hash, hash)
      select gen_random_uuid(), now() - make_interval(secs => (g % (20 * 86400))), t, g, t, ${"a0000000-0000-4000-8000-000000000002"}::uuid,
             'machine', 'agents', 'postgres', 'rates_quotes.insert', 'public.rates_quotes', md5(g::text),
             jsonb_build_object('n', g, 'total', 1000 + g % 5000), md5(g::text), sha256(int8send(g - 1)), sha256(int8send(g))
      from generate_series(1, ${rows}) g,
           lateral (select ('be100000-0000-4000-8000-' || lpad((1 + g % 100)::text, 12, '0'))::uuid as t) x`;
    await tx`
      insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload, headers, created_at, state,
                                        attempts, next_attempt_at, delivered_at)
      select ('be000000-0000-4000-8000-' || lpad((1 + g % ${tenants})::text, 12, '0'))::uuid, 'rates_quote', md5(g::text),
             'rates.quote.created', jsonb_build_object('n', g, 'total', 1000 + g % 5000), '{}'::jsonb,
             now() - make_interval(secs => 3600 + (g % (9 * 86400))), 'delivered', 1, now(), now()
      from generate_series(1, ${rows}) g`;
  });
  await sql`analyze public.audit_log`;
  await sql`analyze public.outbox_events`;
}

async function sizes(ctx: BenchContext) {
  const [s] = await ctx.stack.admin`
    select (select count(*) from public.audit_log)::int as audit_rows, (select count(*) from public.outbox_events)::int as outbox_rows,
           (select count(*) from pg_inherits where inhparent = 'public.audit_log'::regclass)::int as audit_partitions,
           (select count(*) from pg_inherits where inhparent = 'public.outbox_events'::regclass)::int as outbox_partitions`;
  return { auditRows: s.audit_rows, outboxRows: s.outbox_rows, auditPartitions: s.audit_partitions, outboxPartitions: s.outbox_partitions };
}

export async function measureGrowth(ctx: BenchContext, pipeline?: PipelineFigures): Promise<GrowthFigures> {
  const sustainable = pipeline?.actions.find((a) => a.name === "price_one")?.sustainable ?? 0;
  const fixedRate = sustainable > 0 ? halfRate(sustainable) : 50;
  const historyRows = ctx.quick ? 100_000 : 1_000_000;
  const stages = [
    { label: "1 tenant", tenants: 1, bulk: false },
    { label: "10 tenants", tenants: 10, bulk: false },
    { label: "100 tenants", tenants: 100, bulk: false },
    { label: `100 tenants + ${historyRows.toLocaleString("en-US")} audit & outbox rows`, tenants: 100, bulk: true },
  ];
  const out: GrowthFigures = { stages: [], bulkLoadSeconds: null };
  const rx = await startReceiver();
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  try {
    for (const st of stages) {
      const tenants = await ensureTenants(ctx.stack.admin, st.tenants);
      await subscribe(ctx.stack.admin, tenants, rx.url, secret);
      if (st.bulk) {
        progress(`growth: bulk-loading ${historyRows.toLocaleString("en-US")} rows into audit_log and outbox_events`);
        const t = Date.now();
        await bulkLoad(ctx, historyRows, st.tenants);
        out.bulkLoadSeconds = (Date.now() - t) / 1000;
        progress(`growth: bulk load took ${out.bulkLoadSeconds.toFixed(0)} s`);
      }
      const tokens = await Promise.all(tenants.map((t) => opsToken(ctx.stack.inst.jwtSecret, t)));
      const spec = {
        url: functionUrl(ctx, "rates/price_one"),
        headers: { "content-type": "application/json" },
        headersFor: (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` }),
        body: priceOneBody(),
      };
      await load({ ...spec, rate: 50, seconds: 1 }); // warm the new tenants' paths
      const fixed = await load({ ...spec, rate: fixedRate, seconds: ctx.fixedSeconds });
      const closed = await load({ ...spec, seconds: ctx.stepSeconds, connections: 16 });
      const pg = await pgbench({
        dbPort: ctx.stack.inst.dbPort, script: join(PROJECT_ROOT, "bench", "sql", "price_one.pgbench"),
        vars: { tenants: st.tenants, ...ctx.sample }, clients: 8, seconds: ctx.stepSeconds,
      });
      const relay = await runRelay(ctx, tenants, "1000/s", 1000, ctx.quick ? 2000 : 5000);
      const ks = await measureKillSwitch(ctx, { tenants: st.tenants });
      const stage: GrowthStage = {
        label: st.label,
        tenants: st.tenants,
        historyRows: st.bulk ? historyRows : 0,
        fixedRate,
        priceOne: { ...fixed.latency, achieved: fixed.achieved, failed: fixed.failed },
        closedLoop: { perSecond: closed.achieved, p95: closed.latency.p95 },
        pgbenchTps: pg.tps,
        relay1000: { perSecond: relay.perSecond, lag: relay.lag },
        killswitch: { writesAfterStop: ks.writesAfterStop, firstRefusalMs: ks.firstRefusalMs },
        sizes: await sizes(ctx),
      };
      out.stages.push(stage);
      progress(`growth: ${st.label}: price_one @${fixedRate}/s p95 ${fmtMs(fixed.latency.p95)} ms; closed loop ${fmtRate(closed.achieved)}/s; ` +
        `pgbench ${fmtRate(pg.tps)} tx/s; relay lag p95 ${fmtMs(relay.lag.p95)} ms; ${ks.writesAfterStop} writes after stop`);
    }
  } finally {
    await rx.close();
  }
  return out;
}
