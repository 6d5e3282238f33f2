import type { Config } from "../../../packages/shared/config/env.ts";
import { db, machineClaims, type Sql, type Tx, withClaims } from "../../../packages/shared/db/client.ts";
import { createLogger, type Logger } from "../../../packages/shared/observability/logger.ts";
import { createTelemetry, type Telemetry } from "../../../packages/shared/pipeline/telemetry.ts";

/** What every autopilot job shares: the pool, logs, spans and who it acts as. */
export interface AutopilotContext {
  sql: Sql;
  log: Logger;
  telemetry: Telemetry;
  config: Config;
}

export function createContext(config: Config): AutopilotContext {
  const sql = db(config.SUPABASE_DB_URL);
  const log = createLogger("autopilot");
  return { sql, log, telemetry: createTelemetry(sql, "autopilot", log, config.OTEL_EXPORTER_OTLP_ENDPOINT), config };
}

/**
 * Runs `query` in one transaction as autopilot@ (its claims: RLS, permissions and the rails
 * see every write; the stop refuses them). No autopilot write runs on the owner's session
 * (tests/unit/owner-session.test.ts).
 */
export function asAutopilot<T>(ctx: AutopilotContext, query: (tx: Tx) => PromiseLike<T>, opts: { reason?: string; traceparent?: string } = {}): Promise<T> {
  return withClaims(ctx.sql, machineClaims("autopilot"), query, opts);
}

/** Runs a job and records its run (outcome, duration) in ops.schedule_runs. */
export async function recorded<T extends Record<string, unknown>>(ctx: AutopilotContext, job: string, fn: () => Promise<T>): Promise<T | { error: string }> {
  const started = new Date();
  const t0 = performance.now();
  let out: T | { error: string };
  let ok = true;
  try {
    out = await fn();
  } catch (err) {
    ok = false;
    out = { error: err instanceof Error ? err.message : String(err) };
    ctx.log.error({ job, err: out.error }, "scheduled job failed");
  }
  await asAutopilot(ctx, (tx) => tx`select app_private.record_run(${job}, ${started}, ${performance.now() - t0}, ${ok}, ${tx.json(out as never)})`);
  return out;
}

