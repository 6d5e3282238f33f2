import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

const pct = (v: unknown) => (v === null ? null : Number(v));

/**
 * carrier/scorecard: the caller's company's own scorecard, computed from the timeline and
 * the tenders by public.freight_carrier_scorecard (security invoker: party RLS, so a
 * carrier user naming another carrier gets none). Never typed in; never another carrier's.
 * Staff holding freight.carrier.read name the carrier.
 */
export const scorecard = defineAction(contract.actions.scorecard, {
  permission: "freight.carrier.read",
  detect: async (tx, input, ctx) =>
    await tx`select * from public.freight_carrier_scorecard(${ctx.tenantId})
             where carrier_party_id = coalesce(${input.carrier_party_id ?? null}::uuid, (app_private.party_ids('carrier'))[1])`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => {
    const r = rows[0];
    return {
      writes: [],
      events: [],
      result: {
        scorecard: r
          ? {
            carrier_party_id: r.carrier_party_id, loads: r.loads, on_time_pickup_pct: pct(r.on_time_pickup_pct), on_time_delivery_pct: pct(r.on_time_delivery_pct),
            tender_acceptance_pct: pct(r.tender_acceptance_pct), claims: r.claims, score: Number(r.score),
          }
          : null,
      },
    };
  },
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: r.scorecard ? `score ${r.scorecard.score}` : "no scorecard" }),
});
