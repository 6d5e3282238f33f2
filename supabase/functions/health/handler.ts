import { loadConfig } from "../../../packages/shared/config/env.ts";
import { db } from "../../../packages/shared/db/client.ts";
import { json } from "../../../packages/shared/http/json.ts";
import { refusal } from "../../../packages/shared/http/problems.ts";

/** Versions of Postgres and pg_cron, and the time of one real database round trip. */
const sql = db(loadConfig((k) => Deno.env.get(k)).SUPABASE_DB_URL);

export async function handler(_req: Request): Promise<Response> {
  const started = performance.now();
  try {
    const [row] = await sql`
      select current_setting('server_version') as postgres,
             (select extversion from pg_extension where extname = 'pg_cron') as pg_cron,
             now() as db_time`;
    const roundTripMs = Math.round((performance.now() - started) * 100) / 100;
    return json({ status: "ok", postgres: row.postgres, pg_cron: row.pg_cron, db_time: row.db_time, db_round_trip_ms: roundTripMs });
  } catch {
    return refusal("database_unavailable", { detail: "The database did not answer" }); // 503 + Retry-After
  }
}
