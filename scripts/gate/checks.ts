/**
 * The gate's SQL alert checks (charter §7): DLQ growth, outbox lag, SLO breach, flags sane.
 * Each returns its figures and the trace ids worth a look, pass or fail.
 */
import type { Queryable } from "../ops/db.ts";
import { EXPECTED_ACTIVATION, newDlqEntries, outboxLag, readFlags, slo, type SloRow } from "../ops/metrics.ts";
import { limitOf, LOAD } from "../../load/thresholds.ts";
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
  const { dead: entries, parked } = await newDlqEntries(sql, o.window);
  return {
    name: "dlq_growth",
    ok: entries.length <= o.maxNewDlq,
    summary: `${entries.length}${entries.length === 20 ? "+" : ""} new DLQ entr${entries.length === 1 ? "y" : "ies"}` +
      (parked ? `; ${parked} parked (receiver gone, not counted)` : ""),
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

export interface SloLimits {
  successMin: number;
  p95Ms: number;
  portalP95Ms: number;
  minRequests: number;
}

/**
 * What the gate judges by: its options where given, else the live `slo.*` flags (operators
 * change them), else k6/thresholds.json's values, which the flags are seeded with.
 */
export async function sloLimits(sql: Queryable, o: Partial<Pick<GateOptions, "minSuccess" | "maxP95Ms" | "maxPortalP95Ms" | "minRequests">> = {}): Promise<SloLimits> {
  const flags = await readFlags(sql);
  const flagNum = (key: string, fallback: number) => {
    const n = Number(flags[key]?.value);
    return Number.isFinite(n) ? n : fallback;
  };
  return {
    successMin: o.minSuccess ?? flagNum("slo.successMin", Number((1 - limitOf("http_req_failed")).toFixed(6))),
    p95Ms: o.maxP95Ms ?? flagNum("slo.p95MaxMs", limitOf("http_req_duration")),
    portalP95Ms: o.maxPortalP95Ms ?? flagNum("slo.portalP95MaxMs", limitOf("http_req_duration{scenario:price_one}")),
    minRequests: o.minRequests ?? flagNum("slo.minRequests", 20),
  };
}

/**
 * Per function/portal row: success >= successMin and p95 <= p95Ms (functions) or
 * portalP95Ms (portals), like the autopilot's gates. A row with fewer than minRequests
 * requests gets no verdict: one failed request out of one is not a breach.
 */
export function sloVerdict(rows: SloRow[], l: SloLimits) {
  const limit = (r: { portal: string | null }) => (r.portal ? l.portalP95Ms : l.p95Ms);
  const judged = rows.filter((r) => r.requests >= l.minRequests);
  const breaching = judged.filter((r) =>
    (r.successRatio !== null && r.successRatio < l.successMin) || r.p95UpperMs === null || r.p95UpperMs > limit(r));
  return { limit, judged, breaching, unjudged: rows.length - judged.length };
}

export const describeSlo = (r: SloRow, limit: number) =>
  `${r.function}${r.portal ? `/${r.portal}` : ""} success ${pct(r.successRatio)} p95 ${r.p95UpperMs === null ? "> 10000" : `<= ${r.p95UpperMs}`} ms (limit ${limit} ms)`;

export async function sloBreach(sql: Queryable, o: GateOptions): Promise<CheckResult> {
  const rows = await slo(sql, o.window);
  const l = await sloLimits(sql, o);
  const { limit, judged, breaching, unjudged } = sloVerdict(rows, l);
  const requests = rows.reduce((n, r) => n + r.requests, 0);
  return {
    name: "slo_breach",
    ok: breaching.length === 0,
    summary: (breaching.length
      ? `${breaching.length} of ${judged.length} function/portal(s) breach: ` + breaching.map((r) => describeSlo(r, limit(r))).join("; ")
      : `${judged.length} function/portal(s), ${requests} requests, all within the SLOs`) +
      (unjudged ? `; ${unjudged} with fewer than ${l.minRequests} requests not judged` : ""),
    threshold: `success >= ${pct(l.successMin)}, p95 <= ${l.p95Ms} ms (portals ${l.portalP95Ms} ms), at least ${l.minRequests} requests`,
    rows: rows.map((r) => ({ ...r, successRatio: pct(r.successRatio), judged: r.requests >= l.minRequests, p95LimitMs: limit(r) })),
    traces: [],
  };
}

/**
 * The k6 smoke the deploy workflow runs before the gate (k6/smoke.js): its step's outcome.
 * run-k6-action reports any non-zero k6 exit as a failure (99: a threshold was crossed;
 * 110: no outbox lag to judge; others: the run errored); k6's own summary is in the step's log.
 */
export function k6Smoke(outcome: NonNullable<GateOptions["k6Outcome"]>): CheckResult {
  return {
    name: "k6_smoke",
    ok: outcome === "success",
    summary: outcome === "success" ? "k6 run k6/smoke.js: every threshold green"
      : outcome === "failure" ? "k6 run k6/smoke.js failed: a threshold was crossed (k6 exit 99) or the run errored; its summary is in the k6 step's log"
      : `the k6 smoke did not run (${outcome})`,
    threshold: LOAD.thresholds.map((t) => `${t.metric} ${t.expr}`).join(", "),
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
