/**
 * The gate's SQL alert checks (charter §7): DLQ growth, outbox lag, SLO breach, flags sane.
 * Each returns its figures and the trace ids worth a look, pass or fail.
 */
import type { Queryable } from "../ops/db.ts";
import { EXPECTED_ACTIVATION, newDlqEntries, outboxLag, readFlags, slo } from "../ops/metrics.ts";
import type { GateOptions } from "./options.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  summary: string; // one line: the figures
  threshold: string;
  rows?: Record<string, unknown>[]; // details for the report
  traces: string[];
}

export async function dlqGrowth(sql: Queryable, o: GateOptions): Promise<CheckResult> {
  const entries = await newDlqEntries(sql, o.window);
  return {
    name: "dlq_growth",
    ok: entries.length <= o.maxNewDlq,
    summary: `${entries.length}${entries.length === 20 ? "+" : ""} new DLQ entr${entries.length === 1 ? "y" : "ies"}`,
    threshold: `<= ${o.maxNewDlq} new`,
    rows: entries.map((e) => ({ ...e })),
    traces: entries.flatMap((e) => (e.traceId ? [e.traceId] : [])),
  };
}

export async function outboxLagCheck(sql: Queryable, o: GateOptions): Promise<CheckResult> {
  const lag = await outboxLag(sql, o.window);
  const oldestOk = lag.oldestUndeliveredSeconds === null || lag.oldestUndeliveredSeconds <= o.maxOldestLagSeconds;
  const p95Ok = lag.p95Ms === null || lag.p95Ms < o.maxLagP95Ms;
  return {
    name: "outbox_lag",
    ok: oldestOk && p95Ok,
    summary: `oldest undelivered ${lag.oldestUndeliveredSeconds === null ? "none" : `${Math.round(lag.oldestUndeliveredSeconds)} s`}, ` +
      `p95 commit->delivered ${lag.p95Ms === null ? "n/a" : `${lag.p95Ms} ms`} (${lag.delivered} delivered)`,
    threshold: `oldest <= ${o.maxOldestLagSeconds} s, p95 < ${o.maxLagP95Ms} ms`,
    traces: !oldestOk && lag.oldestUndeliveredTraceId ? [lag.oldestUndeliveredTraceId] : [],
  };
}

/**
 * Per function/portal: success >= --min-success and p95 <= --max-p95 (functions) or the
 * portal's `slo.portalP95MaxMs` (portals), like the autopilot's gates. A row with fewer
 * than `slo.minRequests` requests (--min-requests) gets no verdict: one failed request out
 * of one is not a breach.
 */
export async function sloBreach(sql: Queryable, o: GateOptions): Promise<CheckResult> {
  const rows = await slo(sql, o.window);
  const flags = await readFlags(sql);
  const flagNum = (key: string, fallback: number) => {
    const n = Number(flags[key]?.value);
    return Number.isFinite(n) ? n : fallback;
  };
  const portalP95 = o.maxPortalP95Ms ?? flagNum("slo.portalP95MaxMs", 1500);
  const minRequests = o.minRequests ?? flagNum("slo.minRequests", 20);
  const limit = (r: { portal: string | null }) => (r.portal ? portalP95 : o.maxP95Ms);
  const judged = rows.filter((r) => r.requests >= minRequests);
  const breaching = judged.filter((r) =>
    (r.successRatio !== null && r.successRatio < o.minSuccess) || r.p95UpperMs === null || r.p95UpperMs > limit(r));
  const requests = rows.reduce((n, r) => n + r.requests, 0);
  const unjudged = rows.length - judged.length;
  return {
    name: "slo_breach",
    ok: breaching.length === 0,
    summary: (breaching.length
      ? `${breaching.length} of ${judged.length} function/portal(s) breach: ` +
        breaching.map((r) => `${r.function}${r.portal ? `/${r.portal}` : ""} success ${pct(r.successRatio)} p95 ${r.p95UpperMs === null ? "> 10000" : `<= ${r.p95UpperMs}`} ms (limit ${limit(r)} ms)`).join("; ")
      : `${judged.length} function/portal(s), ${requests} requests, all within the SLOs`) +
      (unjudged ? `; ${unjudged} with fewer than ${minRequests} requests not judged` : ""),
    threshold: `success >= ${pct(o.minSuccess)}, p95 <= ${o.maxP95Ms} ms (portals ${portalP95} ms), at least ${minRequests} requests`,
    rows: rows.map((r) => ({ ...r, successRatio: pct(r.successRatio), judged: r.requests >= minRequests, p95LimitMs: limit(r) })),
    traces: [],
  };
}

export async function flagsSane(sql: Queryable, o: GateOptions): Promise<CheckResult> {
  const flags = await readFlags(sql);
  const expected = { ...EXPECTED_ACTIVATION, "autonomy.mode": o.expectMode };
  const rows = Object.entries(expected).map(([key, want]) => ({ key, value: flags[key]?.value, expected: want, ok: flags[key]?.value === want }));
  const wrong = rows.filter((r) => !r.ok);
  return {
    name: "flags_sane",
    ok: wrong.length === 0,
    summary: wrong.length ? wrong.map((r) => `${r.key} is ${r.value}, expected ${r.expected}`).join("; ") : "the four activation flags have their expected values",
    threshold: Object.entries(expected).map(([k, v]) => `${k}=${v}`).join(", "),
    rows,
    traces: [],
  };
}

export const SQL_CHECKS: Record<string, (sql: Queryable, o: GateOptions) => Promise<CheckResult>> = {
  dlq_growth: dlqGrowth,
  outbox_lag: outboxLagCheck,
  slo_breach: sloBreach,
  flags_sane: flagsSane,
};

export function pct(x: number | null): string {
  return x === null ? "n/a" : `${(x * 100).toFixed(2).replace(/\.?0+$/, "")}%`;
}
