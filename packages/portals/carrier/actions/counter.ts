import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { evented } from "../party.ts";

/**
 * carrier/counter: the carrier answers an offer with another buy rate (positive integer
 * cents; the core's freight_tender_counter). It goes back to the broker: broker/book
 * accepts it (covering the load at the counter), broker/retender moves on.
 */
export const counter = defineAction(contract.actions.counter, {
  permission: "freight.tender.respond",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_tender_counter(${d.tender_id}, ${d.rate_cents}, ${d.note ?? null}) as status`;
    return { writes: [], events: [], result: { tender_id: d.tender_id, status: row.status, counter_rate_cents: d.rate_cents } };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select status, counter_rate_cents from public.tenders where id = ${r.tender_id}`;
    const ok = row?.status === "countered" && Number(row.counter_rate_cents) === r.counter_rate_cents &&
      await evented(sql, ctx.traceId, "freight.tender.countered", r.tender_id);
    return { ok, detail: ok ? `tender ${r.tender_id} countered at ${r.counter_rate_cents}` : `tender ${r.tender_id} not countered` };
  },
});
