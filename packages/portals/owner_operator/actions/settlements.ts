import { contract, type Settlement } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ownerOperatorOf } from "../party.ts";

/** owner_operator/settlements: its pay statements, newest first (party RLS: one owner operator never reads another's). */
export const settlements = defineAction(contract.actions.settlements, {
  permission: "owner_operator.read",
  detect: async (tx, input) => {
    const party = await ownerOperatorOf(tx, input.carrier_party_id);
    return await tx`select id, journal_entry_id, document_id, statement, created_at from public.owner_operator_settlements
                    where carrier_party_id = ${party} order by created_at desc limit 200`;
  },
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      settlements: rows.map((r): Settlement => ({
        ...r.statement, settlement_id: r.id, journal_entry_id: r.journal_entry_id, document_id: r.document_id, created_at: new Date(r.created_at).toISOString(),
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.settlements.length} settlements` }),
});
