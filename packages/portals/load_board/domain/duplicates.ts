import type { PostLane } from "../contract.ts";

/**
 * Duplicate load board posts (pure). The lane is compared as Postgres compares it
 * (app_private.load_board_lane_key): origin and destination city and region, trimmed and
 * lower-cased. Postgres refuses a second open post of the same lane, pickup day and
 * equipment from the same poster; posts of different posters that match are what the
 * duplicate-posts agent merges: the newer into the oldest.
 */
export interface PostFacts extends PostLane {
  id: string;
  posted_by: string | null;
  /** YYYY-MM-DD */
  pickup_on: string;
  equipment_type: string;
  created_at: Date;
}

export interface Merge {
  post_id: string;
  into_post_id: string;
}

const part = (s: string | null) => (s ?? "").trim();

export const laneKey = (p: PostLane): string =>
  [p.origin_city, p.origin_region, p.destination_city, p.destination_region].map(part).join("|").toLowerCase();

/** The merges that leave one open post per lane, day and equipment: each later post into the oldest. */
export function planMerges(open: PostFacts[]): Merge[] {
  const groups = new Map<string, PostFacts[]>();
  for (const p of open) {
    const k = `${laneKey(p)}#${p.pickup_on}#${p.equipment_type}`;
    groups.set(k, [...(groups.get(k) ?? []), p]);
  }
  const merges: Merge[] = [];
  for (const posts of groups.values()) {
    const [oldest, ...later] = posts.toSorted((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id));
    for (const p of later) merges.push({ post_id: p.id, into_post_id: oldest.id });
  }
  return merges;
}
