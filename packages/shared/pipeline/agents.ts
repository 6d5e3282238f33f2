import { machineClaims, type Sql, withClaims } from "../db/client.ts";
import type { Detector, Task } from "./detector.ts";
import { type RunDeps, runAction } from "./run.ts";

export interface AgentsResult {
  tasks: number;
  ok: number;
  /** The trace id of every task run (each its own trace). */
  traces: string[];
  refused: Record<string, number>;
  /** Tasks not taken up: a human reverted that work and has not cleared it. */
  held: number;
  /** Detectors that threw this turn (`<portal>.<detector>` -> tenants). */
  detector_errors: Record<string, number>;
  /** Skipped because quarantined: tenants, and detectors in a tenant (`<detector>@<tenant>`). */
  quarantined: string[];
  budget_exhausted?: boolean;
  skipped?: string;
}

/**
 * One portal's agents, for every active tenant with the portal enabled: its detectors read
 * the tenant's state as agents@ (under RLS), and each task runs through the portal's own
 * action (same rails, spans, audit, Live Feed as a human's call) inside a concurrency lease
 * against budget.agents.maxConcurrent. Work a human reverted (an action_runs row reverted
 * and not cleared) is held, not redone. Postgres refuses the writes under the kill switch,
 * STEP-DOWN, with agents off or in a quarantined tenant anyway; the gate here only saves
 * the reads.
 *
 * Quarantine: a quarantined tenant is skipped; a detector that throws is this tenant's
 * failure only (its turn goes on with the next detector and tenant), and after
 * quarantine.detector.failures throws in a row it is quarantined in that tenant and skipped
 * until a human releases it (app_private.detector_outcome).
 */
export async function runAgents(deps: RunDeps, portal: string, detectors: Detector[]): Promise<AgentsResult> {
  const { sql } = deps;
  const out: AgentsResult = { tasks: 0, ok: 0, traces: [], refused: {}, held: 0, detector_errors: {}, quarantined: [] };
  if (detectors.length === 0) return out;
  const [gate] = await sql`
    select app_private.flag_bool('autonomy.emergencyStop') as stopped, app_private.flag_bool('agents.autonomousEnabled') as enabled,
           app_private.flag_text('autonomy.mode') as mode`;
  if (gate.stopped) return { ...out, skipped: "autonomy.emergencyStop is true" };
  if (!gate.enabled) return { ...out, skipped: "agents.autonomousEnabled is false" };
  if (gate.mode === "STEP-DOWN") return { ...out, skipped: "autonomy.mode is STEP-DOWN (agents read-only)" };

  const [tenants, stopped, streaks] = await Promise.all([
    sql`
      select t.id, coalesce(array_agg(r.task_key) filter (where r.task_key is not null), '{}') as held,
             app_private.is_quarantined('tenant', t.id::text) as quarantined
      from public.tenants t
      left join public.action_runs r on r.tenant_id = t.id and r.portal = ${portal}
                                    and r.reverted_at is not null and r.cleared_at is null
      where t.status = 'active' and app_private.flag_bool('portal.enabled', t.id, ${portal})
      group by t.id order by t.id`,
    sql`select tenant_id, subject from public.quarantines
        where kind = 'detector' and released_at is null and starts_with(subject, ${portal + "."})`,
    sql`select tenant_id, subject from ops.failure_streaks where kind = 'detector' and starts_with(subject, ${portal + "."})`,
  ]);
  const at = (r: Record<string, unknown>) => `${r.subject}@${r.tenant_id}`;
  const quarantinedDetectors = new Set(stopped.map(at));
  const failing = new Set(streaks.map(at));
  tenants: for (const { id: tenantId, held, quarantined } of tenants) {
    if (quarantined) {
      out.quarantined.push(`tenant:${tenantId}`);
      continue;
    }
    const heldKeys = new Set<string>(held as string[]);
    const claims = machineClaims("agents", tenantId, portal);
    for (const d of detectors) {
      const name = `${portal}.${d.name}`;
      if (quarantinedDetectors.has(`${name}@${tenantId}`)) {
        out.quarantined.push(`${name}@${tenantId}`);
        continue;
      }
      let tasks: Task[];
      try {
        tasks = await withClaims(sql, claims, (tx) => d.detect(tx, tenantId, new Date()));
      } catch (err) {
        out.detector_errors[name] = (out.detector_errors[name] ?? 0) + 1;
        deps.log.warn({ detector: name, tenant_id: tenantId }, "detector failed");
        await outcome(deps, claims, name, err instanceof Error ? err.message : String(err));
        continue;
      }
      if (failing.has(`${name}@${tenantId}`)) await outcome(deps, claims, name, null);
      for (const task of tasks) {
        if (heldKeys.has(task.key)) {
          out.held++;
          continue;
        }
        let exhausted = false;
        if (!(await leased(sql, claims, tenantId, task, async () => {
          const input = task.action.input.parse(task.input);
          const run = await runAction(deps, task.action, {
            claims: { ...claims, tenant_id: tenantId, portal: task.action.portal },
            // Each task is its own trace (found, and undone, by it); the tick's trace is its parent's.
            input, parent: null, ip: null, idempotencyKey: null, fingerprint: null, nonce: null, taskKey: task.key,
          });
          out.tasks++;
          out.traces.push(run.traceId);
          if (run.outcome.ok) out.ok++;
          else out.refused[run.outcome.code] = (out.refused[run.outcome.code] ?? 0) + 1;
          // Every agent write takes a slot of the budget in Postgres (action_begin): none left.
          exhausted = !run.outcome.ok && run.outcome.code === "budget_exhausted";
        })) || exhausted) {
          // No slot (the pool's, or this tenant's share): the next tenant may still have one.
          out.budget_exhausted = true;
          continue tenants;
        }
      }
    }
  }
  return out;
}

/** Records a detector run's outcome (a throw, or the end of a failing streak); never fails the turn. */
async function outcome(deps: RunDeps, claims: Record<string, unknown>, detector: string, error: string | null): Promise<void> {
  try {
    await withClaims(deps.sql, claims, (tx) => tx`select app_private.detector_outcome(${detector}, ${error})`);
  } catch (err) {
    deps.log.warn({ detector, err: err instanceof Error ? err.message : String(err) }, "detector outcome not recorded");
  }
}

/** Runs `fn` inside a concurrency lease on the task's key; false when none was granted. */
async function leased(sql: Sql, claims: Record<string, unknown>, tenantId: string, task: Task, fn: () => Promise<void>): Promise<boolean> {
  const [lease] = await withClaims(sql, claims, (tx) => tx`select * from app_private.lease_acquire(${task.key}, 120, 'agents', ${tenantId}::uuid)`);
  if (!lease.granted) return false;
  try {
    await fn();
  } finally {
    await withClaims(sql, claims, (tx) => tx`select app_private.lease_release(${lease.lease_id})`);
  }
  return true;
}
