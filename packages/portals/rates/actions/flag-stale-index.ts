import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** rates/flag_stale_index: the tenant's market index has not been updated for too long. */
export const flagStaleIndex = defineAction(contract.actions.flag_stale_index, {
  permission: "rates.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: (tx, d, ctx) => ({
    writes: [tx`select app_private.raise_alert(${ctx.tenantId}, 'rates.index_stale', 'warning', 'market-index',
      ${d.last_ingested_at ? `Market index not updated since ${d.last_ingested_at} (over ${d.stale_days} days)` : "No market index loaded"})`],
    result: { alerted: true },
    events: [{ type: "rates.index.stale", aggregateType: "rates_index", aggregateId: ctx.tenantId, payload: d }],
  }),
  prove: async (sql, _r, ctx) => {
    const [a] = await sql`select 1 from public.alerts where tenant_id = ${ctx.tenantId} and source = 'rates.index_stale' and resolved_at is null`;
    return { ok: !!a, detail: a ? "stale index alert open" : "no alert" };
  },
});
