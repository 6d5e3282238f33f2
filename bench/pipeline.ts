/**
 * Measure 1, the action pipeline: rates/price_one and rates/contract_upsert (write-heavy: a
 * new contract row + its audit row + an outbox event, no detect read) under constant arrival
 * rates through the functions gateway, side by side with (a) pgbench running the same SQL
 * (bench/sql/*.pgbench, the database's ceiling) and (b) a bare Deno.serve endpoint (the HTTP
 * ceiling).
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../scripts/stack/instance.ts";
import { type BenchContext, functionUrl } from "./lib/context.ts";
import { startBareDeno } from "./lib/deno-bare.ts";
import { benchTenant, contractBody, opsToken, priceOneBody } from "./lib/fixtures.ts";
import { load, type LoadResult, sustained } from "./lib/http-load.ts";
import { pgbench, type PgbenchResult } from "./lib/pgbench.ts";
import { fmtMs, fmtRate, type Latency, progress, sleep } from "./lib/stats.ts";

export const P95_LIMIT_MS = 25;
/** The fixed rate the p95 target is judged at: half the sustainable rate (at least 10/s). */
export const halfRate = (sustainable: number) => Math.max(10, Math.round(sustainable / 2));
const LADDER = [25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000];
const QUICK_LADDER = [50, 100, 200, 300, 400, 800, 1600];

export interface StepRow {
  rate: number;
  achieved: number;
  p50: number;
  p95: number;
  p99: number;
  failed: number;
  keptUp: boolean; // >= 95% of the rate achieved, < 1% failed
  ok: boolean; // kept up with p95 < 25 ms
}

export interface FixedRow {
  rate: number;
  action: Latency & { achieved: number; failed: number };
  pgbench: Latency & { achieved: number };
  bare: Latency & { achieved: number };
}

export interface ActionFigures {
  name: string;
  steps: StepRow[];
  /** Highest step rate kept up with (>= 95% achieved, < 1% failed): the throughput. */
  sustainable: number;
  /** Highest step rate kept up with at p95 < 25 ms (0 when none). */
  maxSustainable: number;
  pgbenchMaxTps: number;
  fixed: FixedRow[];
}

export interface PipelineFigures {
  bareMax: number; // req/s, as fast as the load generator goes
  bareMaxLatency: Latency;
  actions: ActionFigures[];
}

const stepRow = (r: LoadResult): StepRow => ({
  rate: r.target ?? 0,
  achieved: r.achieved,
  p50: r.latency.p50,
  p95: r.latency.p95,
  p99: r.latency.p99,
  failed: r.failed,
  keptUp: sustained(r, Number.POSITIVE_INFINITY),
  ok: sustained(r, P95_LIMIT_MS),
});

export async function measurePipeline(ctx: BenchContext, opts: { tenants?: number } = {}): Promise<PipelineFigures> {
  const tenants = opts.tenants ?? 1;
  const tokens = await Promise.all(Array.from({ length: tenants }, (_, i) => opsToken(ctx.stack.inst.jwtSecret, benchTenant(i + 1))));
  const auth = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` });
  const json = { "content-type": "application/json" };
  const bare = await startBareDeno();
  try {
    // Warm up (JIT, connection pools, plan caches).
    progress("pipeline: warming up");
    await load({ url: functionUrl(ctx, "rates/price_one"), headers: json, headersFor: auth, body: priceOneBody(), rate: 50, seconds: 2 });
    await load({ url: functionUrl(ctx, "rates/contract_upsert"), headers: json, headersFor: auth, body: contractBody(), rate: 50, seconds: 1 });
    await load({ url: bare.url, method: "GET", rate: 200, seconds: 1 });

    const bareMax = await load({ url: bare.url, method: "GET", seconds: ctx.stepSeconds, connections: 32 });
    progress(`pipeline: bare Deno.serve max ${fmtRate(bareMax.achieved)} req/s (p95 ${fmtMs(bareMax.latency.p95)} ms)`);

    const actions: ActionFigures[] = [];
    for (const a of [
      { name: "price_one", path: "rates/price_one", body: priceOneBody(), script: "price_one.pgbench" },
      { name: "contract_upsert", path: "rates/contract_upsert", body: contractBody(), script: "contract_upsert.pgbench" },
    ]) {
      const script = join(PROJECT_ROOT, "bench", "sql", a.script);
      const vars = { tenants, ...ctx.sample };
      const pgMax = await pgbench({ dbPort: ctx.stack.inst.dbPort, script, vars, clients: 8, seconds: ctx.stepSeconds + 2 });
      progress(`pipeline: pgbench ${a.name} max ${fmtRate(pgMax.tps)} tx/s (8 clients, p95 ${fmtMs(pgMax.latency.p95)} ms)`);

      const steps: StepRow[] = [];
      let misses = 0;
      for (const rate of ctx.quick ? QUICK_LADDER : LADDER) {
        const r = await load({ url: functionUrl(ctx, a.path), headers: json, headersFor: auth, body: a.body, rate, seconds: ctx.stepSeconds });
        const row = stepRow(r);
        steps.push(row);
        progress(`pipeline: ${a.name} ${rate}/s -> ${fmtRate(row.achieved)}/s p50 ${fmtMs(row.p50)} p95 ${fmtMs(row.p95)} p99 ${fmtMs(row.p99)} ms` +
          `${row.failed ? ` failed ${row.failed}` : ""} ${row.ok ? "ok" : row.keptUp ? "kept up, p95 over 25 ms" : "fell behind"}`);
        misses = row.keptUp ? 0 : misses + 1;
        if (misses >= 2) break;
        await sleep(500); // let the previous step's tail drain
      }
      const maxSustainable = Math.max(0, ...steps.filter((s) => s.ok).map((s) => s.rate));
      const sustainable = Math.max(0, ...steps.filter((s) => s.keptUp).map((s) => s.rate));

      // Fixed rates side by side: half the sustainable rate (the p95 target) and 100/s.
      const fixedRates = [...new Set([halfRate(sustainable), 100])].sort((x, y) => x - y);
      const fixed: FixedRow[] = [];
      for (const rate of fixedRates) {
        const act = await load({ url: functionUrl(ctx, a.path), headers: json, headersFor: auth, body: a.body, rate, seconds: ctx.fixedSeconds });
        const pg: PgbenchResult = await pgbench({ dbPort: ctx.stack.inst.dbPort, script, vars, clients: 8, seconds: ctx.fixedSeconds, rate });
        const b = await load({ url: bare.url, method: "GET", rate, seconds: ctx.fixedSeconds });
        fixed.push({
          rate,
          action: { ...act.latency, achieved: act.achieved, failed: act.failed },
          pgbench: { ...pg.latency, achieved: pg.tps },
          bare: { ...b.latency, achieved: b.achieved },
        });
        progress(`pipeline: ${a.name} fixed ${rate}/s p95: action ${fmtMs(act.latency.p95)} ms, pgbench ${fmtMs(pg.latency.p95)} ms, bare Deno ${fmtMs(b.latency.p95)} ms`);
      }
      actions.push({ name: a.name, steps, sustainable, maxSustainable, pgbenchMaxTps: pgMax.tps, fixed });
    }
    return { bareMax: bareMax.achieved, bareMaxLatency: bareMax.latency, actions };
  } finally {
    await bare.stop();
  }
}
