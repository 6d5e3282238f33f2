import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * broker/cancel: before dispatch the load is cancelled (its tenders withdrawn); after
 * dispatch it is a TONU: status tonu and a TONU charge line to the carrier (and one to the
 * shipper when billed), in one transaction (app_private.broker_load_cancel).
 */
export const cancel = defineAction(contract.actions.cancel, {
  permission: "freight.load.transition",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.broker_load_cancel(${d.load_id}, ${d.reason}, ${d.tonu_cents ?? null}, ${d.bill_shipper_cents ?? null}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [l] = await sql`select status, (select count(*)::int from public.charge_lines c where c.load_id = l.id and c.source_type = 'cancel') as lines
                          from public.loads l where l.id = ${r.load_id}`;
    const ok = l?.status === r.status && l.lines === r.charge_lines.length;
    return { ok, detail: ok ? `load ${r.load_id} ${r.status} (${l.lines} TONU lines)` : `load ${r.load_id} is ${l?.status}` };
  },
});
