import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** workers/shift_add: a shift for a worker on the roster (at most 24 h; shift_overlap, worker_unknown). */
export const shiftAdd = defineAction(contract.actions.shift_add, {
  permission: "workers.schedule",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [row] = await tx`select app_private.workers_shift_add(${ctx.tenantId}, ${d.principal_id}, ${d.starts_at}::timestamptz, ${d.ends_at}::timestamptz) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [s] = await sql`select 1 from public.workers_shifts where id = ${r.shift_id}`;
    return { ok: !!s, detail: `shift ${r.shift_id}` };
  },
});
