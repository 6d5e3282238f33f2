import type { z } from "zod";
import type { Logger } from "../observability/logger.ts";
import type { Sql, Tx } from "../db/client.ts";
import type { ActionContract } from "./contract.ts";

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

/** How an action is undone: another action of the same portal, its input from what this one did. */
export interface ReverseSpec {
  action: AnyAction;
  input: (done: { input: any; result: any }) => unknown;
}

/**
 * A portal action: Detect -> Decide -> Act -> Prove, implementing one contract entry.
 * - detect reads what the decision needs, inside the action's transaction, under RLS;
 * - decide is pure: input + facts -> decision (unit-testable without a database);
 * - act plans the writes (one transaction with the outbox event and audit row);
 * - prove reads back, after commit, what the action promised.
 */
export interface ActionDef<S extends z.ZodType, F, D, R> extends ActionContract<S, R> {
  permission: string;
  /**
   * Which rails the action begins under. "domain" (default): the kill switch, mode and
   * portal flag refuse it (writes) and the rate limit applies. "control": the switchboard's
   * own levers (the stop button): only permission and the control-class rails on the tables
   * it writes, so a halt cannot fail on a rate limit, a budget or a disabled portal.
   */
  rails?: "domain" | "control";
  /**
   * Only human principals may run it; the value is the refusal's detail (403 forbidden,
   * checked by the pipeline right after the rails, before detect).
   */
  humansOnly?: string;
  detect: (tx: Tx, input: z.infer<S>, ctx: ActionContext) => Promise<F>;
  decide: (input: z.infer<S>, facts: F, ctx: ActionContext) => D;
  /** Plans the writes; may await when a write's result is the answer (a SQL function). */
  act: (tx: Tx, decision: D, ctx: ActionContext) => ActPlan<R> | Promise<ActPlan<R>>;
  prove: (sql: Sql, result: R, ctx: ActionContext) => Promise<ProveResult>;
  /** Declared by reversible actions: `ops revert <trace>` and the console run it. */
  reverse?: ReverseSpec;
}

// deno-lint-ignore no-explicit-any
export type AnyAction = ActionDef<z.ZodType, any, any, any>;

type Impl<S extends z.ZodType, F, D, R> = Omit<ActionDef<S, F, D, R>, keyof ActionContract>;

/** Implements a contract entry; the step types are tied to its input and result types. */
export function defineAction<S extends z.ZodType, R, F, D>(
  contract: ActionContract<S, R>,
  impl: Impl<S, F, D, NoInfer<R>>,
): ActionDef<S, F, D, R> {
  return { ...contract, ...impl };
}
