import type { SupabaseClient } from "@supabase/supabase-js";
import { checkKey, type DocumentStorage, type PutOptions, readBounded, StorageError, verifyHash } from "./storage.ts";

/**
 * Documents in a Supabase Storage bucket (hosted projects), through supabase-js with a
 * service-role client (the bucket stays private; portals serve downloads after their own
 * permission and party checks). The bytes are hashed and bounded before the upload, so a
 * mismatch never reaches the bucket; `upsert: false` keeps a key from being overwritten.
 * Supabase Storage does not run locally: here only the requests this sends are tested
 * (storage.test.ts, with a recording fetch), not the service.
 */
export function supabaseStorage(client: Pick<SupabaseClient, "storage">, bucket: string): DocumentStorage {
  const files = () => client.storage.from(bucket);
  return {
    kind: "supabase",
    async put(key: string, body, opts: PutOptions = {}) {
      checkKey(key);
      const { bytes, sha256 } = await readBounded(body, opts.maxBytes);
      verifyHash(sha256, opts.sha256);
      const { error } = await files().upload(key, bytes, { contentType: opts.contentType ?? "application/octet-stream", upsert: false });
      if (error) {
        if (/exists|duplicate/i.test(error.message)) throw new StorageError("conflict", `${key} is stored already`);
        throw error;
      }
      return { key, size: bytes.byteLength, sha256 };
    },
    async get(key: string, sha256?: string) {
      const { data, error } = await files().download(checkKey(key));
      if (error || !data) throw new StorageError("not_found", `${key} is not stored`);
      const bytes = new Uint8Array(await data.arrayBuffer());
      if (sha256 !== undefined) verifyHash((await readBounded(bytes, Number.MAX_SAFE_INTEGER)).sha256, sha256);
      return bytes;
    },
    async delete(key: string) {
      const { error } = await files().remove([checkKey(key)]);
      if (error) throw error;
    },
  };
}
