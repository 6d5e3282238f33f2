import type { SupabaseClient } from "@supabase/supabase-js";

/** A supabase-js client, or just its `functions` (FunctionsClient) where realtime is not wanted. */
export type Invoker = Pick<SupabaseClient, "functions">;
import type { Problem } from "../shared/http/problem.ts";
import type { InputOf, ResultOf } from "../shared/pipeline/contract.ts";
import type { Contracts } from "../portals/contracts.ts";
import { type PortalName, portalFn } from "../portals/registry.ts";

/**
 * A typed client for portals over supabase-js `functions.invoke`: `sy.<portal>.<action>(input)`,
 * inputs and results typed from the portals' contracts (the only portal files it imports,
 * and as types), refusals back as the RFC 9457 problem (with its stable `code`) instead of
 * a thrown error.
 */
export type Result<T> =
  | { ok: true; data: T; traceId: string; replayed: boolean }
  | { ok: false; problem: Problem };

export interface CallOptions {
  idempotencyKey?: string;
  traceparent?: string;
}

async function call<A>(client: Invoker, path: string, input: InputOf<A>, opts: CallOptions = {}): Promise<Result<ResultOf<A>>> {
  const headers: Record<string, string> = {};
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  if (opts.traceparent) headers.traceparent = opts.traceparent;
  const { data, error, response } = await client.functions.invoke(path, { body: input as Record<string, unknown>, headers });
  if (!error) {
    return { ok: true, data: data.data as ResultOf<A>, traceId: data.trace_id, replayed: response?.headers.get("idempotency-replayed") === "true" };
  }
  const res = (error as { context?: unknown }).context;
  if (res instanceof Response) {
    const problem = await res.json().catch(() => null) as Problem | null;
    if (problem?.code) return { ok: false, problem };
    return { ok: false, problem: { type: "about:blank", title: res.statusText, status: res.status, code: "http_error" } };
  }
  return { ok: false, problem: { type: "about:blank", title: "The request did not reach the function", status: 0, code: "network_error" } };
}

type PortalClient<C> = C extends { actions: Record<string, unknown> } ? {
  [A in keyof C["actions"]]: (input: InputOf<C["actions"][A]>, opts?: CallOptions) => Promise<Result<ResultOf<C["actions"][A]>>>;
} : never;
export type SwitchyardClient = { [P in PortalName]: PortalClient<Contracts[P]> };

/** `sy.rates.price_one(input)` POSTs `<fn>/price_one` (the registry names each portal's function). */
export function switchyardClient(client: Invoker): SwitchyardClient {
  return new Proxy({} as SwitchyardClient, {
    get: (_t, portal) => {
      const fn = typeof portal === "string" ? portalFn(portal) : undefined;
      if (!fn) return undefined;
      return new Proxy({}, {
        get: (_a, name) => typeof name === "string" ? (input: never, opts?: CallOptions) => call(client, `${fn}/${name}`, input, opts) : undefined,
      });
    },
  });
}
