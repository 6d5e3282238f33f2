import { createClient } from "@supabase/supabase-js";
import { loadConfig } from "../config/env.ts";
import { localFolderStorage } from "../storage/local.ts";
import type { DocumentStorage } from "../storage/storage.ts";
import { supabaseStorage } from "../storage/supabase.ts";

/**
 * The document storage a function uses, from its environment: SWITCHYARD_STORAGE_DIR (a
 * folder: the local and test stacks set it, and let the runtime write there only), else
 * Supabase Storage (hosted: SUPABASE_URL + SUPABASE_SERVICE_ROLE_KEY, bucket
 * SWITCHYARD_STORAGE_BUCKET, default "documents"). One per isolate.
 */
let store: DocumentStorage | null = null;

const envGet = (k: string): string | undefined =>
  (globalThis as { Deno?: { env: { get(k: string): string | undefined } } }).Deno?.env.get(k) ??
    (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[k];

export function documentStorage(get: (k: string) => string | undefined = envGet): DocumentStorage {
  if (store) return store;
  const c = loadConfig(get);
  if (c.SWITCHYARD_STORAGE_DIR) return (store = localFolderStorage(c.SWITCHYARD_STORAGE_DIR));
  const hosted = loadConfig(get, ["SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"]);
  const client = createClient(hosted.SUPABASE_URL!, hosted.SUPABASE_SERVICE_ROLE_KEY!, { auth: { persistSession: false } });
  return (store = supabaseStorage(client, c.SWITCHYARD_STORAGE_BUCKET ?? "documents"));
}
