import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { postIs } from "../proofs.ts";

/** load_board/withdraw_post: takes a post off the board; its open bids are rejected, posts merged into it stand on their own again. */
export const withdrawPost = defineAction(contract.actions.withdraw_post, {
  permission: "load_board.post",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_post_withdraw(${d.post_id}, ${d.reason ?? null}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: (sql, r) => postIs(sql, r.post_id, "withdrawn"),
});
