import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { evented } from "../party.ts";

/**
 * carrier/accept: the carrier accepts an offer made to it before its deadline (the core's
 * freight_tender_accept: its own tenders only, eligibility again, the load covered at the
 * offered rate, other live tenders withdrawn). A countered tender is the broker's to book.
 */
export const accept = defineAction(contract.actions.accept, {
  permission: "freight.tender.respond",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_tender_accept(${d.tender_id}, ${d.note ?? null}) as r`;
    return { writes: [], events: [], result: { ...row.r, rate_cents: Number(row.r.rate_cents) } };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select t.status, t.accepted_rate_cents, l.status as load_status from public.tenders t
                            join public.loads l on l.id = t.load_id where t.id = ${r.tender_id}`;
    const ok = row?.status === "accepted" && Number(row.accepted_rate_cents) === r.rate_cents && await evented(sql, ctx.traceId, "freight.tender.accepted", r.tender_id);
    return { ok, detail: ok ? `tender ${r.tender_id} accepted, load ${row.load_status}` : `tender ${r.tender_id} not accepted as answered` };
  },
});
