import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { postIs } from "../proofs.ts";

/**
 * load_board/post: posts an open (or tendered) load: lane, pickup day and equipment from
 * the load, an optional target buy rate. Postgres refuses the same load twice
 * (load_board_duplicate_load) and a second post of the same lane, day and equipment from the
 * same poster (load_board_duplicate_lane), unless on_duplicate is merge: then it is merged
 * into that post.
 */
export const post = defineAction(contract.actions.post, {
  permission: "load_board.post",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const { load_id, ...rest } = d;
    const [row] = await tx`select app_private.load_board_post_create(${load_id}, ${tx.json(rest)}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: (sql, r) => postIs(sql, r.post_id, r.status),
});
