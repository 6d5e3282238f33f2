/** Documents as the portals list them; the bytes are streamed by the documents function. */

/** Where a document is downloaded (GET, the caller's own token; RLS decides). */
export const downloadPath = (id: string) => `/functions/v1/documents/${id}`;

export function documentRow(r: Record<string, any>) {
  return {
    document_id: r.id, load_id: r.load_id, kind: r.kind, file_name: r.file_name, content_type: r.content_type,
    size_bytes: Number(r.size_bytes), sha256: r.sha256, created_at: new Date(r.created_at).toISOString(), download: downloadPath(r.id),
  };
}
