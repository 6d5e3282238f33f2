/**
 * SLO gates (charter §2, §8), multiwindow: a function or portal breaches when BOTH the short
 * window (5 min, "is it happening now") and the long window (1 h, "does it matter") are past
 * the threshold — the SRE workbook's burn-rate rule with a burn rate of 1, so a blip in the
 * short window alone does not roll anything back, and a recovered service stops breaching as
 * soon as its short window is clean.
 *  - success: share of requests without a 5xx >= slo.successMin (98%)
 *  - latency: p95 <= slo.p95MaxMs (2.5 s) for functions, slo.portalP95MaxMs (1.5 s) for portals,
 *    read from the histogram: p95 <= X exactly when at least 95% of requests took <= X
 *  - uptime:  share of good health probes >= slo.uptimeMin (99.95%)
 *
 * Per tenant first (evaluateSlo): one tenant's failures are that tenant's, not the platform's.
 */
export interface SloRow {
  function_name: string;
  portal: string | null;
  requests: number;
  errors: number;
  share_le_1500: number | null;
  share_le_2500: number | null;
  p95_upper_ms: number | null;
}

export interface Thresholds {
  successMin: number;
  p95MaxMs: number;
  portalP95MaxMs: number;
  uptimeMin: number;
  minRequests: number;
}

export interface Breach {
  scope: string;
  metric: "success" | "p95" | "uptime" | "tenants";
  short: number;
  long: number;
  threshold: number;
}

const key = (r: SloRow) => (r.portal ? `portal:${r.portal}` : `function:${r.function_name}`);

function verdicts(r: SloRow, t: Thresholds): { metric: Breach["metric"]; value: number; threshold: number; bad: boolean }[] {
  const success = r.requests ? 1 - r.errors / r.requests : 1;
  const portal = r.portal !== null;
  const limit = portal ? t.portalP95MaxMs : t.p95MaxMs;
  const share = (portal ? r.share_le_1500 : r.share_le_2500) ?? 1;
  return [
    { metric: "success", value: success, threshold: t.successMin, bad: success < t.successMin },
    { metric: "p95", value: r.p95_upper_ms ?? Infinity, threshold: limit, bad: share < 0.95 },
  ];
}

export function evaluateGates(
  short: SloRow[],
  long: SloRow[],
  uptime: { short: number | null; long: number | null },
  t: Thresholds,
): Breach[] {
  const longByKey = new Map(long.map((r) => [key(r), r]));
  const breaches: Breach[] = [];
  for (const s of short) {
    if (s.requests < t.minRequests) continue;
    const l = longByKey.get(key(s));
    if (!l) continue;
    const lv = verdicts(l, t);
    for (const v of verdicts(s, t)) {
      const lvm = lv.find((x) => x.metric === v.metric)!;
      if (v.bad && lvm.bad) breaches.push({ scope: key(s), metric: v.metric, short: v.value, long: lvm.value, threshold: v.threshold });
    }
  }
  if (uptime.short !== null && uptime.long !== null && uptime.short < t.uptimeMin && uptime.long < t.uptimeMin) {
    breaches.push({ scope: "platform", metric: "uptime", short: uptime.short, long: uptime.long, threshold: t.uptimeMin });
  }
  return breaches;
}

/** Upper bounds (ms) of request_metrics' cumulative latency buckets, le_100 .. le_10000. */
export const BUCKETS_MS = [100, 250, 500, 1000, 1500, 2500, 5000, 10000] as const;

/** Requests of one (tenant, function, portal) in a window; `buckets[i]`: requests <= BUCKETS_MS[i]. */
export interface CountRow {
  tenant_id: string | null;
  function_name: string;
  portal: string | null;
  requests: number;
  errors: number;
  buckets: number[];
}

/** Sums count rows per function and portal, across tenants. */
export function combine(rows: CountRow[]): CountRow[] {
  const out = new Map<string, CountRow>();
  for (const r of rows) {
    const k = `${r.function_name}|${r.portal}`;
    const c = out.get(k);
    if (!c) out.set(k, { ...r, tenant_id: null, buckets: [...r.buckets] });
    else {
      c.requests += r.requests;
      c.errors += r.errors;
      r.buckets.forEach((b, i) => (c.buckets[i] += b));
    }
  }
  return [...out.values()];
}

/** A count row as the gates read it: shares under 1.5 s / 2.5 s, p95 upper bound (null: over 10 s). */
export function toSloRow(r: CountRow): SloRow {
  const share = (ms: number) => (r.requests ? r.buckets[BUCKETS_MS.indexOf(ms as never)] / r.requests : null);
  const i = r.buckets.findIndex((b) => b >= 0.95 * r.requests);
  return {
    function_name: r.function_name, portal: r.portal, requests: r.requests, errors: r.errors,
    share_le_1500: share(1500), share_le_2500: share(2500), p95_upper_ms: i < 0 ? null : BUCKETS_MS[i],
  };
}

export interface SloVerdict {
  /** Breaches of the platform: these roll back (canaries, agents off, downshift). */
  platform: Breach[];
  /** Tenants breaching on their own: quarantined when the platform is healthy. */
  tenants: { tenantId: string; breaches: Breach[] }[];
}

/**
 * The gate, per tenant first. Each tenant's own series are judged on their own; the platform
 * is judged on everything else (rows without a tenant, and every tenant that does not breach
 * alone) plus the probes' uptime. So one tenant whose requests fail is its own breach and
 * leaves the platform's figures clean. When `platformAt` tenants or more breach at once, it
 * is not theirs but the platform's (a shared cause: a bad deploy, the database): then every
 * row counts for the platform and the breach names how many tenants were hit.
 *
 * The caller leaves out quarantined tenants' rows (app_private.slo_counts).
 */
export function evaluateSlo(
  short: CountRow[],
  long: CountRow[],
  uptime: { short: number | null; long: number | null },
  t: Thresholds & { platformAt: number },
): SloVerdict {
  const tenantIds = [...new Set(short.map((r) => r.tenant_id).filter((x): x is string => x !== null))].sort();
  const of = (rows: CountRow[], id: string) => rows.filter((r) => r.tenant_id === id).map(toSloRow);
  const tenants = tenantIds
    .map((tenantId) => ({
      tenantId,
      breaches: evaluateGates(of(short, tenantId), of(long, tenantId), { short: null, long: null }, t)
        .map((b) => ({ ...b, scope: `tenant:${tenantId} ${b.scope}` })),
    }))
    .filter((x) => x.breaches.length > 0);
  const widespread = tenants.length >= t.platformAt;
  const alone = new Set(widespread ? [] : tenants.map((x) => x.tenantId));
  const rest = (rows: CountRow[]) => combine(rows.filter((r) => r.tenant_id === null || !alone.has(r.tenant_id))).map(toSloRow);
  const platform = evaluateGates(rest(short), rest(long), uptime, t);
  if (widespread) {
    platform.push({ scope: "platform", metric: "tenants", short: tenants.length, long: tenants.length, threshold: t.platformAt });
  }
  return { platform, tenants };
}
