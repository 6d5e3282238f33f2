import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * load_board/accept_bid: the broker takes a bid inside its response deadline: the load is
 * covered at the bid through the core (state machine, eligibility, buy line; live tenders
 * cancelled), the post covered and its other bids rejected, and the amount held in escrow
 * (a balanced ledger entry) until the load is delivered (released) or cancelled (refunded).
 */
export const acceptBid = defineAction(contract.actions.accept_bid, {
  permission: "load_board.award",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_bid_accept(${d.bid_id}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r) => {
    const [row] = await sql`
      select b.status, l.status as load_status, l.carrier_party_id, e.status as escrow
      from public.bids b join public.loads l on l.id = b.load_id left join public.load_board_escrows e on e.bid_id = b.id
      where b.id = ${r.bid_id}`;
    const ok = row?.status === "accepted" && row.load_status === r.load_status && row.carrier_party_id === r.carrier_party_id && row.escrow === "held";
    return { ok, detail: ok ? `bid ${r.bid_id} accepted, load ${r.load_status}, escrow held` : `bid ${r.bid_id}: ${JSON.stringify(row ?? null)}` };
  },
});
