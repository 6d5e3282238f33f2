import type { z } from "zod";
import type { Logger } from "../observability/logger.ts";
import type { Sql, Tx } from "../db/client.ts";

/** Who is acting, as Postgres resolved it from the caller's claims. */
export interface Principal {
  id: string;
  kind: "human" | "machine";
  name: string;
  tenantId: string;
  roles: string[];
}

/** What every step sees about the request it serves. */
export interface ActionContext {
  principal: Principal;
  tenantId: string;
  traceId: string;
  traceparent: string;
  ip: string | null;
  idempotencyKey: string | null;
  log: Logger;
  now: Date;
}

/** An outbox event the action publishes; `id` is the consumers' dedupe key. */
export interface EventSpec {
  type: string;
  aggregateType: string;
  aggregateId: string;
  payload: Record<string, unknown>;
}

/**
 * An explicit audit row. Tables under the rails audit every row change themselves (with the
 * trace id), so an action sets this only for writes that are not row-audited (bulk loads).
 */
export interface AuditSpec {
  action: string;
  targetType: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/**
 * What `act` returns: domain writes as postgres.js queries NOT yet awaited (the pipeline
 * sends them together with the outbox event and audit row in one round trip), plus the
 * response body, the events and the audit entry.
 */
export interface ActPlan<R> {
  writes: PromiseLike<unknown>[];
  result: R;
  events: EventSpec[];
  audit?: AuditSpec;
}

export interface ProveResult {
  ok: boolean;
  detail: string;
}

/**
 * A portal action: Detect -> Decide -> Act -> Prove.
 * - detect reads what the decision needs, inside the action's transaction, under RLS;
 * - decide is pure: input + facts -> decision (unit-testable without a database);
 * - act plans the writes (one transaction with the outbox event and audit row);
 * - prove reads back, after commit, what the action promised.
 */
export interface ActionDef<S extends z.ZodType, F, D, R> {
  portal: string;
  name: string;
  input: S;
  permission: string;
  /** For event-routed endpoints (inbound webhooks): the event type this action handles. */
  eventType?: string;
  /** "required": a missing Idempotency-Key is refused (400). Default "optional". */
  idempotency?: "required" | "optional";
  detect: (tx: Tx, input: z.infer<S>, ctx: ActionContext) => Promise<F>;
  decide: (input: z.infer<S>, facts: F, ctx: ActionContext) => D;
  /** Plans the writes; may await when a write's result is the answer (a SQL function). */
  act: (tx: Tx, decision: D, ctx: ActionContext) => ActPlan<R> | Promise<ActPlan<R>>;
  prove: (sql: Sql, result: R, ctx: ActionContext) => Promise<ProveResult>;
}

// deno-lint-ignore no-explicit-any
export type AnyAction = ActionDef<z.ZodType, any, any, any>;

/** Declares an action; the identity function keeps the step types tied together. */
export function defineAction<S extends z.ZodType, F, D, R>(def: ActionDef<S, F, D, R>): ActionDef<S, F, D, R> {
  return def;
}
