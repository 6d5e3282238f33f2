import { contract, type Escrow } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/** load_board/escrow: escrows of accepted bids with their ledger entries (a carrier user: its own, by RLS). */
export const escrow = defineAction(contract.actions.escrow, {
  permission: "load_board.browse",
  detect: async (tx, input, ctx) =>
    await tx`select id, bid_id, load_id, carrier_party_id, amount_cents, currency, status, hold_entry_id, settle_entry_id
             from public.load_board_escrows
             where tenant_id = ${ctx.tenantId} and (${input.load_id ?? null}::uuid is null or load_id = ${input.load_id ?? null}::uuid)
             order by held_at desc limit 200`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      escrows: rows.map((e): Escrow => ({
        escrow_id: e.id, bid_id: e.bid_id, load_id: e.load_id, carrier_party_id: e.carrier_party_id, amount_cents: Number(e.amount_cents),
        currency: e.currency, status: e.status, hold_entry_id: e.hold_entry_id, settle_entry_id: e.settle_entry_id,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.escrows.length} escrows` }),
});
