import { contract, type DocumentSummary } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { documentRow } from "../domain/documents.ts";

/**
 * shipper/documents: a load's documents the shipper may read (its BOL, POD and invoices;
 * party RLS: never a carrier's rate confirmation), each with its download path.
 */
export const documents = defineAction(contract.actions.documents, {
  permission: "freight.shipper.read",
  detect: async (tx, input) => {
    const [load] = await tx`select id from public.loads where id = ${input.load_id}`;
    if (!load) return null;
    return await tx`select id, load_id, kind, file_name, content_type, size_bytes, sha256, created_at
                    from public.documents where load_id = ${input.load_id} order by created_at`;
  },
  decide: (_input, rows) => {
    if (!rows) throw new ActionRefused(refuse("not_found", { detail: "No such load for this caller" }));
    return rows;
  },
  act: (_tx, rows) => ({ writes: [], events: [], result: { documents: rows.map(documentRow) as DocumentSummary[] } }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.documents.length} documents` }),
});
