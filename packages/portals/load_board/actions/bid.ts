import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { bidIs } from "../proofs.ts";

/**
 * load_board/bid: a carrier user bids on an open post for its own company (staff may enter
 * a carrier's phone bid), in positive integer cents; the carrier must be eligible on the
 * pickup day; the broker answers by load_board.bidResponseMinutes. A new bid replaces the
 * carrier's open one on that post.
 */
export const bid = defineAction(contract.actions.bid, {
  permission: "load_board.bid",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_bid_place(${d.post_id}, ${d.amount_cents}, ${d.note ?? null}, ${d.carrier_party_id ?? null}) as r`;
    return { writes: [], events: [], result: { ...row.r, respond_by: new Date(row.r.respond_by).toISOString() } };
  },
  prove: (sql, r) => bidIs(sql, r.bid_id, "open"),
});
