import { type Refusal, refuse } from "../http/outcome.ts";
import { answerCode, BY_SQLSTATE } from "../http/catalogue.ts";

/**
 * Postgres refusals -> problem codes. The control plane raises its rails with SQLSTATEs
 * SYxxx and messages "<code>: <text>" (public.rail_errors); the edge answers with the
 * catalogue's problem for that SQLSTATE (catalogue.ts: the code itself or its `as`), keeps the
 * database's code in `rail` and a safe detail, never the SQL or internals.
 */
interface PgError {
  code?: string;
  message?: string;
  detail?: string;
  /** Node's net errors of a multi-address connect (AggregateError), and wrapped causes. */
  errors?: unknown[];
  cause?: unknown;
}

/**
 * The database is away, not refusing: the socket could not connect or was cut (Node's net
 * codes; postgres.js's CONNECTION_CLOSED / _ENDED / _DESTROYED and CONNECT_TIMEOUT), or the
 * server is shutting down, starting up, full or dropped the connection (SQLSTATE 57P01,
 * 57P02, 57P03, 53300, class 08). The request may well succeed in a moment: 503 with
 * Retry-After, still the system's failure for the success SLO.
 */
const UNAVAILABLE_CODES = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN",
  "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT",
  "57P01", "57P02", "57P03", "53300",
]);

export const isDbUnavailable = (err: unknown): boolean => unavailableCode(err) !== null;

/** The code that says the database is away (safe to log: no message, no SQL), or null. */
export function unavailableCode(err: unknown, depth = 0): string | null {
  const e = err as PgError | null;
  if (!e || typeof e !== "object" || depth > 3) return null;
  if (typeof e.code === "string" && (UNAVAILABLE_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return e.code;
  for (const x of Array.isArray(e.errors) ? e.errors : []) {
    const code = unavailableCode(x, depth + 1);
    if (code) return code;
  }
  return unavailableCode(e.cause, depth + 1);
}

/**
 * A value the database cannot take, whichever door it came by: not of its type (22P02), too
 * long (22001), out of range (22003: a number; 22008: a date, e.g. the year 0 or 300000;
 * 22007: a malformed one), or refused by a CHECK (23514). The caller's input, not our failure.
 */
const BAD_VALUE_CODES = new Set(["22P02", "22001", "22003", "22007", "22008", "23514"]);

/** The refusal for a database error, or null when it is not a refusal (a real failure). */
export function refusalFromDb(err: unknown): Refusal | null {
  if (isDbUnavailable(err)) return refuse("database_unavailable", { detail: "The database is unavailable; retry after the indicated delay" });
  const e = err as PgError;
  if (!e || typeof e.code !== "string") return null;
  const rail = BY_SQLSTATE.get(e.code);
  if (rail) {
    const code = answerCode(rail);
    let extra: Record<string, unknown> = {};
    try {
      extra = e.detail ? JSON.parse(e.detail) : {};
    } catch { /* detail is informative only */ }
    const message = e.message ?? "";
    const detail = (message.startsWith(`${rail}:`) ? message.slice(rail.length + 1) : message).trim();
    return refuse(code, { detail, rail, ...pickSafe(extra) });
  }
  // Row-level security refusing a write.
  if (e.code === "42501") return refuse("forbidden", { detail: "Row-level security refused the write" });
  if (e.code === "23505") return refuse("conflict", { detail: "A record with the same identity already exists" });
  if (BAD_VALUE_CODES.has(e.code)) return refuse("validation_failed", { detail: "A value was rejected by the database" });
  return null;
}

/** Only the documented, non-sensitive fields of a rail's DETAIL reach the client. */
function pickSafe(detail: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // (machine / from / to: the state machine's refusal names the transition; reason: a block's)
  for (const k of ["flag", "limit", "window_seconds", "portal", "tolerance_seconds", "machine", "from", "to", "reason"]) {
    if (detail[k] !== undefined) out[k] = detail[k];
  }
  // refusalResponse turns retry_after into the Retry-After header.
  if (typeof detail.retry_after_seconds === "number") out.retry_after = detail.retry_after_seconds;
  return out;
}
