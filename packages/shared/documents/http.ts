import { z } from "zod";
import type { Config } from "../config/env.ts";
import { db, jsonb, type Sql, withClaims } from "../db/client.ts";
import { applyCors, corsPolicy, withCors } from "../http/cors.ts";
import { json } from "../http/json.ts";
import { refuse } from "../http/outcome.ts";
import { refusalResponse, validationProblem } from "../http/problems.ts";
import { createLogger } from "../observability/logger.ts";
import { createJwtVerifier } from "../security/jwt.ts";
import { documentKey, type DocumentStorage, MAX_DOCUMENT_BYTES, StorageError } from "../storage/storage.ts";
import { refusalFromDb } from "../pipeline/db-errors.ts";
import { documentStorage } from "./store.ts";

/**
 * The documents function, shared by every portal (a document is the freight domain's, not
 * one portal's): uploads are streamed into the storage backend (at most 10 MiB, refused
 * while they stream), hashed as they arrive and checked against the sha256 the uploader
 * declared (document_hash_mismatch, nothing kept), then recorded under the caller's claims
 * (app_private.freight_document_record: who may record which kind for which load; event
 * freight.document.recorded and audit under the request's trace) and referenced by id.
 * Downloads read the row under the caller's RLS (a shipper its BOL / POD / invoices, a
 * carrier its own rate confirmations) and stream the bytes, verified against their hash.
 *
 *   POST /documents/upload?kind=pod&load_id=<uuid>&file_name=pod.pdf   (or party_id=<uuid>)
 *        x-content-sha256: <hex sha256 of the body>, content-type: application/pdf
 *        -> 201 {data: {document_id, sha256, size_bytes, ...}, trace_id}
 *   GET  /documents/<document id>  -> the bytes (content-type, x-content-sha256)
 */
const uploadQuery = z.strictObject({
  kind: z.enum(["rate_confirmation", "bol", "pod", "invoice", "ucc_filing", "w9", "insurance_certificate", "other"]),
  load_id: z.guid().optional(),
  party_id: z.guid().optional(),
  // printable, no slashes (the storage key keeps a safe form of it)
  file_name: z.string().min(1).max(255).regex(/^[^/\\]+$/, "A file name, without slashes")
    .refine((n) => [...n].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f), "No control characters"),
  retain_until: z.iso.date().optional(),
}).refine((q) => q.load_id !== undefined || q.party_id !== undefined, { path: ["load_id"], message: "Name the load (or the party) the document belongs to" });

const CONTENT_TYPES = ["application/pdf", "image/png", "image/jpeg", "image/tiff", "text/plain"];
const sha256Header = z.string().regex(/^[0-9a-fA-F]{64}$/, "x-content-sha256 is the hex sha256 of the body (64 hex digits)");

const randomHex = (bytes: number) => Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

