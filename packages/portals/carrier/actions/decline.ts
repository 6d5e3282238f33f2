import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { evented } from "../party.ts";

/** carrier/decline: the carrier declines an offer (the core's freight_tender_decline; a tendered load with no live tender reopens). */
export const decline = defineAction(contract.actions.decline, {
  permission: "freight.tender.respond",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_tender_decline(${d.tender_id}, ${d.reason ?? null}) as status`;
    return { writes: [], events: [], result: { tender_id: d.tender_id, status: row.status } };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select status from public.tenders where id = ${r.tender_id}`;
    const ok = row?.status === "declined" && await evented(sql, ctx.traceId, "freight.tender.declined", r.tender_id);
    return { ok, detail: ok ? `tender ${r.tender_id} declined` : `tender ${r.tender_id} is ${row?.status}` };
  },
});
