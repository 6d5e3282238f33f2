import type { z } from "zod";
import { redact } from "../observability/redact.ts";
import { type Problem, problem, problemResponse } from "./problem.ts";

/**
 * The catalogue of refusals: one stable `code` per rail, each with its HTTP status and title.
 * Clients switch on `code`; statuses follow the HTTP semantics of the rail:
 *  - nonce_reused is 401, not 409: a replayed signed request is a spent credential, not a
 *    resource conflict the caller could resolve (a genuine retry re-signs with a new nonce);
 *  - jwt_expired has its own code (issue 4: missing / expired / forged each answer their own);
 *  - budget_exhausted is 503: budgets (concurrency, cost ceilings) are capacity of the system,
 *    while rate_limited (429) is about this caller's pace. Both carry Retry-After.
 *  - the three rails autonomy_halted / portal_disabled / mode_read_only are 503: the service
 *    is deliberately unavailable, not the caller at fault.
 */
export const PROBLEMS = {
  malformed_json: { status: 400, title: "Request body is not valid JSON" },
  validation_failed: { status: 400, title: "Request failed validation" },
  idempotency_key_missing: { status: 400, title: "Idempotency-Key header is required" },
  missing_authorization: { status: 401, title: "Authentication is required" },
  invalid_jwt: { status: 401, title: "Access token is invalid" },
  jwt_expired: { status: 401, title: "Access token has expired" },
  invalid_signature: { status: 401, title: "Request signature is invalid" },
  stale_timestamp: { status: 401, title: "Request timestamp is too old" },
  future_timestamp: { status: 401, title: "Request timestamp is in the future" },
  nonce_reused: { status: 401, title: "Request nonce was already used" },
  unknown_key: { status: 401, title: "Signing key is unknown or inactive" },
  forbidden: { status: 403, title: "Permission denied" },
  tenant_mismatch: { status: 403, title: "Resource belongs to another tenant" },
  origin_not_allowed: { status: 403, title: "Origin is not allowed" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  idempotency_in_flight: { status: 409, title: "A request with this Idempotency-Key is in progress" },
  conflict: { status: 409, title: "The request conflicts with existing data" },
  already_reverted: { status: 409, title: "The action was already reverted" },
  not_reverted: { status: 409, title: "The action is not reverted" },
  revert_state_changed: { status: 409, title: "The state moved on since the action; it cannot be reverted" },
  payload_too_large: { status: 413, title: "Request body is too large" },
  unsupported_media_type: { status: 415, title: "Unsupported content type" },
  idempotency_conflict: { status: 422, title: "Idempotency-Key was used with another payload" },
  rate_unavailable: { status: 422, title: "No rate basis for this lane" },
  rate_limited: { status: 429, title: "Too many requests" },
  replay_cap_exceeded: { status: 422, title: "Replay exceeds its caps" },
  internal_error: { status: 500, title: "Internal error" },
  prove_failed: { status: 500, title: "Action committed but its post-condition did not hold" },
  autonomy_halted: { status: 503, title: "Autonomy is halted by the emergency stop" },
  portal_disabled: { status: 503, title: "This portal is disabled" },
  mode_read_only: { status: 503, title: "The system is in read-only mode" },
  agents_disabled: { status: 503, title: "Agents are switched off (agents.autonomousEnabled)" },
  dlq_paused: { status: 503, title: "DLQ replays are paused" },
  budget_exhausted: { status: 503, title: "Capacity budget exhausted" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** One bad field: a dotted path ("lane.origin", "stops.1.zip"; "" for the whole body). */
export interface FieldError {
  path: string;
  message: string;
}

export type ProblemExtra = Omit<Partial<Problem>, "status" | "code" | "title" | "type">;

/** Builds the catalogue's problem for `code`; extensions pass through the PII redactor. */
export function problemFor(code: ProblemCode, extra: ProblemExtra = {}): Problem {
  const { status, title } = PROBLEMS[code];
  return problem(status, code, title, redact(extra));
}

/** Dotted path of a zod issue; array indices appear as numbers ("stops.1.zip"). */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join(".");
}

/** Every issue of a zod error, one entry per bad field (zod reports all, not the first). */
export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issuePath(issue.path), message: issue.message }));
}

/** validation_failed naming every bad field in `errors`. */
export function validationProblem(error: z.ZodError, extra: ProblemExtra = {}): Problem {
  const errors = fieldErrors(error);
  return problemFor("validation_failed", {
    detail: `${errors.length} field${errors.length === 1 ? "" : "s"} failed validation`,
    ...extra,
    errors,
  });
}

// 401s must name a scheme (RFC 9110 §15.5.2): HMAC refusals challenge for the signature.
const HMAC_CODES = new Set(["invalid_signature", "stale_timestamp", "future_timestamp", "nonce_reused", "unknown_key"]);
const challenge = (code: string) =>
  HMAC_CODES.has(code)
    ? `Switchyard-HMAC-v2 error="${code}"`
    : code === "missing_authorization"
    ? "Bearer"
    : `Bearer error="invalid_token"`;

/**
 * The response for a problem, with the headers its code implies: Retry-After from
 * `retry_after` (seconds), Allow from `allow` (string[]), WWW-Authenticate on 401.
 */
export function refusalResponse(p: Problem, headers: HeadersInit = {}): Response {
  const h = new Headers(headers);
  if (typeof p.retry_after === "number") h.set("retry-after", String(Math.ceil(p.retry_after)));
  if (Array.isArray(p.allow)) h.set("allow", p.allow.join(", "));
  if (p.status === 401 && !h.has("www-authenticate")) h.set("www-authenticate", challenge(p.code));
  return problemResponse(p, h);
}

/** Shorthand: the catalogue problem for `code`, as a response. */
export function refusal(code: ProblemCode, extra: ProblemExtra = {}, headers: HeadersInit = {}): Response {
  return refusalResponse(problemFor(code, extra), headers);
}
