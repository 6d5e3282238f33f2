import type { SupabaseClient } from "@supabase/supabase-js";

/** A supabase-js client, or just its `functions` (FunctionsClient) where realtime is not wanted. */
export type Invoker = Pick<SupabaseClient, "functions">;
import type { z } from "zod";
import type { ActionDef } from "../shared/pipeline/action.ts";
import type { Problem } from "../shared/http/problem.ts";
import type { priceOne } from "../../supabase/functions/rates/actions/price-one.ts";
import type { contractUpsert } from "../../supabase/functions/rates/actions/contract-upsert.ts";
import type { indexIngest } from "../../supabase/functions/rates/actions/index-ingest.ts";
import type { approve, replay } from "../../supabase/functions/dlq/actions.ts";

/**
 * A typed client for portals over supabase-js `functions.invoke`: inputs and results come
 * from the actions' own zod schemas and act steps, refusals come back as the RFC 9457
 * problem (with its stable `code`) instead of a thrown error.
 */
// deno-lint-ignore no-explicit-any
type Input<A> = A extends ActionDef<infer S, any, any, any> ? z.input<S> : never;
// deno-lint-ignore no-explicit-any
type Output<A> = A extends ActionDef<any, any, any, infer R> ? R : never;

export type Result<T> =
  | { ok: true; data: T; traceId: string; replayed: boolean }
  | { ok: false; problem: Problem };

export interface CallOptions {
  idempotencyKey?: string;
  traceparent?: string;
}

async function call<A>(client: Invoker, path: string, input: Input<A>, opts: CallOptions = {}): Promise<Result<Output<A>>> {
  const headers: Record<string, string> = {};
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  if (opts.traceparent) headers.traceparent = opts.traceparent;
  const { data, error, response } = await client.functions.invoke(path, { body: input as Record<string, unknown>, headers });
  if (!error) {
    return { ok: true, data: data.data as Output<A>, traceId: data.trace_id, replayed: response?.headers.get("idempotency-replayed") === "true" };
  }
  const res = (error as { context?: unknown }).context;
  if (res instanceof Response) {
    const problem = await res.json().catch(() => null) as Problem | null;
    if (problem?.code) return { ok: false, problem };
    return { ok: false, problem: { type: "about:blank", title: res.statusText, status: res.status, code: "http_error" } };
  }
  return { ok: false, problem: { type: "about:blank", title: "The request did not reach the function", status: 0, code: "network_error" } };
}

export function switchyardClient(client: Invoker) {
  return {
    rates: {
      priceOne: (input: Input<typeof priceOne>, opts?: CallOptions) => call<typeof priceOne>(client, "rates/price_one", input, opts),
      contractUpsert: (input: Input<typeof contractUpsert>, opts?: CallOptions) => call<typeof contractUpsert>(client, "rates/contract_upsert", input, opts),
      indexIngest: (input: Input<typeof indexIngest>, opts?: CallOptions) => call<typeof indexIngest>(client, "rates/index_ingest", input, opts),
    },
    dlq: {
      replay: (input: Input<typeof replay>, opts?: CallOptions) => call<typeof replay>(client, "dlq/replay", input, opts),
      approve: (input: Input<typeof approve>, opts?: CallOptions) => call<typeof approve>(client, "dlq/approve", input, opts),
    },
  };
}
