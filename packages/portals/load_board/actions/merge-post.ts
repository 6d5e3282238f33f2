import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { postIs } from "../proofs.ts";
import { unmergePost } from "./unmerge-post.ts";

/**
 * load_board/merge_post (the duplicate-posts agent): an open post of the same lane, pickup
 * day and equipment as an older one is merged into it (not biddable; its bids wait with it).
 * Reversible: unmerge_post.
 */
export const mergePost = defineAction(contract.actions.merge_post, {
  permission: "load_board.post",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_post_merge(${d.post_id}, ${d.into_post_id}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: (sql, r) => postIs(sql, r.post_id, "merged"),
  reverse: { action: unmergePost, input: ({ result }) => ({ post_id: result.post_id }) },
});
