import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * owner_operator/fuel_advance (finance): pays a fuel advance, posted to the ledger (Dr the
 * owner operator's fuel advance receivable, Cr cash); its next settlement recovers it.
 */
export const fuelAdvance = defineAction(contract.actions.fuel_advance, {
  permission: "owner_operator.settle",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.owner_operator_fuel_advance(${d.carrier_party_id}, ${d.amount_cents}, ${d.note ?? null}) as r`;
    const r = row.r;
    return { writes: [], events: [], result: { ...r, amount_cents: Number(r.amount_cents) } };
  },
  prove: async (sql, r) => {
    const [a] = await sql`select journal_entry_id from public.owner_operator_fuel_advances where id = ${r.fuel_advance_id}`;
    return { ok: a?.journal_entry_id === r.journal_entry_id, detail: `fuel advance ${r.amount_cents} cents posted` };
  },
});
