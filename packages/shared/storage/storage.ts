/**
 * Document bytes behind one small interface (metadata and sha256 live in public.documents).
 * Two backends: `localFolderStorage` (a project folder; local stacks and tests) and
 * `supabaseStorage` (Supabase Storage through supabase-js, for hosted projects; not
 * available locally, so only its request shapes are tested here). Every write is streamed,
 * bounded (10 MiB by default, as public.documents allows) and hashed as it goes: a declared
 * sha256 that does not match the bytes is refused before anything is kept, and a read can
 * verify the bytes against the recorded hash.
 */
import { toHex } from "../util/encoding.ts";

/** public.documents.size_bytes allows at most this. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

/** Same rule as public.documents.storage_key: no leading slash, no "..", no odd characters. */
const KEY = /^[A-Za-z0-9][A-Za-z0-9/._-]*$/;

/** Problem codes of the catalogue (packages/shared/http/catalogue.ts): a portal answers `refuse(err.code)`. */
export type StorageErrorCode = "document_hash_mismatch" | "payload_too_large" | "validation_failed" | "not_found" | "conflict";

/** A refusal of the storage layer (a bad key is validation_failed, an existing key conflict). */
export class StorageError extends Error {
  constructor(readonly code: StorageErrorCode, message: string) {
    super(`${code}: ${message}`);
  }
}

export interface StoredObject {
  key: string;
  size: number;
  sha256: string;
}

export interface PutOptions {
  /** The hash the uploader declared (hex): refused unless the bytes match it. */
  sha256?: string;
  contentType?: string;
  maxBytes?: number;
}

export interface DocumentStorage {
  readonly kind: "local" | "supabase";
  /** Streams the bytes in, hashing and counting; refuses a mismatch or an oversize body; never overwrites. */
  put(key: string, body: Uint8Array | ReadableStream<Uint8Array>, opts?: PutOptions): Promise<StoredObject>;
  /** The bytes, checked against `sha256` when given (document_hash_mismatch); not_found when absent. */
  get(key: string, sha256?: string): Promise<Uint8Array>;
  delete(key: string): Promise<void>;
}

export function checkKey(key: string): string {
  if (!KEY.test(key) || key.includes("..") || key.length > 500) {
    throw new StorageError("validation_failed", `"${key.slice(0, 80)}" is not a storage key`);
  }
  return key;
}

/** `<tenant>/<document id>/<file name>` with the file name reduced to safe characters. */
export function documentKey(tenantId: string, documentId: string, fileName: string): string {
  const safe = fileName.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._-]+/, "").replace(/\.{2,}/g, ".").slice(-120) || "document";
  return checkKey(`${tenantId}/${documentId}/${safe}`);
}

/**
 * Reads a body to its end (at most `maxBytes`), returning the bytes and their sha256.
 * SHA-256 over the whole buffer: Web Crypto has no incremental digest; the bound keeps the
 * buffer small (10 MiB).
 */
export async function readBounded(body: Uint8Array | ReadableStream<Uint8Array>, maxBytes = MAX_DOCUMENT_BYTES): Promise<{ bytes: Uint8Array<ArrayBuffer>; sha256: string }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const take = (c: Uint8Array) => {
    size += c.byteLength;
    if (size > maxBytes) throw new StorageError("payload_too_large", `the document exceeds ${maxBytes} bytes`);
    chunks.push(c);
  };
  if (body instanceof Uint8Array) {
    take(body);
  } else {
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        take(value);
      }
    } catch (err) {
      await reader.cancel().catch(() => {});
      throw err;
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { bytes, sha256: toHex(await crypto.subtle.digest("SHA-256", bytes)) };
}

/** Refuses bytes whose hash is not the declared one. */
export function verifyHash(actual: string, declared: string | undefined): void {
  if (declared !== undefined && actual !== declared.toLowerCase()) {
    throw new StorageError("document_hash_mismatch", `the bytes hash to ${actual}, not the declared ${declared}`);
  }
}
