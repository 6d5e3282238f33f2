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
  metric: "success" | "p95" | "uptime";
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
