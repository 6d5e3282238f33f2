import { type Refusal, refuse } from "../http/outcome.ts";
import type { ProblemCode } from "../http/problems.ts";

/**
 * Postgres refusals -> problem codes. The control plane raises its rails with SQLSTATEs
 * SYxxx and messages "<code>: <text>" (public.rail_errors); the edge keeps the code and
 * a safe detail, never the SQL or internals.
 */
const RAIL_TO_PROBLEM: Record<string, ProblemCode> = {
  autonomy_halted: "autonomy_halted",
  autonomy_step_down: "mode_read_only",
  agents_disabled: "agents_disabled",
  portal_disabled: "portal_disabled",
  rate_limited: "rate_limited",
  budget_exhausted: "budget_exhausted",
  dlq_paused: "dlq_paused",
  replay_cap_exceeded: "replay_cap_exceeded",
  forbidden: "forbidden",
  unknown_principal: "forbidden",
  nonce_reused: "nonce_reused",
  webhook_timestamp_skew: "stale_timestamp",
  bad_idempotency_key: "validation_failed",
  // Argument errors the database finds are the caller's (400).
  unknown_flag: "validation_failed",
  bad_flag_scope: "validation_failed",
  bad_flag_value: "validation_failed",
  bad_request: "validation_failed",
  replay_bad_selection: "validation_failed",
  approval_forbidden: "forbidden",
  already_reverted: "already_reverted",
  not_reverted: "not_reverted",
};

interface PgError {
  code?: string;
  message?: string;
  detail?: string;
}

/** The refusal for a database error, or null when it is not a refusal (a real failure). */
export function refusalFromDb(err: unknown): Refusal | null {
  const e = err as PgError;
  if (!e || typeof e.code !== "string") return null;
  if (e.code.startsWith("SY")) {
    const rail = (e.message ?? "").split(":")[0];
    const code = RAIL_TO_PROBLEM[rail];
    if (!code) return null;
    let extra: Record<string, unknown> = {};
    try {
      extra = e.detail ? JSON.parse(e.detail) : {};
    } catch { /* detail is informative only */ }
    const detail = (e.message ?? "").slice(rail.length + 1).trim();
    return refuse(code, { detail, rail, ...pickSafe(extra) });
  }
  // Row-level security refusing a write.
  if (e.code === "42501") return refuse("forbidden", { detail: "Row-level security refused the write" });
  if (e.code === "23505") return refuse("conflict", { detail: "A record with the same identity already exists" });
  if (e.code === "22P02" || e.code === "23514") return refuse("validation_failed", { detail: "A value was rejected by the database" });
  return null;
}

/** Only the documented, non-sensitive fields of a rail's DETAIL reach the client. */
function pickSafe(detail: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ["flag", "limit", "window_seconds", "portal", "tolerance_seconds"]) {
    if (detail[k] !== undefined) out[k] = detail[k];
  }
  // refusalResponse turns retry_after into the Retry-After header.
  if (typeof detail.retry_after_seconds === "number") out.retry_after = detail.retry_after_seconds;
  return out;
}
