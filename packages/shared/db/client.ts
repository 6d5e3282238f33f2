import postgres from "postgres";

export type Sql = ReturnType<typeof postgres>;
/** The handle a transaction callback receives (sql.begin). */
export type Tx = postgres.TransactionSql;

/**
 * How every pool connects (the functions' and the local runtime's). `prepare: false` keeps it
 * compatible with Supavisor's transaction mode, which hosted Supabase puts in front of
 * SUPABASE_DB_URL. While the database is away a request fails fast (503
 * database_unavailable, db-errors.ts) and the first request after it is back reconnects
 * (issue 12 item 5): postgres.js's defaults waited up to 30 s for a connection
 * (`connect_timeout`) and, after a few failed attempts, 10-20 s before the next one (`backoff`:
 * 3^n / 100 s, capped at 20 s), with every request queued behind those connections. A
 * connection is only attempted for a waiting query, so a short constant delay paces the
 * attempts without a reconnect storm.
 */
export const POOL_OPTIONS = {
  prepare: false,
  idle_timeout: 20,
  connect_timeout: 3,
  backoff: () => 0.01, // seconds
  onnotice: () => {},
} as const;

/** One pool per database URL per isolate (the Live Feed's LISTEN URL is another one). */
const pools = new Map<string, Sql>();

export function db(url: string, max = 10): Sql {
  let pool = pools.get(url);
  if (!pool) pools.set(url, pool = postgres(url, { ...POOL_OPTIONS, max }));
  return pool;
}

/** A value sent as one jsonb parameter (postgres.js's JSON typing is narrower than ours). */
export const jsonb = (sql: Sql | Tx, value: unknown) => sql.json(value as Parameters<Sql["json"]>[0]);

/** Fixed ids of the six service accounts (supabase/migrations: tenancy_principals). */
export const SERVICE_ACCOUNTS = {
  autopilot: "a0000000-0000-4000-8000-000000000001",
  agents: "a0000000-0000-4000-8000-000000000002",
  dlq: "a0000000-0000-4000-8000-000000000003",
  ci: "a0000000-0000-4000-8000-000000000004",
  n8n: "a0000000-0000-4000-8000-000000000005",
  system: "a0000000-0000-4000-8000-000000000006",
} as const;

/** The claims a service account acts under (the pipeline and withClaims send them). */
export const machineClaims = (account: keyof typeof SERVICE_ACCOUNTS, tenantId?: string, portal?: string) => ({
  sub: SERVICE_ACCOUNTS[account],
  role: "authenticated" as const,
  principal_kind: "machine",
  principal_name: account,
  ...(tenantId ? { tenant_id: tenantId } : {}),
  ...(portal ? { portal } : {}),
});

/**
 * Runs `query` in one transaction as a principal: role authenticated and its claims (what
 * PostgREST does), so RLS, the permission matrix and the rails apply; `reason` lands in the
 * audit, `traceparent` ties audit rows and events to the caller's trace. The settings and
 * the first query travel together (pipelined).
 */
export function withClaims<T>(
  sql: Sql,
  claims: Record<string, unknown>,
  query: (tx: Tx) => PromiseLike<T>,
  opts: { reason?: string; traceparent?: string } = {},
): Promise<T> {
  return sql.begin(async (tx) => {
    // execute() sends the settings now, so they precede whatever `query` sends, even when it
    // starts its own queries before returning (an async function).
    const settings = tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
              set_config('app.reason', ${opts.reason ?? ""}, true),
              set_config('request.headers', ${JSON.stringify(opts.traceparent ? { traceparent: opts.traceparent } : {})}, true)`.execute();
    const [, out] = await Promise.all([settings, query(tx)]);
    return out;
  }) as Promise<T>;
}
