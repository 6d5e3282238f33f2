import type { z } from "zod";
import { type AnyAction, defineAction } from "../pipeline/action.ts";
import type { ActionContract } from "../pipeline/contract.ts";
import type { Tx } from "../db/client.ts";
/** What a money function of Postgres answers (app_private.financials_* / factoring_*: jsonb). */
export type MoneyResult = Record<string, unknown>;

/**
 * A write action that is one Postgres money function of the financials / factoring portals (it checks finance.write, posts the
 * journal entry, the outbox event and the audit row in the caller's transaction), proven by
 * the entry's rows being there: the trial balance of the tenant is zero.
 */
export function moneyAction<S extends z.ZodType>(
  c: ActionContract<S, MoneyResult>,
  call: (tx: Tx, input: z.infer<S>, tenantId: string) => PromiseLike<readonly { r: unknown }[]>,
  reverse?: { action: AnyAction; input: (done: { input: any; result: any }) => unknown },
) {
  return defineAction(c, {
    permission: "finance.write",
    detect: () => Promise.resolve(null),
    decide: (input) => input,
    act: async (tx, input, ctx) => {
      const [row] = await call(tx, input, ctx.tenantId);
      return { writes: [], result: row.r as MoneyResult, events: [] };
    },
    prove: async (sql, r, ctx) => {
      const [tb] = await sql`select coalesce(bool_and(balance_cents = 0), true) as zero from public.financials_trial_balance
                             where tenant_id = ${ctx.tenantId}`;
      return { ok: tb.zero === true, detail: tb.zero ? `${c.name}: ${JSON.stringify(r)}; trial balance zero` : `${c.name}: trial balance not zero` };
    },
    ...(reverse ? { reverse } : {}),
  });
}
