import postgres from "postgres";

export type Sql = ReturnType<typeof postgres>;
/** The handle a transaction callback receives (sql.begin). */
export type Tx = postgres.TransactionSql;

/**
 * One pool per isolate. `prepare: false` keeps it compatible with Supavisor's
 * transaction mode, which hosted Supabase puts in front of SUPABASE_DB_URL.
 */
let pool: Sql | null = null;

export function db(url: string, max = 10): Sql {
  pool ??= postgres(url, { prepare: false, max, idle_timeout: 20, onnotice: () => {} });
  return pool;
}

/** A value sent as one jsonb parameter (postgres.js's JSON typing is narrower than ours). */
export const jsonb = (sql: Sql | Tx, value: unknown) => sql.json(value as Parameters<Sql["json"]>[0]);
