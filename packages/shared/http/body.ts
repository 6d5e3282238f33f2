import { accept, type Outcome, refuse } from "./outcome.ts";

/** Charter §8: payload ≤ 2 MB. */
export const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;

/**
 * Reads the raw body, refusing with payload_too_large as soon as more than `limit` bytes
 * have arrived. Content-Length is only a shortcut for refusing early: it is never trusted
 * to allow, since it can be absent (chunked) or lie.
 */
export async function readBodyBytes(
  req: Request,
  limit = DEFAULT_BODY_LIMIT,
): Promise<Outcome<Uint8Array<ArrayBuffer>>> {
  const tooLarge = () => refuse("payload_too_large", { detail: `Body exceeds ${limit} bytes`, limit_bytes: limit });
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await req.body?.cancel().catch(() => {});
    return tooLarge();
  }
  if (!req.body) return accept(new Uint8Array(0));

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {}); // stop the upload; do not buffer the rest
      return tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return accept(bytes);
}

/** application/json or application/<x>+json; a charset, if given, must be UTF-8. */
export function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const [type, ...params] = header.toLowerCase().split(";").map((s) => s.trim());
  if (type !== "application/json" && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) return false;
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
  return charset === undefined || charset === "utf-8" || charset === "utf8";
}

/** Decodes UTF-8 strictly and parses JSON; an empty body is malformed too. */
export function parseJsonBytes(bytes: Uint8Array): Outcome<unknown> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return refuse("malformed_json", { detail: "Body is not valid UTF-8" });
  }
  if (text.trim() === "") return refuse("malformed_json", { detail: "Body is empty" });
  try {
    return accept(JSON.parse(text) as unknown);
  } catch (e) {
    // Only the position: the parser's own message may quote the body, which may hold PII.
    const at = /position (\d+)/.exec(e instanceof Error ? e.message : "")?.[1];
    return refuse("malformed_json", { detail: `Body is not valid JSON${at ? ` (at position ${at})` : ""}` });
  }
}

export interface JsonBody {
  json: unknown;
  /** The raw bytes, for the HMAC body hash and the idempotency payload hash. */
  bytes: Uint8Array<ArrayBuffer>;
}

/** Content-type check, size-limited read, JSON parse: the three body refusals in order. */
export async function readJsonBody(req: Request, limit = DEFAULT_BODY_LIMIT): Promise<Outcome<JsonBody>> {
  if (!isJsonContentType(req.headers.get("content-type"))) {
    await req.body?.cancel().catch(() => {});
    return refuse("unsupported_media_type", { detail: "Expected content-type: application/json" });
  }
  const read = await readBodyBytes(req, limit);
  if (!read.ok) return read;
  const parsed = parseJsonBytes(read.value);
  return parsed.ok ? accept({ json: parsed.value, bytes: read.value }) : parsed;
}
