import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * workers/shift_end: ends a shift now (a scheduler, or the worker its own) and hands that
 * worker's open items to the on-shift workers holding each queue's skill (what nobody can
 * take stays unassigned: still_unassigned).
 */
export const shiftEnd = defineAction(contract.actions.shift_end, {
  permission: "workers.read",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.workers_shift_end(${d.shift_id}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [s] = await sql`select w.ended_at, (select count(*) from public.workers_items i where i.tenant_id = w.tenant_id and i.assigned_to = w.principal_id
                                                and i.status = 'open' and not exists (select 1 from public.workers_shifts o where o.principal_id = w.principal_id
                                                and o.starts_at <= now() and o.ends_at > now()))::int as held
                          from public.workers_shifts w where w.id = ${r.shift_id}`;
    const ok = !!s?.ended_at && s.held === 0;
    return { ok, detail: ok ? `shift ended, ${r.held} items handed over` : `the worker still holds ${s?.held} items` };
  },
});
