import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { jsonb } from "../../../shared/db/client.ts";

/**
 * shipper/book: an order from a quote, in one transaction (app_private.shipper_order_book:
 * the quote checked, then the core's freight_order_book: order + load + stops + sell lines,
 * event freight.order.booked and the load opened, audit rows; credit_hold over the limit).
 */
export const book = defineAction(contract.actions.book, {
  permission: "freight.order.book",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, input) => {
    const { quote_id, ...order } = input;
    const [row] = await tx`select app_private.shipper_order_book(${quote_id}, ${jsonb(tx, order)}) as r`;
    return { writes: [], result: row.r, events: [] };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`
      select l.status, (select count(*)::int from public.outbox_events e
                        where e.tenant_id = ${ctx.tenantId} and e.aggregate_type = 'order' and e.aggregate_id = ${r.order_id}
                          and e.event_type = 'freight.order.booked') as events
      from public.loads l where l.id = ${r.load_id} and l.order_id = ${r.order_id} and l.tenant_id = ${ctx.tenantId}`;
    const ok = row?.status === r.status && row.events === 1;
    return { ok, detail: ok ? `order ${r.order_id} booked, load ${r.load_id} ${r.status}` : `order ${r.order_id} not as promised` };
  },
});
