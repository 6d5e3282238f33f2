import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { stackEnv } from "./env.ts";

/**
 * The integration tests' one database pool (the test stack's owner connection). Each test
 * file gets its own instance (vitest isolates files) and ends it: `afterAll(() => sql.end())`.
 * postgres.js connects lazily, so importing this costs nothing until the first query.
 */
export const sql = postgres(stackEnv.dbUrl, { prepare: false, max: 4, onnotice: () => {} });

/** The charter's exact statements (README "Operating it"): stop and resume. */
export const CHARTER_STOP = "update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global';";
export const CHARTER_RESUME = "update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';";

/** The stop flag as stored ("true" / "false"). */
export const stopFlag = async (db: postgres.Sql = sql): Promise<string> =>
  (await db`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`)[0].value;

/**
 * Runs `fn` with the kill switch on (the charter's stop) and ALWAYS resumes afterwards (the
 * charter's resume, in a finally), whatever `fn` does. Keep the window short: other files
 * of the run share the stack (they run one after another, never beside this).
 */
export async function withEmergencyStop<T>(fn: () => Promise<T>, db: postgres.Sql = sql): Promise<T> {
  await db.unsafe(CHARTER_STOP);
  try {
    return await fn();
  } finally {
    await db.unsafe(CHARTER_RESUME);
  }
}

/**
 * Sets one switchboard row (`key` at `scope`, e.g. `portal:rates` or
 * `tenant:<uuid>:portal:rates`) and returns how to put back what was there (the old value,
 * or no row). Both writes carry a reason, like an operator's.
 */
export async function setFlag(key: string, scope: string, value: string, opts: { reason?: string; db?: postgres.Sql } = {}): Promise<() => Promise<void>> {
  const db = opts.db ?? sql;
  const reason = opts.reason ?? "test";
  const [before] = await db`select value, reason from feature_flags_v2 where key = ${key} and scope = ${scope}`;
  await db.begin(async (tx) => {
    await tx`select set_config('app.reason', ${`${reason}: arrange`}, true)`;
    await tx`insert into feature_flags_v2 (key, scope, value, reason, owner_name) values (${key}, ${scope}, ${value}, ${reason}, 'test')
             on conflict (key, scope) do update set value = excluded.value, reason = excluded.reason`;
  });
  return async () => {
    await db.begin(async (tx) => {
      await tx`select set_config('app.reason', ${`${reason}: restore`}, true)`;
      if (before) await tx`update feature_flags_v2 set value = ${before.value}, reason = ${before.reason} where key = ${key} and scope = ${scope}`;
      else await tx`delete from feature_flags_v2 where key = ${key} and scope = ${scope}`;
    });
  };
}

/** `setFlag` for the length of `fn`, restored in a finally. */
export async function withFlag<T>(key: string, scope: string, value: string, fn: () => Promise<T>, opts: { reason?: string; db?: postgres.Sql } = {}): Promise<T> {
  const restore = await setFlag(key, scope, value, opts);
  try {
    return await fn();
  } finally {
    await restore();
  }
}

/** Runs `fn` in a transaction that is always rolled back; returns what `fn` returned. */
export async function rolledBack<T>(fn: (tx: postgres.TransactionSql) => Promise<T>, db: postgres.Sql = sql): Promise<T> {
  let out!: T;
  await db.begin(async (tx) => {
    out = await fn(tx);
    throw new Error("rollback");
  }).catch((e) => {
    if (e.message !== "rollback") throw e;
  });
  return out;
}

/** A tenant of the test's own (idempotent); returns its id. */
export async function ensureTenant(id: string, slug: string, name = slug, db: postgres.Sql = sql): Promise<string> {
  await db`insert into tenants (id, slug, name) values (${id}, ${slug}, ${name}) on conflict do nothing`;
  return id;
}

export const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** A dead DLQ entry (what the relay leaves after the last attempt) in `tenant`, under a fresh trace id. */
export async function deadEntry(tenant: string, eventType = "test.failed", db: postgres.Sql = sql): Promise<{ id: string; trace: string }> {
  const trace = hex(16);
  const eventId = randomUUID();
  const [e] = await db`
    insert into dlq_entries (tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id, event,
                             attempts, last_error, payload_bytes, trace_id)
    values (${tenant}, ${eventId}, now() - interval '1 minute', ${eventType}, 'test', ${eventId},
            ${db.json({ id: eventId, payload: { n: 1 }, headers: {} })}, 8, 'HTTP 500', 8, ${trace})
    returning id`;
  return { id: e.id as string, trace };
}

/**
 * Whether `principal` holds `permission` in `tenant`, exactly as the rails decide it
 * (app_private.has_permission under that principal's claims). `tenant` null: globally.
 */
export function holds(principal: string, permission: string, tenant: string | null, db: postgres.Sql = sql): Promise<boolean> {
  return rolledBack(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${JSON.stringify({ sub: principal, role: "authenticated", tenant_id: tenant })}, true)`;
    const [r] = await tx`select app_private.has_permission(${tenant}::uuid, ${permission}) as ok`;
    return r.ok === true;
  }, db);
}

/** The service accounts (machine principals) by name: HMAC callers. */
export async function serviceAccounts(db: postgres.Sql = sql): Promise<{ name: string; principalId: string }[]> {
  const rows = await db`select s.name, s.principal_id from service_accounts s join principals p on p.id = s.principal_id
                        where p.disabled_at is null order by s.name`;
  return rows.map((r) => ({ name: r.name as string, principalId: r.principal_id as string }));
}
