import type { AgentsResult } from "../../../packages/shared/pipeline/agents.ts";
import { PORTALS } from "../../../packages/portals/registry.ts";
import type { AutopilotContext } from "./context.ts";

/**
 * The agents' turn: each portal's function runs its own detectors and tasks
 * (POST /<fn>/_agents, with the scheduler's service key this tick was called with).
 *
 * Why over HTTP and not in-process: the autopilot then bundles no portal (twenty portals'
 * code and dependencies in one function would be slow to boot and deploy), and a portal
 * whose code fails breaks its own turn, not every other portal's. The cost is one local
 * call per portal per 30 s tick. Postgres enforces the rails either way.
 */
export async function agentsLoop(ctx: AutopilotContext, authorization: string | null, traceparent: string) {
  const base = `${ctx.config.SUPABASE_URL!.replace(/\/$/, "")}/functions/v1`;
  const entries = await Promise.all(PORTALS.map(async (p) => {
    try {
      const res = await fetch(`${base}/${p.fn}/_agents`, {
        method: "POST",
        headers: { authorization: authorization ?? "", traceparent },
        signal: AbortSignal.timeout(25_000),
      });
      const body = await res.json().catch(() => null);
      if (!res.ok) return [p.name, { error: `${res.status} ${body?.code ?? ""}`.trim() }] as const;
      return [p.name, body as AgentsResult] as const;
    } catch (err) {
      ctx.log.warn({ portal: p.name, err: String(err) }, "agents turn failed");
      return [p.name, { error: err instanceof Error ? err.message : String(err) }] as const;
    }
  }));
  return Object.fromEntries(entries);
}
