import { definePortal } from "../../shared/pipeline/manifest.ts";
import { revertActions } from "../../shared/pipeline/revert.ts";
import { acceptBid } from "./actions/accept-bid.ts";
import { bid } from "./actions/bid.ts";
import { board } from "./actions/board.ts";
import { escrow } from "./actions/escrow.ts";
import { expireBid } from "./actions/expire-bid.ts";
import { mergePost } from "./actions/merge-post.ts";
import { post } from "./actions/post.ts";
import { reopenBid } from "./actions/reopen-bid.ts";
import { unmergePost } from "./actions/unmerge-post.ts";
import { updatePost } from "./actions/update-post.ts";
import { withdrawBid } from "./actions/withdraw-bid.ts";
import { withdrawPost } from "./actions/withdraw-post.ts";
import { contract } from "./contract.ts";
import { bidSla, duplicatePosts } from "./detectors.ts";

/** The Load Board portal: post, browse, bid, accept (cover + escrow); agents merge duplicate posts and expire unanswered bids. */
export default definePortal({
  contract,
  actions: [
    post, updatePost, withdrawPost, board, bid, withdrawBid, acceptBid, escrow, mergePost, unmergePost, expireBid, reopenBid,
    ...revertActions(contract, [mergePost, expireBid]),
  ],
  detectors: [duplicatePosts, bidSla],
});
