/** Streaming replication as `ops status` and `ops dr status` show it (issue 19). */
import type { Queryable } from "./db.ts";

export interface StandbyLag {
  slot: string;
  state: string;
  syncState: string | null;
  lagBytes: number | null; // null: a new slot that holds no WAL yet
  lagSeconds: number;
}

/** Each physical slot's standby with its lag (bytes not replayed, seconds of replay lag). */
export async function replication(sql: Queryable): Promise<StandbyLag[]> {
  const rows = await sql`select slot, state, sync_state, lag_bytes::float8, lag_seconds::float8 from app_private.dr_replication() order by slot`;
  return rows.map((r) => ({ slot: r.slot, state: r.state, syncState: r.sync_state, lagBytes: r.lag_bytes, lagSeconds: r.lag_seconds }));
}

export function replicationLine(rows: StandbyLag[]): string {
  if (rows.length === 0) return "no standby (npm run stack -- up --standby)";
  return rows.map((r) => `standby ${r.slot} ${r.state}${r.syncState ? ` (${r.syncState})` : ""}, lag ${r.lagBytes} bytes / ${r.lagSeconds} s`).join("; ");
}
