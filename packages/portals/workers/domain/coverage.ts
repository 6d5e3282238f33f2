/** A coverage gap in words for the alert (times in UTC, minutes precision). */
export function gapSummary(g: { queue_key: string; gap_start: string; gap_end: string; min_coverage: number }): string {
  const t = (s: string) => new Date(s).toISOString().slice(0, 16).replace("T", " ");
  const minutes = Math.round((Date.parse(g.gap_end) - Date.parse(g.gap_start)) / 60_000);
  const span = minutes >= 60 ? `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ""}` : `${minutes} min`;
  return `Queue ${g.queue_key} has fewer than ${g.min_coverage} worker${g.min_coverage === 1 ? "" : "s"} on shift ${t(g.gap_start)} - ${t(g.gap_end)} UTC (${span})`;
}

/** The spread of per-worker open items (max - min): the balancer keeps it at most 1. */
export function spread(loads: number[]): number {
  return loads.length === 0 ? 0 : Math.max(...loads) - Math.min(...loads);
}
