import type postgres from "postgres";
import { afterEach, beforeAll, beforeEach } from "vitest";

/**
 * Pins global flags for the tests of a file: each test starts from `values`, and the values
 * found before the file ran are put back after each test (tests share one stack). Changes
 * carry a reason naming the file, like an operator's would.
 */
export function pinGlobalFlags(sql: postgres.Sql, values: Record<string, string>, label: string) {
  let found: Record<string, string> = {};
  const set = (v: Record<string, string>, reason: string) =>
    sql.begin(async (tx) => {
      await tx`select set_config('app.reason', ${reason}, true)`;
      for (const [key, value] of Object.entries(v)) {
        await tx`update public.feature_flags_v2 set value = ${value} where key = ${key} and scope = 'global'`;
      }
    });
  beforeAll(async () => {
    const rows = await sql`select key, value from public.feature_flags_v2 where scope = 'global' and key in ${sql(Object.keys(values))}`;
    found = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  });
  beforeEach(() => set(values, `${label}: arrange`));
  afterEach(() => set(found, `${label}: restore`));
}
