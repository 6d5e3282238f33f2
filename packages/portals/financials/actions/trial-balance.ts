import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** financials/trial_balance: the ledger's sum per currency (zero, always; one currency if named), RLS finance.read. */
export const trialBalance = defineAction(contract.actions.trial_balance, {
  permission: "finance.read",
  detect: async (tx, input) =>
    await tx`select currency, balance_cents, lines from public.financials_trial_balance
             where ${input.currency ?? null}::text is null or currency = ${input.currency ?? null} order by currency`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: { balances: rows.map((r) => ({ currency: r.currency, balance_cents: Number(r.balance_cents), lines: Number(r.lines) })) },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.balances.length} currencies` }),
});
