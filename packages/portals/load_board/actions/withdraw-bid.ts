import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { bidIs } from "../proofs.ts";

/** load_board/withdraw_bid: a carrier takes its open bid back (its own only). */
export const withdrawBid = defineAction(contract.actions.withdraw_bid, {
  permission: "load_board.bid",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_bid_withdraw(${d.bid_id}) as r`;
    return { writes: [], events: [], result: { bid_id: row.r.bid_id, post_id: row.r.post_id, status: row.r.status } };
  },
  prove: (sql, r) => bidIs(sql, r.bid_id, "withdrawn"),
});
