/**
 * The tracking timeline as a shipper reads it: status changes and 214 events in the order
 * they happened, each with a sentence, the place when known, and the time in the stop's
 * facility zone when the event names a stop. Pure: rows in, entries out.
 */

export interface TimelineRow {
  kind: "status" | "tracking" | "exception" | "note";
  status_code: string | null;
  code_description: string | null;
  from_status: string | null;
  to_status: string | null;
  occurred_at: Date | string;
  stop_sequence: number | null;
  time_zone: string | null;
  city: string | null;
  region: string | null;
}

export interface TimelineEntry {
  at: string;
  /** In the stop's facility time ("2026-12-01 08:20 CST"), when the event names a stop. */
  at_local: string | null;
  kind: TimelineRow["kind"];
  code: string | null;
  text: string;
}

const words = (state: string) => state.replaceAll("_", " ");

/** "2026-12-01 08:20 CST" in `zone`. */
export function localTime(at: Date, zone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short",
  }).formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

export function timeline(rows: TimelineRow[]): TimelineEntry[] {
  return [...rows]
    .map((r) => ({ r, at: new Date(r.occurred_at) }))
    .sort((a, b) => a.at.getTime() - b.at.getTime())
    .map(({ r, at }) => {
      const place = [r.city, r.region].filter(Boolean).join(", ");
      const stop = r.stop_sequence === null ? "" : ` (stop ${r.stop_sequence})`;
      const text = r.kind === "status"
        ? `Load ${r.from_status ? `${words(r.from_status)} → ` : ""}${words(r.to_status ?? "")}`
        : `${r.code_description ?? r.status_code ?? "Note"}${stop}${place ? ` at ${place}` : ""}`;
      return {
        at: at.toISOString(),
        at_local: r.time_zone ? localTime(at, r.time_zone) : null,
        kind: r.kind,
        code: r.status_code,
        text,
      };
    });
}
