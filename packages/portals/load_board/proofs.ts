import type { Sql } from "../../shared/db/client.ts";
import type { ProveResult } from "../../shared/pipeline/action.ts";

/** The post (or bid) reads back in the state the action answered. */
export async function postIs(sql: Sql, postId: string, status: string): Promise<ProveResult> {
  const [p] = await sql`select status from public.load_board_posts where id = ${postId}`;
  return { ok: p?.status === status, detail: `post ${postId} ${p?.status ?? "missing"} (expected ${status})` };
}

export async function bidIs(sql: Sql, bidId: string, status: string): Promise<ProveResult> {
  const [b] = await sql`select status from public.bids where id = ${bidId}`;
  return { ok: b?.status === status, detail: `bid ${bidId} ${b?.status ?? "missing"} (expected ${status})` };
}
