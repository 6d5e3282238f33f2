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

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NUL_MESSAGE = "NUL characters (\\u0000) are not allowed";
const SURROGATE_MESSAGE = "Unpaired UTF-16 surrogates are not allowed";

/** A path segment as the problem shows it (a key's NUL or lone surrogate spelled out). */
const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
const shown = (key: string) =>
  key.replaceAll("\u0000", escaped).replace(new RegExp(LONE_SURROGATE.source, "g"), escaped);

/** A path as a linked list, so that walking a 1M-deep body does not copy paths. */
interface PathNode {
  key: string;
  up: PathNode | null;
}
const dotted = (node: PathNode | null): string => {
  const keys: string[] = [];
  for (let n = node; n; n = n.up) keys.push(n.key);
  keys.reverse();
  // A 1M-deep path is not worth a 2 MB problem: its start and end say where.
  const parts = keys.length > 24 ? [...keys.slice(0, 16), `…${keys.length - 24} more…`, ...keys.slice(-8)] : keys;
  return parts.map(shown).join(".");
};

/** A uuid (any version, any case): the edge lower-cases it (see unstorableStrings). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Strings Postgres cannot store: text and jsonb refuse NUL (\u0000), and UTF-8 has no
 * encoding for an unpaired surrogate (JSON may still escape one, "\ud800"). Every key and
 * string value of a parsed body is checked, iteratively (a 2 MB body may nest 1M deep);
 * each bad one is named by its dotted path, at most `max` of them. On the way it
 * normalizes in place: a string value that is a uuid is lower-cased, so that one uuid has
 * one spelling from the edge on (keys in maps, ON CONFLICT batches, comparisons in code).
 */
export function unstorableStrings(json: unknown, max = 20): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = [];
  const check = (s: string, at: PathNode | null) => {
    const message = s.includes("\u0000") ? NUL_MESSAGE : LONE_SURROGATE.test(s) ? SURROGATE_MESSAGE : null;
    if (message) errors.push({ path: dotted(at), message });
  };
  const stack: [unknown, PathNode | null][] = [[json, null]];
  while (stack.length > 0 && errors.length < max) {
    const [v, at] = stack.pop()!;
    if (typeof v === "string") check(v, at);
    else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        if (typeof v[i] === "string" && UUID.test(v[i])) v[i] = v[i].toLowerCase();
        stack.push([v[i], { key: String(i), up: at }]);
      }
    } else if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i];
        const x = o[k];
        if (typeof x === "string" && UUID.test(x)) o[k] = x.toLowerCase();
        const node = { key: k, up: at };
        check(k, node);
        stack.push([o[k], node]);
      }
    }
  }
  return errors.slice(0, max);
}

export interface JsonBody {
  json: unknown;
  /** The raw bytes, for the HMAC body hash and the idempotency payload hash. */
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Content-type check, size-limited read, JSON parse, then no string Postgres cannot store
 * (NUL, unpaired surrogates: 400 validation_failed naming each path): the body refusals in
 * order, all before any SQL.
 */
export async function readJsonBody(req: Request, limit = DEFAULT_BODY_LIMIT): Promise<Outcome<JsonBody>> {
  if (!isJsonContentType(req.headers.get("content-type"))) {
    await req.body?.cancel().catch(() => {});
    return refuse("unsupported_media_type", { detail: "Expected content-type: application/json" });
  }
  const read = await readBodyBytes(req, limit);
  if (!read.ok) return read;
  const parsed = parseJsonBytes(read.value);
  if (!parsed.ok) return parsed;
  const bad = unstorableStrings(parsed.value);
  if (bad.length > 0) {
    return refuse("validation_failed", { detail: `${bad.length} field${bad.length === 1 ? "" : "s"} failed validation`, errors: bad });
  }
  return accept({ json: parsed.value, bytes: read.value });
}
