import { type BoardPost, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/**
 * load_board/board: the open posts (staff: closed ones too on request), filtered by
 * equipment, pickup days and regions, each with the bids the caller may read — under its
 * RLS, so a carrier user sees its own bids only. Posts carry the target buy rate; the sell
 * rate is not on them (it lives in the order and sell charge lines, which carriers never read).
 */
export const board = defineAction(contract.actions.board, {
  permission: "load_board.browse",
  detect: async (tx, f, ctx) =>
    await tx`
      select p.id, p.load_id, p.status, p.merged_into, p.origin_city, p.origin_region, p.destination_city, p.destination_region,
             p.pickup_on::text as pickup_on, p.equipment_type, p.target_rate_cents, p.currency, p.expires_at,
             (select count(*)::int from public.load_board_posts m where m.merged_into = p.id and m.status = 'merged') as merged_posts,
             coalesce((select jsonb_agg(jsonb_build_object('bid_id', b.id, 'post_id', b.post_id, 'carrier_party_id', b.carrier_party_id,
                                                           'amount_cents', b.amount_cents, 'currency', b.currency, 'status', b.status,
                                                           'respond_by', b.respond_by) order by b.amount_cents, b.created_at)
                       from public.bids b where b.post_id = p.id and b.status <> 'withdrawn'), '[]') as bids
      from public.load_board_posts p
      where p.tenant_id = ${ctx.tenantId}
        and (p.status = 'open' or ${f.include_closed ?? false})
        and (${f.equipment_type ?? null}::text is null or p.equipment_type = ${f.equipment_type ?? null})
        and (${f.pickup_from ?? null}::date is null or p.pickup_on >= ${f.pickup_from ?? null}::date)
        and (${f.pickup_to ?? null}::date is null or p.pickup_on <= ${f.pickup_to ?? null}::date)
        and (${f.origin_region ?? null}::text is null or upper(p.origin_region) = upper(${f.origin_region ?? null}))
        and (${f.destination_region ?? null}::text is null or upper(p.destination_region) = upper(${f.destination_region ?? null}))
      order by p.pickup_on, p.created_at, p.id
      limit 200`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      posts: rows.map((p): BoardPost => ({
        post_id: p.id, load_id: p.load_id, status: p.status, merged_into: p.merged_into, origin_city: p.origin_city,
        origin_region: p.origin_region, destination_city: p.destination_city, destination_region: p.destination_region,
        pickup_on: p.pickup_on, equipment_type: p.equipment_type,
        target_rate_cents: p.target_rate_cents === null ? null : Number(p.target_rate_cents), currency: p.currency,
        expires_at: iso(p.expires_at), merged_posts: p.merged_posts, bids: p.bids,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.posts.length} posts` }),
});
