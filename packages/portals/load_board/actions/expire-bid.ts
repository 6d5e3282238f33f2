import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { bidIs } from "../proofs.ts";
import { reopenBid } from "./reopen-bid.ts";

/** load_board/expire_bid (the bid SLA agent): an open bid past its response deadline expires. Reversible: reopen_bid. */
export const expireBid = defineAction(contract.actions.expire_bid, {
  permission: "load_board.award",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_bid_expire(${d.bid_id}) as r`;
    return { writes: [], events: [], result: { ...row.r, respond_by: new Date(row.r.respond_by).toISOString() } };
  },
  prove: (sql, r) => bidIs(sql, r.bid_id, "expired"),
  reverse: { action: reopenBid, input: ({ result }) => ({ bid_id: result.bid_id }) },
});
