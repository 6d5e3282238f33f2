import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { scorecardRow } from "../../../shared/freight/scorecard.ts";

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
  act: (_tx, rows) => ({ writes: [], events: [], result: { scorecard: rows[0] ? scorecardRow(rows[0]) : null } }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: r.scorecard ? `score ${r.scorecard.score}` : "no scorecard" }),
});
