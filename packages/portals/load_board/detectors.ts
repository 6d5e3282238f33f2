import { defineDetector } from "../../shared/pipeline/detector.ts";
import { expireBid } from "./actions/expire-bid.ts";
import { mergePost } from "./actions/merge-post.ts";
import { planMerges, type PostFacts } from "./domain/duplicates.ts";

/**
 * Duplicate posts: open posts of the same lane, pickup day and equipment (posted by
 * different staff: Postgres refuses it from one poster) are merged, each newer one into
 * the oldest. Reversible (unmerge_post).
 */
export const duplicatePosts = defineDetector({
  portal: "load_board",
  name: "duplicate_posts",
  detect: async (tx, tenantId) => {
    const open = await tx`
      select id, posted_by, origin_city, origin_region, destination_city, destination_region, pickup_on::text as pickup_on,
             equipment_type, created_at
      from public.load_board_posts where tenant_id = ${tenantId} and status = 'open'
      order by created_at limit 500`;
    const posts = open.map((p) => ({ ...p, created_at: new Date(p.created_at) }) as PostFacts);
    return planMerges(posts).slice(0, 20)
      .map((m) => ({ action: mergePost, key: `merge-post:${m.post_id}`, input: m }));
  },
});

/** Bid response SLA: an open bid on an open post left unanswered past respond_by expires. Reversible (reopen_bid). */
export const bidSla = defineDetector({
  portal: "load_board",
  name: "bid_sla",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      select b.id from public.bids b join public.load_board_posts p on p.id = b.post_id
      where b.tenant_id = ${tenantId} and b.status = 'open' and b.respond_by < now() and p.status = 'open'
      order by b.respond_by limit 20`;
    return rows.map((r) => ({ action: expireBid, key: `expire-bid:${r.id}`, input: { bid_id: r.id } }));
  },
});
