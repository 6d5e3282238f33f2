/**
 * Exit codes and error classification for the ops CLI and the gate. Scripts branch on the
 * exit code; `--json` output carries the same information as `error.code` / `error.exit`.
 *
 *   0  ok
 *   1  failure (unexpected error; the gate: a check failed)
 *   2  usage (bad arguments, missing --reason)
 *   3  refused: the database user lacks a privilege (42501)
 *   4  not found (no such trace, replay request, tenant or flag row)
 *   5  connection (no database configured, unreachable, authentication failed)
 *   10 + NN  the schema's error catalogue, SQLSTATE SY0NN (public.rail_errors), e.g.
 *            11 autonomy_halted, 15 rate_limited, 17 dlq_paused, 18 replay_cap_exceeded,
 *            20 unknown_flag, 21 bad_flag_scope, 22 bad_flag_value, 27 bad_request
 *            (11..19 are rail refusals, 20..29 rejected input; every code: packages/shared/http/catalogue.ts).
 */
import { BY_SQLSTATE } from "../../packages/shared/http/catalogue.ts";

export const EXIT = { ok: 0, failure: 1, usage: 2, refused: 3, notFound: 4, connection: 5 } as const;

/** An error the operator can act on: printed as one line, no stack trace. */
export class OpsError extends Error {
  constructor(
    message: string,
    readonly exit: number = EXIT.failure,
    readonly code: string = "failure",
    readonly detail?: unknown,
    readonly sqlstate?: string,
  ) {
    super(message);
  }
}

export const usage = (message: string) => new OpsError(message, EXIT.usage, "usage");
export const notFound = (message: string) => new OpsError(message, EXIT.notFound, "not_found");

const CONNECTION_CODES = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH",
  "CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED",
  "28P01", "28000", "3D000", "57P03", "08001", "08006",
]);

function parseDetail(detail: unknown): unknown {
  if (typeof detail !== "string" || detail === "") return undefined;
  try {
    return JSON.parse(detail);
  } catch {
    return detail;
  }
}

/** Maps anything thrown to an OpsError: catalogue codes keep their name and SQLSTATE. */
export function classify(err: unknown): OpsError {
  if (err instanceof OpsError) return err;
  const e = err as { code?: string; message?: string; detail?: string; errors?: unknown[] };
  const code = typeof e?.code === "string" ? e.code : "";
  // Node reports an unreachable host with several addresses as an AggregateError.
  const inner = Array.isArray(e?.errors) ? (e.errors[0] as { code?: string }) : undefined;
  if (CONNECTION_CODES.has(code) || (inner?.code && CONNECTION_CODES.has(inner.code))) {
    return new OpsError(`cannot reach the database: ${e.message || inner?.code || code}`, EXIT.connection, "connection", undefined, code);
  }
  const m = /^SY0(\d\d)$/.exec(code);
  if (m) {
    // raise_error() prefixes the message with "<code>: "; the name is the catalogue's for the SQLSTATE.
    const [, name, text] = /^([a-z][a-z0-9_]*): ([\s\S]*)$/.exec(e.message ?? "") ?? [, "rail_error", e.message ?? ""];
    return new OpsError(text ?? "", 10 + Number(m[1]), BY_SQLSTATE.get(code) ?? name ?? "rail_error", parseDetail(e.detail), code);
  }
  // DR refusals (SY160..SY169): exit 60 + n, e.g. 60 dr_forbidden, 61 dr_cutover_running, 62 dr_loss_window.
  const d = /^SY16(\d)$/.exec(code);
  if (d) {
    const text = /^[a-z][a-z0-9_]*: ([\s\S]*)$/.exec(e.message ?? "")?.[1] ?? e.message ?? "";
    return new OpsError(text, 60 + Number(d[1]), BY_SQLSTATE.get(code) ?? "dr_error", parseDetail(e.detail), code);
  }
  if (code === "42501") return new OpsError(e.message ?? "permission denied", EXIT.refused, "forbidden", undefined, code);
  return new OpsError(e?.message ?? String(err), EXIT.failure, "failure", undefined, code || undefined);
}
