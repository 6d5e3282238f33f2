import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { bidIs } from "../proofs.ts";

/** load_board/reopen_bid: an expired bid is open again with a fresh response deadline (the undo of expire_bid). */
export const reopenBid = defineAction(contract.actions.reopen_bid, {
  permission: "load_board.award",
  detect: async (tx, input) => (await tx`select status from public.bids where id = ${input.bid_id}`)[0] ?? null,
  decide: (input, b) => {
    if (!b) throw new ActionRefused(refuse("not_found", { detail: "No such bid in this tenant" }));
    if (b.status !== "expired") throw new ActionRefused(refuse("revert_state_changed", { detail: `The bid is ${b.status} now` }));
    return input;
  },
  act: async (tx, d) => {
    const [row] = await tx`select app_private.load_board_bid_reopen(${d.bid_id}) as r`;
    return { writes: [], events: [], result: { ...row.r, respond_by: new Date(row.r.respond_by).toISOString() } };
  },
  prove: (sql, r) => bidIs(sql, r.bid_id, "open"),
});
