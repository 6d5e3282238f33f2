import type { Problem } from "./problem.ts";
import type { ProblemCode } from "./catalogue.ts";
import { problemFor, type ProblemExtra } from "./problems.ts";

/**
 * What a request-path step returns instead of throwing: the value, or the refusal that
 * names its rail. `code` is typed so callers can switch on it exhaustively.
 */
export type Refusal = { ok: false; code: ProblemCode; problem: Problem };
export type Outcome<T> = { ok: true; value: T } | Refusal;

export function accept<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function refuse(code: ProblemCode, extra: ProblemExtra = {}): Refusal {
  return { ok: false, code, problem: problemFor(code, extra) };
}
