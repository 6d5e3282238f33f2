import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { postIs } from "../proofs.ts";

/** load_board/update_post: an open post's target rate, expiry, or lane re-read from its load (the anti-duplicate rules again). */
export const updatePost = defineAction(contract.actions.update_post, {
  permission: "load_board.post",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const { post_id, ...changes } = d;
    const [row] = await tx`select app_private.load_board_post_update(${post_id}, ${tx.json(changes)}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: (sql, r) => postIs(sql, r.post_id, "open"),
});
