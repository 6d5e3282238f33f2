import { withClaims } from "../../../packages/shared/db/client.ts";
import type { Detector, Task } from "../../../packages/shared/pipeline/detector.ts";
import { runAction } from "../../../packages/shared/pipeline/run.ts";
import type { TraceContext } from "../../../packages/shared/observability/traceparent.ts";
import { rateDetectors } from "../rates/detectors.ts";
import { type AutopilotContext, machineClaims } from "./context.ts";

/** Every portal's detectors; a portal joins the agents' loop by adding its list here. */
const DETECTORS: Detector[] = [...rateDetectors];

interface LoopResult {
  skipped?: string;
  tasks: number;
  ok: number;
  refused: Record<string, number>;
  budget_exhausted?: boolean;
}

/**
 * The agents' loop: each enabled portal's detectors per active tenant, then each task run as
 * the agents principal through the portal's own action (same rails, spans, audit and Live
 * Feed start/finish as a human's call), each inside a concurrency lease against
 * budget.agents.maxConcurrent. Only while agents.autonomousEnabled is true and the kill
 * switch is off (Postgres refuses the writes otherwise anyway).
 */
export async function agentsLoop(ctx: AutopilotContext, parent: TraceContext | null): Promise<LoopResult> {
  const [gate] = await ctx.sql`
    select app_private.flag_bool('autonomy.emergencyStop') as stopped, app_private.flag_bool('agents.autonomousEnabled') as enabled,
           app_private.flag_text('autonomy.mode') as mode`;
  if (gate.stopped) return { skipped: "autonomy.emergencyStop is true", tasks: 0, ok: 0, refused: {} };
  if (!gate.enabled) return { skipped: "agents.autonomousEnabled is false", tasks: 0, ok: 0, refused: {} };
  if (gate.mode === "STEP-DOWN") return { skipped: "autonomy.mode is STEP-DOWN (agents read-only)", tasks: 0, ok: 0, refused: {} };

  const tenants = await ctx.sql`select id from public.tenants where status = 'active' order by id`;
  const out: LoopResult = { tasks: 0, ok: 0, refused: {} };
  for (const { id: tenantId } of tenants) {
    for (const d of DETECTORS) {
      const claims = machineClaims("agents", tenantId, d.portal);
      const [on] = await ctx.sql`select app_private.flag_bool('portal.enabled', ${tenantId}::uuid, ${d.portal}) as on`;
      if (!on.on) continue;
      const tasks: Task[] = await withClaims(ctx.sql, claims, (tx) => d.detect(tx, tenantId, new Date()));
      for (const task of tasks) {
        const [lease] = await withClaims(ctx.sql, claims, (tx) => tx`select * from app_private.lease_acquire(${task.key}, 120, 'agents', ${tenantId}::uuid)`);
        if (!lease.granted) {
          out.budget_exhausted = true;
          return out;
        }
        try {
          const input = task.action.input.parse(task.input);
          const run = await runAction({ sql: ctx.sql, telemetry: ctx.telemetry, log: ctx.log }, task.action, {
            claims: { ...claims, tenant_id: tenantId, portal: task.action.portal, role: "authenticated" },
            input, parent, ip: null, idempotencyKey: null, fingerprint: null, nonce: null,
          });
          out.tasks++;
          if (run.outcome.ok) out.ok++;
          else out.refused[run.outcome.code] = (out.refused[run.outcome.code] ?? 0) + 1;
        } finally {
          await withClaims(ctx.sql, claims, (tx) => tx`select app_private.lease_release(${lease.lease_id})`);
        }
      }
    }
  }
  return out;
}
