/**
 * The operator's database connection: SUPABASE_DB_URL (hosted or local, exactly what the
 * charter's psql commands use), else the local `default` stack. The session is a trusted
 * one (the operator's DB user, no JWT claims), like psql.
 */
import { userInfo } from "node:os";
import postgres from "postgres";
import { dbUrl, loadInstance } from "../stack/instance.ts";
import { EXIT, OpsError } from "./errors.ts";

export type Sql = postgres.Sql;
/** A transaction handle (postgres.js types it apart from Sql; it runs the same queries). */
export type Tx = postgres.TransactionSql;
/** Anything that runs a query: a connection or a transaction. */
export type Queryable = postgres.ISql;

export function resolveDbUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SUPABASE_DB_URL) return env.SUPABASE_DB_URL;
  const local = loadInstance("default");
  if (local) return dbUrl(local);
  throw new OpsError(
    "no database: set SUPABASE_DB_URL (e.g. postgresql://postgres:<password>@db.<ref>.supabase.co:5432/postgres) " +
      "or start the local stack with `npm start`",
    EXIT.connection,
    "connection",
  );
}

/** The URL without its password, for messages and reports. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable database URL)";
  }
}

/** The OS user running the CLI: on hosted Supabase every operator is `postgres` to the database. */
export function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

/** application_name names the tool and the OS user; the flag history records it. */
export function connect(url: string, application = `switchyard-ops (${operator()})`): Sql {
  return postgres(url, {
    max: 1,
    prepare: false, // Supavisor transaction mode
    connect_timeout: 10,
    idle_timeout: 5,
    onnotice: () => {},
    connection: { application_name: application },
  });
}

/**
 * Runs fn in one transaction with `app.reason` set, which the flag history and the audit
 * log record for every change the transaction makes.
 */
export function withReason<T>(sql: Sql, reason: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`select set_config('app.reason', ${reason}, true)`;
    return fn(tx);
  }) as Promise<T>;
}
