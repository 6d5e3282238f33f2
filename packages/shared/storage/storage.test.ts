import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StorageClient } from "@supabase/storage-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex, utf8 } from "../util/encoding.ts";
import { localFolderStorage } from "./local.ts";
import { documentKey, MAX_DOCUMENT_BYTES, StorageError } from "./storage.ts";
import { supabaseStorage } from "./supabase.ts";

const POD = utf8("%PDF-1.7 proof of delivery, load DEMO-1005, signed 2026-12-05 20:00 CST");
const code = (p: Promise<unknown>) => p.then(() => "ok", (e) => (e instanceof StorageError ? e.code : String(e)));
/** A body that arrives in chunks, as an upload stream does. */
const stream = (bytes: Uint8Array, chunk = 64 * 1024) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.byteLength; i += chunk) c.enqueue(bytes.slice(i, i + chunk));
      c.close();
    },
  });

describe("local folder storage", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "switchyard-docs-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("stores streamed bytes under the key and reads them back, verified by their sha256", async () => {
    const sha = await sha256Hex(POD);
    const key = documentKey("d0000000-0000-4000-8000-000000000001", "c7000000-0000-4000-8000-000000000005", "pod.pdf");
    expect(await localFolderStorage(root).put(key, stream(POD, 16), { sha256: sha })).toEqual({ key, size: POD.byteLength, sha256: sha });
    expect(await localFolderStorage(root).get(key, sha)).toEqual(POD);
  });

  it("refuses bytes that do not match the declared sha256, and keeps nothing", async () => {
    const store = localFolderStorage(root);
    expect(await code(store.put("t/mismatch.pdf", POD, { sha256: "0".repeat(64) }))).toBe("document_hash_mismatch");
    expect(await code(store.get("t/mismatch.pdf"))).toBe("not_found");
  });

  it("refuses a body over 10 MiB while it streams, and keeps nothing", async () => {
    const big = new Uint8Array(MAX_DOCUMENT_BYTES + 1);
    const store = localFolderStorage(root);
    expect(await code(store.put("t/big.pdf", stream(big)))).toBe("payload_too_large");
    expect(await code(store.get("t/big.pdf"))).toBe("not_found");
    expect((await store.put("t/max.pdf", stream(big.subarray(1)))).size).toBe(MAX_DOCUMENT_BYTES);
  });

  it("never overwrites a key", async () => {
    const store = localFolderStorage(root);
    await store.put("t/once.pdf", POD);
    expect(await code(store.put("t/once.pdf", utf8("other bytes")))).toBe("conflict");
    expect(await store.get("t/once.pdf")).toEqual(POD);
  });

  it("detects bytes changed on disk since their hash was recorded", async () => {
    const store = localFolderStorage(root);
    const { sha256 } = await store.put("t/tampered.pdf", POD);
    await writeFile(join(root, "t/tampered.pdf"), utf8("%PDF-1.7 forged"));
    expect(await code(store.get("t/tampered.pdf", sha256))).toBe("document_hash_mismatch");
  });

  it("refuses keys that leave the folder or carry odd characters", async () => {
    const store = localFolderStorage(root);
    for (const key of ["../outside.pdf", "/etc/passwd", "t/../../x", "t/a b.pdf", ""]) {
      expect(await code(store.put(key, POD)), key).toBe("validation_failed");
    }
    expect(documentKey("t", "d", "../../Rate Confirmation #7.pdf")).toBe("t/d/Rate_Confirmation_7.pdf");
    expect((await readdir(root)).sort()).toEqual(["d0000000-0000-4000-8000-000000000001", "t"]);
  });
});

describe("Supabase Storage backend (request shapes only: Storage does not run locally)", () => {
  const calls: { method: string; url: string; upsert: string | null }[] = [];
  // supabase-js's own storage client (what createClient(...).storage is), on a recording fetch
  const storage = new StorageClient("https://project.supabase.test/storage/v1", { authorization: "Bearer service-role-key" },
    (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      calls.push({ method: req.method, url: req.url, upsert: req.headers.get("x-upsert") });
      return Promise.resolve(new Response(JSON.stringify({ Key: "documents/x" }), { status: 200, headers: { "content-type": "application/json" } }));
    });
  const store = supabaseStorage({ storage }, "documents");

  it("uploads verified bytes to the bucket without overwriting, and sends nothing for a mismatch", async () => {
    expect(await code(store.put("t/d/pod.pdf", POD, { sha256: "f".repeat(64) }))).toBe("document_hash_mismatch");
    expect(calls).toEqual([]);
    const r = await store.put("t/d/pod.pdf", stream(POD), { sha256: await sha256Hex(POD), contentType: "application/pdf" });
    expect(r.size).toBe(POD.byteLength);
    expect(calls).toEqual([{ method: "POST", url: "https://project.supabase.test/storage/v1/object/documents/t/d/pod.pdf", upsert: "false" }]);
  });
});
