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
