import { contract, type Shift } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

/** workers/shifts: the tenant's shifts overlapping [from, to) (default: the next 24 hours). */
export const shifts = defineAction(contract.actions.shifts, {
  permission: "workers.read",
  detect: async (tx, input, ctx) => {
    const from = input.from ?? ctx.now.toISOString();
    const to = input.to ?? new Date(Date.parse(from) + 86_400_000).toISOString();
    return await tx`select id, principal_id, starts_at, ends_at, ended_at from public.workers_shifts
                    where starts_at < ${to}::timestamptz and ends_at > ${from}::timestamptz order by starts_at, principal_id limit 1000`;
  },
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: { shifts: rows.map((s): Shift => ({ shift_id: s.id, principal_id: s.principal_id, starts_at: iso(s.starts_at)!, ends_at: iso(s.ends_at)!, ended_at: iso(s.ended_at) })) },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.shifts.length} shifts` }),
});
