import postgres from "postgres";
import { apiUrl, dbUrl, type Instance } from "../stack/instance.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

type Sql = ReturnType<typeof postgres>;
type Check = (i: Instance, sql: Sql) => Promise<Omit<CheckResult, "name">>;

/** The charter's §10 prove-green, as a list of named checks; later slices add theirs here. */
const CHECKS: [string, Check][] = [
  ["database", async (_i, sql) => {
    const t = performance.now();
    const [r] = await sql`select current_setting('server_version') as v`;
    return { ok: true, detail: `Postgres ${r.v}, round trip ${(performance.now() - t).toFixed(1)} ms` };
  }],
  ["gateway", async (i) => {
    const res = await fetch(`${apiUrl(i)}/functions/v1/health`, {
      headers: { authorization: `Bearer ${i.anonKey}` },
      signal: AbortSignal.timeout(5000),
    });
    const body = await res.json().catch(() => ({}));
    return { ok: res.status === 200 && body.status === "ok", detail: `health ${res.status}, db round trip ${body.db_round_trip_ms ?? "?"} ms` };
  }],
  ["cron", async (_i, sql) => {
    const [r] = await sql`
      select (select count(*) from pg_stat_activity where backend_type = 'pg_cron launcher')::int as launchers,
             (select count(*) from cron.job where jobname like 'health-probe%' and active)::int as jobs,
             (select extversion from pg_extension where extname = 'pg_cron') as version`;
    return { ok: r.launchers === 1 && r.jobs > 0, detail: `pg_cron ${r.version}, launcher ${r.launchers ? "running" : "down"}, ${r.jobs} health job(s)` };
  }],
];

export async function proveGreen(i: Instance): Promise<CheckResult[]> {
  const sql = postgres(dbUrl(i), { prepare: false, max: 1, onnotice: () => {} });
  try {
    const out: CheckResult[] = [];
    for (const [name, check] of CHECKS) {
      try {
        out.push({ name, ...(await check(i, sql)) });
      } catch (err) {
        out.push({ name, ok: false, detail: err instanceof Error ? err.message : String(err) });
      }
    }
    return out;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export function formatChecks(results: CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length));
  return results.map((r) => `  ${r.ok ? "GREEN" : "RED  "}  ${r.name.padEnd(w)}  ${r.detail}`).join("\n");
}
