/** Reading and writing switchboard rows (public.feature_flags_v2) as the operator. */
import type { Queryable } from "./db.ts";
import type { FlagValue } from "./metrics.ts";

export interface FlagChange {
  key: string;
  scope: string;
  previous: FlagValue | null; // null: the row did not exist
  value: FlagValue;
  changed: boolean;
}

/** The stored row's typed value at a scope, or null. */
export async function storedValue(sql: Queryable, key: string, scope: string): Promise<FlagValue | null> {
  const [r] = await sql`select value from public.feature_flags_typed where key = ${key} and scope = ${scope}`;
  return r ? (r.value as FlagValue) : null;
}

/**
 * Upserts one row. The database validates key, scope and value (unknown_flag,
 * bad_flag_scope, bad_flag_value) and canonicalizes the scope before the conflict check.
 */
export async function setFlag(tx: Queryable, key: string, scope: string, value: string, reason: string): Promise<FlagChange> {
  // The scope as the database spells it, so the before/after reads hit the same row.
  const [{ scope: canonical }] = await tx`select scope from app_private.parse_flag_scope(${scope})`;
  const previous = await storedValue(tx, key, canonical);
  await tx`
    insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
    values (${key}, ${canonical}, ${value}, ${reason}, session_user)
    on conflict (key, scope) do update set value = excluded.value, reason = excluded.reason`;
  const now = await storedValue(tx, key, canonical);
  return { key, scope: canonical, previous, value: now as FlagValue, changed: previous !== now };
}
