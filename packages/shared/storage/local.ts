import { mkdir, open, readFile, rm } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { checkKey, type DocumentStorage, type PutOptions, readBounded, StorageError, verifyHash } from "./storage.ts";

/**
 * Documents in a local folder (local stacks, tests): `<root>/<key>`. A write goes to the
 * final name only after the hash and size checks, created exclusively (an existing key is
 * already_exists, never overwritten). Not for hosted Edge Functions, whose disk is not kept.
 */
export function localFolderStorage(root: string): DocumentStorage {
  const base = resolve(root);
  const path = (key: string) => {
    const p = resolve(join(base, checkKey(key)));
    if (!p.startsWith(base + sep)) throw new StorageError("validation_failed", "the key leaves the storage folder");
    return p;
  };
  return {
    kind: "local",
    async put(key: string, body, opts: PutOptions = {}) {
      const target = path(key);
      const { bytes, sha256 } = await readBounded(body, opts.maxBytes);
      verifyHash(sha256, opts.sha256);
      await mkdir(dirname(target), { recursive: true });
      let file;
      try {
        file = await open(target, "wx");
      } catch (err) {
        if ((err as { code?: string }).code === "EEXIST") throw new StorageError("conflict", `${key} is stored already`);
        throw err;
      }
      try {
        await file.writeFile(bytes);
      } finally {
        await file.close();
      }
      return { key, size: bytes.byteLength, sha256 };
    },
    async get(key: string, sha256?: string) {
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = new Uint8Array(await readFile(path(key)));
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") throw new StorageError("not_found", `${key} is not stored`);
        throw err;
      }
      if (sha256 !== undefined) verifyHash((await readBounded(bytes, Number.MAX_SAFE_INTEGER)).sha256, sha256);
      return bytes;
    },
    async delete(key: string) {
      await rm(path(key), { force: true });
    },
  };
}
