/**
 * A DR runbook's step records: each step's name, timing and outcome, held in memory while the
 * database may be read-only or gone, and written by app_private.dr_record on the primary
 * (ops.dr_runs + audit, as the DR principal).
 */
import postgres from "postgres";

export type Sql = postgres.Sql;
export type Log = (line: string) => void;

export interface Step {
  step: string;
  at: string;
  ms: number;
  ok: boolean;
  detail?: unknown;
}

export class Runbook {
  readonly steps: Step[] = [];
  readonly startedAt = new Date();
  private readonly t0 = performance.now();
  runId: number | null = null;

  constructor(readonly kind: "cutover" | "failback" | "backup" | "restore-test", readonly log: Log) {}

  /** Runs one step, recording it (also when it throws). */
  async step<T>(name: string, fn: () => Promise<T> | T, detail?: (v: T) => unknown): Promise<T> {
    const at = new Date().toISOString();
    const t = performance.now();
    try {
      const v = await fn();
      const d = detail?.(v);
      this.steps.push({ step: name, at, ms: round(performance.now() - t), ok: true, ...(d === undefined ? {} : { detail: d }) });
      this.log(`${name}: ok in ${round(performance.now() - t)} ms${d === undefined ? "" : ` ${JSON.stringify(d)}`}`);
      return v;
    } catch (err) {
      const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
      this.steps.push({ step: name, at, ms: round(performance.now() - t), ok: false, detail: { error: message } });
      this.log(`${name}: FAILED in ${round(performance.now() - t)} ms: ${message}`);
      throw err;
    }
  }

  elapsedMs(): number {
    return round(performance.now() - this.t0);
  }

  /** Writes (first call) or rewrites the run's record on sql, whose session dr_authorize set. */
  async record(sql: Sql | postgres.TransactionSql, ok: boolean, report: Record<string, unknown>): Promise<number> {
    const [r] = await sql`select app_private.dr_record(${this.kind}, ${this.startedAt}, ${ok}, ${sql.json(this.steps as never)},
                                                       ${sql.json(report as never)}, ${this.runId}::bigint) as id`;
    this.runId = Number(r.id);
    return this.runId;
  }
}

export const round = (ms: number) => Math.round(ms * 10) / 10;

/** A one-connection client for a runbook (short connect timeout: a dead server answers fast). */
export const connectDr = (url: string) =>
  postgres(url, { prepare: false, max: 1, connect_timeout: 5, idle_timeout: 0, onnotice: () => {}, connection: { application_name: "switchyard-dr" } });
