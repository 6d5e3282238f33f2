import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * broker/book: the broker books a tender: the carrier accepted by phone, or its counter is
 * accepted (the core's freight_tender_accept: the load is covered at that rate, the other
 * live tenders withdrawn). A carrier user accepts its own offers in the Carrier portal.
 */
export const book = defineAction(contract.actions.book, {
  permission: "freight.tender.respond",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_tender_accept(${d.tender_id}, ${d.note ?? null}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [row] = await sql`select t.status, l.status as load_status from public.tenders t join public.loads l on l.id = t.load_id where t.id = ${r.tender_id}`;
    const ok = row?.status === "accepted" && row.load_status === r.load_status;
    return { ok, detail: ok ? `tender ${r.tender_id} accepted, load ${r.load_status}` : `tender ${r.tender_id} not accepted` };
  },
});
