import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { postIs } from "../proofs.ts";

/** load_board/unmerge_post: a merged post is a post of its own again (the undo of merge_post). */
export const unmergePost = defineAction(contract.actions.unmerge_post, {
  permission: "load_board.post",
  detect: async (tx, input) => (await tx`select status from public.load_board_posts where id = ${input.post_id}`)[0] ?? null,
  decide: (input, p) => {
    if (!p) throw new ActionRefused(refuse("not_found", { detail: "No such post in this tenant" }));
    if (p.status !== "merged") throw new ActionRefused(refuse("revert_state_changed", { detail: `The post is ${p.status} now` }));
    return input;
  },
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_post_unmerge(${d.post_id}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: (sql, r) => postIs(sql, r.post_id, "open"),
});
