import { contract, type ScorecardRow } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

const pct = (v: unknown) => (v === null ? null : Number(v));

/** broker/scorecard: every carrier's scorecard (public.freight_carrier_scorecard), best first, or one carrier's. */
export const scorecard = defineAction(contract.actions.scorecard, {
  permission: "domain.read",
  detect: async (tx, input, ctx) =>
    await tx`select * from public.freight_carrier_scorecard(${ctx.tenantId})
             where ${input.carrier_party_id ?? null}::uuid is null or carrier_party_id = ${input.carrier_party_id ?? null}::uuid`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      carriers: rows.map((r): ScorecardRow => ({
        carrier_party_id: r.carrier_party_id, loads: r.loads, on_time_pickup_pct: pct(r.on_time_pickup_pct),
        on_time_delivery_pct: pct(r.on_time_delivery_pct), tender_acceptance_pct: pct(r.tender_acceptance_pct), claims: r.claims, score: Number(r.score),
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.carriers.length} carriers` }),
});
