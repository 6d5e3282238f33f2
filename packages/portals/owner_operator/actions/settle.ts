import { contract, type Settlement } from "../contract.ts";
import { jsonb } from "../../../shared/db/client.ts";
import { documentStorage } from "../../../shared/documents/store.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { documentKey } from "../../../shared/storage/storage.ts";
import { renderStatement } from "../domain/statement.ts";

/**
 * owner_operator/settle (finance): one settlement over delivered loads of an owner operator.
 * Postgres computes and posts it in this transaction (app_private.owner_operator_settlement_create:
 * gross, deductions, net in integer cents, a balanced journal entry, once per load:
 * settlement_duplicate); then the statement is rendered, stored (hash-checked) through the
 * documents storage, recorded as the owner operator's document and attached. The bytes are
 * written before the commit: a rollback leaves an unreferenced object, never a row without bytes.
 */
export const settle = defineAction(contract.actions.settle, {
  permission: "owner_operator.settle",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [row] = await tx`select app_private.owner_operator_settlement_create(${d.carrier_party_id}, ${d.load_ids}::uuid[], ${jsonb(tx, d.deductions)}) as r,
                                  (select name from public.parties where id = ${d.carrier_party_id}) as payee`;
    const s = row.r as Settlement;
    const text = renderStatement(s, ctx.now.toISOString().slice(0, 10), row.payee ?? "Owner operator");
    const fileName = `settlement-${s.number}.txt`;
    const stored = await documentStorage().put(documentKey(ctx.tenantId, crypto.randomUUID(), fileName), new TextEncoder().encode(text), { contentType: "text/plain" });
    const [doc] = await tx`select app_private.freight_document_record(${jsonb(tx, {
      party_id: d.carrier_party_id, kind: "other", file_name: fileName, content_type: "text/plain",
      size_bytes: stored.size, sha256: stored.sha256, storage_key: stored.key,
    })}) as id`;
    await tx`select app_private.owner_operator_settlement_document(${s.settlement_id}, ${doc.id})`;
    return { writes: [], events: [], result: { ...s, document_id: doc.id } };
  },
  prove: async (sql, r) => {
    const [s] = await sql`select s.net_cents, s.document_id, (select coalesce(sum(l.amount_cents), 0) from public.journal_lines l where l.entry_id = s.journal_entry_id)::bigint as balance
                          from public.owner_operator_settlements s where s.id = ${r.settlement_id}`;
    const ok = !!s && Number(s.net_cents) === r.net_cents && Number(s.balance) === 0 && s.document_id === r.document_id;
    return { ok, detail: ok ? `settlement ${r.number}: net ${r.net_cents} cents, entry balanced` : `settlement ${r.settlement_id} does not hold` };
  },
});
