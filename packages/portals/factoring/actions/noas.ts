import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** factoring/noas: the tenant's Notices of Assignment (finance.read, RLS). */
export const noas = defineAction(contract.actions.noas, {
  permission: "finance.read",
  detect: async (tx, input) =>
    await tx`select id, carrier_party_id, factor_party_id, status, effective_on::text from public.factoring_noas
             where ${input.status} = 'all' or status = 'active' order by created_at desc limit 200`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      noas: rows.map((n) => ({ noa_id: n.id, carrier_party_id: n.carrier_party_id, factor_party_id: n.factor_party_id, status: n.status, effective_on: n.effective_on })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.noas.length} NOAs` }),
});
