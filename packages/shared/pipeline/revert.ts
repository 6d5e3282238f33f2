import { refuse } from "../http/outcome.ts";
import { type AnyAction, defineAction } from "./action.ts";
import type { ActionContract, RevertResult, traceInput } from "./contract.ts";
import { ActionRefused } from "./run.ts";

interface Run {
  trace_id: string;
  action: string;
  input: unknown;
  result: unknown;
  reverted_at: Date | null;
}

const HUMANS_ONLY = "Reverting an action is a human's call";

/**
 * `<portal>/revert {trace_id}`: undoes the reversible action that trace ran, as a human, in
 * one transaction: the declared reverse action's detect, decide and act (so it refuses when
 * the state moved on since, saying why), its permission checked too, and the run marked
 * reverted (once: a second revert is `already_reverted`). `<portal>/revert_clear` lets the
 * agents take that work up again.
 */
export function revertActions(
  contract: { actions: { revert: ActionContract<typeof traceInput, RevertResult>; revert_clear: ActionContract<typeof traceInput, { trace_id: string; cleared: boolean }> } },
  reversible: AnyAction[],
): AnyAction[] {
  const byName = new Map(reversible.map((a) => [a.name, a]));
  const revert = defineAction(contract.actions.revert, {
    permission: "domain.read",
    humansOnly: HUMANS_ONLY,
    detect: async (tx, input) => {
      const [run] = await tx`select trace_id, action, input, result, reverted_at from public.action_runs
                             where trace_id = ${input.trace_id} and portal = ${contract.actions.revert.portal}`;
      const def = run ? byName.get(run.action) : undefined;
      const [perm] = def ? await tx`select app_private.has_permission(app_private.claim_tenant(), ${def.reverse!.action.permission}) as ok` : [{ ok: false }];
      return { run: (run ?? null) as Run | null, def, permitted: perm.ok === true };
    },
    decide: (input, f) => {
      if (!f.run) throw new ActionRefused(refuse("not_found", { detail: `No reversible action ran under trace ${input.trace_id} in this tenant` }));
      if (f.run.reverted_at) throw new ActionRefused(refuse("already_reverted", { detail: `Trace ${input.trace_id} was reverted at ${new Date(f.run.reverted_at).toISOString()}` }));
      if (!f.def) throw new ActionRefused(refuse("conflict", { detail: `${f.run.action} is no longer reversible` }));
      const undo = f.def.reverse!.action;
      if (!f.permitted) throw new ActionRefused(refuse("forbidden", { detail: `Reverting ${f.run.action} needs ${undo.permission}`, permission: undo.permission }));
      return { run: f.run, undo, undoInput: undo.input.parse(f.def.reverse!.input({ input: f.run.input, result: f.run.result })) };
    },
    act: async (tx, d, ctx) => {
      const facts = await d.undo.detect(tx, d.undoInput, ctx);
      const plan = await d.undo.act(tx, d.undo.decide(d.undoInput, facts, ctx), ctx);
      return {
        ...plan,
        writes: [...plan.writes, tx`select app_private.action_run_revert(${d.run.trace_id}, ${ctx.traceId})`],
        result: { trace_id: d.run.trace_id, action: d.run.action, reverted_by_trace: ctx.traceId, undo: plan.result },
      };
    },
    prove: async (sql, r) => {
      const [row] = await sql`select reverted_at, revert_trace_id from public.action_runs where trace_id = ${r.trace_id}`;
      const ok = !!row?.reverted_at && row.revert_trace_id === r.reverted_by_trace;
      return { ok, detail: ok ? `${r.action} of trace ${r.trace_id} reverted` : `${r.action} of trace ${r.trace_id} not marked reverted` };
    },
  });
  const clear = defineAction(contract.actions.revert_clear, {
    permission: "domain.read",
    humansOnly: HUMANS_ONLY,
    detect: () => Promise.resolve(null),
    decide: (input) => input,
    act: (tx, d) => ({ writes: [tx`select app_private.action_run_clear(${d.trace_id})`], result: { trace_id: d.trace_id, cleared: true }, events: [] }),
    prove: async (sql, r) => {
      const [row] = await sql`select cleared_at from public.action_runs where trace_id = ${r.trace_id}`;
      return { ok: !!row?.cleared_at, detail: row?.cleared_at ? `revert of ${r.trace_id} cleared` : `revert of ${r.trace_id} not cleared` };
    },
  });
  return [revert, clear];
}
