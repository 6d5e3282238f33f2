import { contract, type InvoiceSummary } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { downloadPath } from "../domain/documents.ts";

/**
 * shipper/invoices: the invoices issued on the shipper's loads, read-only. Financials writes
 * them (an invoice PDF recorded as a document of kind invoice, which party RLS shows to the
 * load's shipper only); until it does the list is empty, in the same shape.
 */
export const invoices = defineAction(contract.actions.invoices, {
  permission: "freight.shipper.read",
  detect: async (tx, input) =>
    await tx`select d.id, d.load_id, l.reference, d.file_name, d.created_at
             from public.documents d join public.loads l on l.id = d.load_id
             where d.kind = 'invoice' and (${input.load_id ?? null}::uuid is null or d.load_id = ${input.load_id ?? null}::uuid)
             order by d.created_at desc limit 200`,
  decide: (_input, rows) => rows,
  act: (_tx, rows) => ({
    writes: [],
    events: [],
    result: {
      invoices: rows.map((r): InvoiceSummary => ({
        document_id: r.id, load_id: r.load_id, load_reference: r.reference, file_name: r.file_name,
        issued_at: new Date(r.created_at).toISOString(), download: downloadPath(r.id),
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.invoices.length} invoices` }),
});
