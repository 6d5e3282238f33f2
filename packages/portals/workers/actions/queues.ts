import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** workers/queues: each queue (or the one named)'s open, unassigned and over-SLA counts, and each worker's load and whether on shift now. */
export const queues = defineAction(contract.actions.queues, {
  permission: "workers.read",
  detect: async (tx, input) => {
    const queues = await tx`
      select q.key, q.name, q.skill, q.sla_minutes, q.min_coverage,
             count(i.id)::int as open, count(i.id) filter (where i.assigned_to is null)::int as unassigned,
             count(i.id) filter (where i.due_at < now())::int as over_sla
      from public.workers_queues q left join public.workers_items i on i.queue_id = q.id and i.status = 'open'
      where ${input.queue_key ?? null}::text is null or q.key = ${input.queue_key ?? null}
      group by q.id order by q.key`;
    const workers = await tx`
      select s.principal_id, s.skills, s.max_open,
             exists (select 1 from public.workers_shifts w where w.tenant_id = s.tenant_id and w.principal_id = s.principal_id
                       and w.starts_at <= now() and w.ends_at > now()) as on_shift,
             (select count(*) from public.workers_items i where i.assigned_to = s.principal_id and i.status = 'open')::int as open
      from public.workers_staff s where s.active order by s.principal_id`;
    return { queues, workers };
  },
  decide: (_input, f) => f,
  act: (_tx, f) => ({
    writes: [],
    events: [],
    result: {
      queues: f.queues.map((q) => ({ queue_key: q.key, name: q.name, skill: q.skill, sla_minutes: q.sla_minutes, min_coverage: q.min_coverage, open: q.open, unassigned: q.unassigned, over_sla: q.over_sla })),
      workers: f.workers.map((w) => ({ principal_id: w.principal_id, skills: w.skills, max_open: w.max_open, on_shift: w.on_shift, open: w.open })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.queues.length} queues, ${r.workers.length} workers` }),
});
