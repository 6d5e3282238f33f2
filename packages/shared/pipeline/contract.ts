import { z } from "zod";

/**
 * What the outside world knows of one action: its input schema (zod: validation, types and
 * messages from one place), its result type, whether it writes, how it is routed. A portal's
 * `contract.ts` declares these; its action files implement them (defineAction) and clients
 * import only the contract.
 */
export interface ActionContract<S extends z.ZodType = z.ZodType, R = unknown> {
  portal: string;
  name: string;
  input: S;
  /** "read" actions answer under the kill switch and with the portal off; "write" ones do not. */
  kind: "read" | "write";
  /** "required": a missing Idempotency-Key is refused (400). Default "optional". */
  idempotency?: "required" | "optional";
  /** For event-routed endpoints (inbound webhooks): the event type this action handles. */
  eventType?: string;
  /** Type-level only: what the action answers with (`data` of the response body). */
  readonly result?: R;
}

type Spec<S extends z.ZodType, R> = Omit<ActionContract<S, R>, "portal" | "name">;

/** One action of a contract: `action<Result>()({ input, kind })` (the result type is explicit). */
export const action = <R>() => <S extends z.ZodType>(spec: Spec<S, R>): Spec<S, R> => spec;

export interface PortalContract<P extends string, A extends Record<string, ActionContract>> {
  portal: P;
  /** The edge function serving the portal (its name, except listed platform functions). */
  fn: string;
  actions: A;
  /** Outbox event types the portal publishes. */
  events: readonly string[];
}

type Named<P extends string, A> = {
  [K in keyof A & string]: A[K] extends Spec<infer S, infer R> ? ActionContract<S, R> & { portal: P; name: K } : never;
};

/** Declares a portal's contract; each action gets its portal and name from where it sits. */
export function defineContract<P extends string, A extends Record<string, Spec<z.ZodType, unknown>>>(
  portal: P,
  spec: { fn?: string; actions: A; events: readonly string[] },
): PortalContract<P, Named<P, A>> {
  const actions = Object.fromEntries(Object.entries(spec.actions).map(([name, a]) => [name, { ...a, portal, name }]));
  return { portal, fn: spec.fn ?? portal, actions: actions as Named<P, A>, events: spec.events };
}

/** The input a caller sends (before zod defaults) and the result it gets back. */
export type InputOf<C> = C extends ActionContract<infer S, unknown> ? z.input<S> : never;
export type ResultOf<C> = C extends ActionContract<z.ZodType, infer R> ? R : never;

export const traceInput = z.strictObject({ trace_id: z.string().regex(/^[0-9a-f]{32}$/, "A trace id is 32 lowercase hex digits") });

export interface RevertResult {
  trace_id: string;
  action: string;
  reverted_by_trace: string;
  undo: unknown;
}

/** The two contract entries of a portal with reversible actions (spread into its contract). */
export const revertContract = {
  revert: action<RevertResult>()({ input: traceInput, kind: "write" }),
  revert_clear: action<{ trace_id: string; cleared: boolean }>()({ input: traceInput, kind: "write" }),
};

