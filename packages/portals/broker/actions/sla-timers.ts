import { contract, type SlaTimer } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** broker/sla_timers: the SLA timers (public.sla_timers) of a load, or the running and breached ones of the tenant. */
export const slaTimers = defineAction(contract.actions.sla_timers, {
  permission: "domain.read",
  detect: async (tx, input, ctx) =>
    await tx`select kind, load_id, tender_id, stop_id, carrier_party_id, started_at, due_at, met_at, state from public.sla_timers
             where tenant_id = ${ctx.tenantId}
               and (case when ${input.load_id ?? null}::uuid is null then state in ('running', 'breached') else load_id = ${input.load_id ?? null}::uuid end)
             order by due_at limit 500`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      timers: rows.map((t): SlaTimer => ({
        kind: t.kind, load_id: t.load_id, tender_id: t.tender_id, stop_id: t.stop_id, carrier_party_id: t.carrier_party_id,
        started_at: iso(t.started_at)!, due_at: iso(t.due_at)!, met_at: iso(t.met_at), state: t.state,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.timers.length} timers` }),
});
