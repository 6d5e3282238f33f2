import postgres from "postgres";

export type Sql = ReturnType<typeof postgres>;

/**
 * One pool per isolate. `prepare: false` keeps it compatible with Supavisor's
 * transaction mode, which hosted Supabase puts in front of SUPABASE_DB_URL.
 */
let pool: Sql | null = null;

export function db(url: string, max = 10): Sql {
  pool ??= postgres(url, { prepare: false, max, idle_timeout: 20, onnotice: () => {} });
  return pool;
}
