import type { z } from "zod";
import { redact } from "../observability/redact.ts";
import { catalogueEntry, type ProblemCode, problemEntry } from "./catalogue.ts";
import { type Problem, problem, problemResponse } from "./problem.ts";

/** One bad field: a dotted path ("lane.origin", "stops.1.zip"; "" for the whole body). */
export interface FieldError {
  path: string;
  message: string;
}

export type ProblemExtra = Omit<Partial<Problem>, "status" | "code" | "title" | "type">;

/**
 * Builds the catalogue's problem for `code` (catalogue.ts); extensions pass through the PII
 * redactor. A code with a catalogue `retryAfter` carries it unless `extra` names its own.
 */
export function problemFor(code: ProblemCode, extra: ProblemExtra = {}): Problem {
  const { status, title, retryAfter } = problemEntry(code);
  const withRetry = retryAfter !== undefined && typeof extra.retry_after !== "number" ? { ...extra, retry_after: retryAfter } : extra;
  return problem(status, code, title, redact(withRetry));
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
const challenge = (code: string) =>
  catalogueEntry(code)?.challenge === "hmac"
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
