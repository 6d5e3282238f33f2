/**
 * Output of one command. Human text goes to stdout, errors to stderr. With --json, stdout
 * carries exactly one JSON document: {"ok": true, "command", "data"} or
 * {"ok": false, "command", "error": {"code", "message", "exit", "sqlstate"?, "detail"?}}.
 */
import type { OpsError } from "./errors.ts";

export class Output {
  constructor(readonly json: boolean, public command: string) {}

  /** Whether live progress (bars) may be drawn: a terminal and no --json. */
  get interactive(): boolean {
    return !this.json && Boolean(process.stdout.isTTY);
  }

  result(data: unknown, human: string | (() => string)): void {
    if (this.json) process.stdout.write(`${JSON.stringify({ ok: true, command: this.command, data }, null, 2)}\n`);
    else process.stdout.write(`${typeof human === "function" ? human() : human}\n`);
  }

  /** A progress line (human mode only; stays out of the JSON document). */
  note(line: string): void {
    if (!this.json) process.stdout.write(`${line}\n`);
  }

  error(err: OpsError): void {
    if (this.json) {
      const error = { code: err.code, message: err.message, exit: err.exit, sqlstate: err.sqlstate, detail: err.detail };
      process.stdout.write(`${JSON.stringify({ ok: false, command: this.command, error }, null, 2)}\n`);
    } else {
      const detail = err.detail === undefined ? "" : `\n  detail: ${JSON.stringify(err.detail)}`;
      process.stderr.write(`ops ${this.command}: ${err.code === "usage" ? "" : `${err.code}: `}${err.message}${detail}\n`);
    }
  }
}

/** A plain text table: one header row, columns padded to their widest cell. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return "  (none)";
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : v instanceof Date ? v.toISOString() : typeof v === "object" ? JSON.stringify(v) : String(v));
  const w = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => `  ${vals.map((v, i) => v.padEnd(w[i])).join("  ")}`.trimEnd();
  return [line(columns), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

/** Seconds as "42 s", "3 min 5 s", "2 h 4 min". */
export function age(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "-";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
