import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";
import { centsSchema } from "../../shared/freight/schemas.ts";

/** A post's lane: where it picks up and delivers (city and region). */
export interface PostLane {
  origin_city: string | null;
  origin_region: string | null;
  destination_city: string | null;
  destination_region: string | null;
}

/** A post as the board shows it: lane, day, equipment and the target buy rate (never the sell rate). */
export interface Post extends PostLane {
  post_id: string;
  load_id: string;
  status: "open" | "covered" | "withdrawn" | "merged" | "expired";
  merged_into: string | null;
  pickup_on: string;
  equipment_type: string;
  target_rate_cents: number | null;
  currency: string;
  expires_at: string | null;
}

/** A bid as its reader may see it (a carrier user: its own only, by RLS). */
export interface Bid {
  bid_id: string;
  post_id: string;
  carrier_party_id: string;
  amount_cents: number;
  currency: string;
  status: "open" | "accepted" | "rejected" | "withdrawn" | "expired";
  respond_by: string | null;
}

export interface BoardPost extends Post {
  /** Posts merged into this one (each a load of the same lane, day and equipment). */
  merged_posts: number;
  /** The bids the caller may read: all of them for staff, a carrier's own for a carrier user. */
  bids: Bid[];
}

export interface Escrow {
  escrow_id: string;
  bid_id: string;
  load_id: string;
  carrier_party_id: string;
  amount_cents: number;
  currency: string;
  status: "held" | "released" | "refunded";
  hold_entry_id: string;
  settle_entry_id: string | null;
}

export interface AcceptResult {
  bid_id: string;
  post_id: string;
  load_id: string;
  carrier_party_id: string;
  rate_cents: number;
  currency: string;
  load_status: string;
  rejected_bids: number;
  escrow: { escrow_id: string; status: "held"; amount_cents: number; entry_id: string };
}

const equipment = z.enum(["van", "reefer", "flatbed", "step_deck", "tanker", "power_only"]);
const reason = z.string().trim().min(1).max(500);
const day = z.iso.date();

/**
 * The Load Board portal: the brokerage's staff post open loads (anti-duplicate rules in
 * Postgres), carrier users browse and bid (their own bids only, never the sell rate), staff
 * accept a bid (the load covered through the core, the bid's amount held in escrow in the
 * ledger until delivery or cancel). Its agents merge duplicate posts and expire bids past
 * their response deadline (both reversible).
 */
export const contract = defineContract("load_board", {
  actions: {
    ...revertContract,
    post: action<Post>()({
      input: z.strictObject({
        load_id: z.guid(),
        target_rate_cents: centsSchema.min(1).optional(),
        expires_at: z.iso.datetime({ offset: true }).optional(),
        /** A post of the same lane, day and equipment by the same poster: refuse (default) or merge into it. */
        on_duplicate: z.enum(["refuse", "merge"]).optional(),
      }),
      kind: "write",
    }),
    update_post: action<Post>()({
      input: z.strictObject({
        post_id: z.guid(),
        target_rate_cents: centsSchema.min(1).nullable().optional(),
        expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
        /** Re-read lane, day and equipment from the load (after a re-route). */
        refresh_lane: z.boolean().optional(),
      }),
      kind: "write",
    }),
    withdraw_post: action<Post>()({ input: z.strictObject({ post_id: z.guid(), reason: reason.optional() }), kind: "write" }),
    board: action<{ posts: BoardPost[] }>()({
      input: z.strictObject({
        equipment_type: equipment.optional(),
        pickup_from: day.optional(),
        pickup_to: day.optional(),
        origin_region: z.string().trim().min(2).max(3).optional(),
        destination_region: z.string().trim().min(2).max(3).optional(),
        /** Staff: closed posts too. */
        include_closed: z.boolean().optional(),
      }),
      kind: "read",
    }),
    bid: action<Bid & { load_id: string; replaces_bid_id: string | null }>()({
      input: z.strictObject({
        post_id: z.guid(),
        amount_cents: centsSchema.min(1),
        note: z.string().trim().min(1).max(500).optional(),
        /** Staff entering a carrier's phone bid; a carrier user bids for its own company. */
        carrier_party_id: z.guid().optional(),
      }),
      kind: "write",
    }),
    withdraw_bid: action<{ bid_id: string; post_id: string; status: string }>()({ input: z.strictObject({ bid_id: z.guid() }), kind: "write" }),
    accept_bid: action<AcceptResult>()({ input: z.strictObject({ bid_id: z.guid() }), kind: "write" }),
    escrow: action<{ escrows: Escrow[] }>()({ input: z.strictObject({ load_id: z.guid().optional() }), kind: "read" }),
    merge_post: action<Post>()({ input: z.strictObject({ post_id: z.guid(), into_post_id: z.guid() }), kind: "write" }),
    unmerge_post: action<Post>()({ input: z.strictObject({ post_id: z.guid() }), kind: "write" }),
    expire_bid: action<{ bid_id: string; post_id: string; status: string; respond_by: string }>()({
      input: z.strictObject({ bid_id: z.guid() }),
      kind: "write",
    }),
    reopen_bid: action<{ bid_id: string; post_id: string; status: string; respond_by: string }>()({
      input: z.strictObject({ bid_id: z.guid() }),
      kind: "write",
    }),
  },
  events: [
    "freight.load_board_post.posted", "freight.load_board_post.merged", "freight.load_board_post.unmerged",
    "freight.load_board_post.updated", "freight.load_board_post.withdrawn", "freight.load_board_post.covered",
    "freight.bid.placed", "freight.bid.withdrawn", "freight.bid.accepted", "freight.bid.rejected", "freight.bid.expired",
    "freight.bid.reopened", "freight.escrow.held", "freight.escrow.released", "freight.escrow.refunded",
    "freight.journal_entry.posted", "freight.load.covered", "freight.tender.cancelled",
  ],
});
