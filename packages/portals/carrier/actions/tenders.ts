import { type CarrierTender, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

const cents = (v: unknown) => (v === null ? null : Number(v));

/**
 * carrier/tenders: the tenders offered to the caller's company (party RLS on tenders: never
 * another carrier's), live ones (offered, countered) or all, with the buy rate and the lane.
 * Tenders hold no sell rate: there is nothing to hide from this shape.
 */
export const tenders = defineAction(contract.actions.tenders, {
  permission: "freight.carrier.read",
  detect: async (tx, input) =>
    await tx`select id, load_id, status, offered_rate_cents, counter_rate_cents, accepted_rate_cents, currency, sla_deadline, lane
             from public.tenders
             where ${input.status} = 'all' or status in ('offered', 'countered')
             order by offered_at desc limit 200`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      tenders: rows.map((t): CarrierTender => ({
        tender_id: t.id, load_id: t.load_id, status: t.status, offered_rate_cents: Number(t.offered_rate_cents),
        counter_rate_cents: cents(t.counter_rate_cents), accepted_rate_cents: cents(t.accepted_rate_cents), currency: t.currency,
        sla_deadline: new Date(t.sla_deadline).toISOString(), lane: t.lane,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.tenders.length} tenders` }),
});
