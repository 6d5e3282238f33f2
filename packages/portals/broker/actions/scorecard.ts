import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { scorecardRow } from "../../../shared/freight/scorecard.ts";

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
    result: { carriers: rows.map(scorecardRow) },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.carriers.length} carriers` }),
});