export function serveDocuments(config: Config, deps: { sql?: Sql; storage?: DocumentStorage } = {}) {
  const sql = deps.sql ?? db(config.SUPABASE_DB_URL);
  const storage = () => deps.storage ?? documentStorage();
  const log = createLogger("documents");
  const cors = corsPolicy(config.SWITCHYARD_CORS_ORIGINS);
  const verifyJwt = createJwtVerifier({ secret: config.SWITCHYARD_JWT_SECRET, jwksUrl: config.SWITCHYARD_JWKS_URL });

  const fail = (err: unknown, traceparent: string): Response => {
    if (err instanceof StorageError) return refusalResponse(refuse(err.code, { detail: err.message.slice(err.code.length + 2) }).problem, { traceparent });
    const r = refusalFromDb(err);
    if (r) return refusalResponse(r.problem, { traceparent });
    log.error({ err: err instanceof Error ? err.message : String(err) }, "documents failed");
    return refusalResponse(refuse("internal_error").problem, { traceparent });
  };

  async function upload(req: Request, url: URL, claims: Record<string, unknown>, traceId: string, traceparent: string): Promise<Response> {
    const q = uploadQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!q.success) return refusalResponse(validationProblem(q.error));
    const declared = sha256Header.safeParse(req.headers.get("x-content-sha256") ?? undefined);
    if (!declared.success) return refusalResponse(validationProblem(declared.error, { errors: [{ path: "x-content-sha256", message: declared.error.issues[0].message }] }));
    const type = (req.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (!CONTENT_TYPES.includes(type)) return refusalResponse(refuse("unsupported_media_type", { detail: `Documents are ${CONTENT_TYPES.join(", ")}` }).problem);
    const length = Number(req.headers.get("content-length") ?? "0");
    if (length > MAX_DOCUMENT_BYTES) return refusalResponse(refuse("payload_too_large", { detail: `A document is at most ${MAX_DOCUMENT_BYTES} bytes` }).problem);
    if (!req.body) return refusalResponse(refuse("validation_failed", { errors: [{ path: "body", message: "The document's bytes are the request body" }] }).problem);

    const key = documentKey(String(claims.tenant_id), crypto.randomUUID(), q.data.file_name);
    let stored;
    try {
      stored = await storage().put(key, req.body, { sha256: declared.data, contentType: type, maxBytes: MAX_DOCUMENT_BYTES });
    } catch (err) {
      return fail(err, traceparent);
    }
    try {
      const id = await withClaims(sql, claims, (tx) => tx`
        select app_private.freight_document_record(${jsonb(tx, {
          ...q.data, content_type: type, size_bytes: stored.size, sha256: stored.sha256, storage_key: stored.key,
        })}) as id`, { traceparent }).then((rows) => rows[0].id as string);
      return json({ data: { document_id: id, kind: q.data.kind, load_id: q.data.load_id ?? null, party_id: q.data.party_id ?? null,
                           file_name: q.data.file_name, size_bytes: stored.size, sha256: stored.sha256 }, trace_id: traceId },
                  201, { traceparent, location: `${url.pathname.replace(/\/upload$/, "")}/${id}` });
    } catch (err) {
      // refused (not the caller's load, a kind it may not record): the bytes go too
      await storage().delete(stored.key).catch(() => {});
      return fail(err, traceparent);
    }
  }

  async function download(id: string, claims: Record<string, unknown>, traceparent: string): Promise<Response> {
    if (!z.guid().safeParse(id).success) return refusalResponse(refuse("validation_failed", { errors: [{ path: "id", message: "A document id is a uuid" }] }).problem);
    try {
      const [doc] = await withClaims(sql, claims, (tx) => tx`
        select storage_key, sha256, content_type, file_name from public.documents where id = ${id}`);
      if (!doc) return refusalResponse(refuse("not_found", { detail: "No such document for this caller" }).problem, { traceparent });
      const bytes = await storage().get(doc.storage_key, doc.sha256);
      return new Response(bytes as Uint8Array<ArrayBuffer>, {
        status: 200,
        headers: {
          "content-type": doc.content_type, "content-length": String(bytes.byteLength), "x-content-sha256": doc.sha256,
          "content-disposition": `attachment; filename="${String(doc.file_name).replace(/[^A-Za-z0-9._-]/g, "_")}"`, traceparent,
        },
      });
    } catch (err) {
      return fail(err, traceparent);
    }
  }

  async function handle(req: Request, url: URL): Promise<Response> {
    const [, fn, what, ...rest] = url.pathname.split("/");
    if (fn !== "documents" || !what || rest.length) return refusalResponse(refuse("not_found", { detail: "POST documents/upload or GET documents/<id>" }).problem);
    const isUpload = what === "upload";
    if (isUpload ? req.method !== "POST" : req.method !== "GET") {
      return refusalResponse(refuse("method_not_allowed", { allow: [isUpload ? "POST" : "GET"] }).problem);
    }
    const jwt = await verifyJwt(req.headers.get("authorization"));
    if (!jwt.ok) {
      await req.body?.cancel();
      return refusalResponse(jwt.problem);
    }
    if (!jwt.value.tenant_id) return refusalResponse(refuse("forbidden", { detail: "The token names no tenant (tenant_id claim)" }).problem);
    const claims = { sub: jwt.value.sub, role: "authenticated", tenant_id: jwt.value.tenant_id, principal_kind: "human", principal_name: jwt.value.principal_name, portal: "" };
    const traceId = randomHex(16);
    const traceparent = `00-${traceId}-${randomHex(8)}-01`;
    return isUpload ? await upload(req, url, claims, traceId, traceparent) : await download(what, claims, traceparent);
  }

  const handler = async (req: Request): Promise<Response> => {
    const decision = applyCors(req, cors);
    if (decision.kind !== "continue") return decision.response;
    let res: Response;
    try {
      res = await handle(req, new URL(req.url));
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, "unhandled error");
      res = refusalResponse(refuse("internal_error").problem);
    }
    return withCors(res, decision.headers);
  };
  return { handler };
}
