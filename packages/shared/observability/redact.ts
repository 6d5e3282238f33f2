/**
 * PII redaction for logs, span attributes and error bodies (charter §9: "PII redaction in
 * logs/spans (email/name/URL masked)"). Two layers:
 *  - by key: values under secret-ish keys (token, password, authorization, signature, ...),
 *    person-name keys (name, firstName, driverName, contact, ...) and phone keys are masked
 *    whole, whatever they look like;
 *  - by shape: inside any string, emails, JWTs, Bearer tokens, `secret=...` pairs, phone
 *    numbers, URL query strings/fragments/userinfo and cue-introduced names ("driver Maria
 *    Lopez", "Attn: John Smith") are masked.
 * Redaction returns a copy and never mutates its input. Over-redaction is the safe failure.
 */

export const MASK = {
  secret: "[REDACTED]",
  email: "[REDACTED:email]",
  name: "[REDACTED:name]",
  phone: "[REDACTED:phone]",
  token: "[REDACTED:token]",
  query: "[REDACTED]",
} as const;

const MAX_DEPTH = 32;

// Keys compared lowercased with every non-alphanumeric removed: "x-api-key" -> "xapikey".
const normalizeKey = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, "");

const SECRET_KEY_PARTS = [
  "token",
  "secret",
  "password",
  "passwd",
  "passphrase",
  "apikey",
  "authorization",
  "cookie",
  "signature",
  "privatekey",
  "credential",
  "sessionid",
  "jwt",
];
const PHONE_KEY_PARTS = ["phone", "mobile", "fax", "telephone", "cellnumber"];
// Keys ending in one of these hold a person ("consignee_contact", "driver", "signedBy").
const PERSON_KEY_ENDINGS = [
  "name",
  "contact",
  "driver", // layout: not a portal name (a person's key / cue)
  "surname",
  "attn",
  "attention",
  "signedby",
  "recipient",
  "consignee",
];
// A key ending in "name" names a person unless it names a technical thing.
const TECHNICAL_NAME_KEYS = new Set([
  "hostname",
  "filename",
  "pathname",
  "tablename",
  "columnname",
  "schemaname",
  "servicename",
  "spanname",
  "eventname",
  "actionname",
  "portalname",
  "keyname",
  "typename",
  "classname",
  "functionname",
  "methodname",
  "routename",
  "queuename",
  "flagname",
  "equipmentname",
  "statename",
  "cityname",
  "regionname",
  "countryname",
  "lanename",
  "sourcename",
  "indexname",
  "rolename",
]);

type KeyKind = "secret" | "phone" | "name" | null;

function classifyKey(key: string): KeyKind {
  const k = normalizeKey(key);
  if (SECRET_KEY_PARTS.some((part) => k.includes(part))) return "secret";
  if (PHONE_KEY_PARTS.some((part) => k.includes(part))) return "phone";
  if (PERSON_KEY_ENDINGS.some((end) => k.endsWith(end)) && !TECHNICAL_NAME_KEYS.has(k)) {
    return "name";
  }
  return null;
}

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
// `password=hunter2`, `api_key: abc`, `"token":"abc"` inside free text (e.g. a logged body).
const SECRET_PAIR =
  /\b((?:access_|refresh_|id_)?token|secret|client_secret|password|passwd|api[_-]?key|apikey|signature|authorization)("?\s*[:=]\s*"?)([^\s",;&]+)/gi;
// http(s) URLs: userinfo, query and fragment are masked; scheme, host and path stay.
const URL_LIKE = /\bhttps?:\/\/[^\s"'<>]+/gi;
const URL_PARTS = /^(https?:\/\/)([^/?#]*@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i;
// E.164 (+ and 8-15 digits) or US numbers written with separators; a bare 10-digit run is
// left alone because it is as likely a unix timestamp or an id.
const PHONE =
  /(?<![\w+])(?:\+\d{8,15}|(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4})(?!\w)/g;
// A capitalised "Name Surname" is only taken for a name when a cue introduces it: free text
// is full of capitalised pairs ("Beverly Hills", "Dry Van") that must survive. The cue is
// case-insensitive on its first letter only, so the name part stays case-sensitive.
const NAME_CUES = [
  "driver", // layout: not a portal name (a person's key / cue)
  "contact",
  "dispatcher",
  "consignee",
  "name",
  "attn",
  "attention",
  "signed by",
  "received by",
  "mr",
  "mrs",
  "ms",
  "dr",
].map((cue) => `[${cue[0]}${cue[0].toUpperCase()}]${cue.slice(1)}`);
const CUED_NAME = new RegExp(
  `\\b((?:${NAME_CUES.join("|")})\\.?:?\\s+)([A-Z][a-z'’-]+(?:\\s+[A-Z]\\.)?(?:\\s+[A-Z][a-z'’-]+)+)`,
  "g",
);

function maskUrl(raw: string): string {
  // Trailing punctuation belongs to the sentence, not the URL.
  const trail = raw.match(/[.,;:!?)\]]+$/)?.[0] ?? "";
  const m = (trail ? raw.slice(0, -trail.length) : raw).match(URL_PARTS);
  if (!m) return MASK.query + trail;
  const [, scheme, userinfo, host, path, query, fragment] = m;
  return scheme + (userinfo ? `${MASK.secret}@` : "") + host + path +
    (query ? `?${MASK.query}` : "") + (fragment ? `#${MASK.query}` : "") + trail;
}

/** Masks PII and secrets inside one string. */
export function redactText(text: string): string {
  return text
    .replace(URL_LIKE, maskUrl)
    .replace(JWT, MASK.token)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${MASK.token}`)
    .replace(SECRET_PAIR, (_m, key: string, sep: string) => `${key}${sep}${MASK.secret}`)
    .replace(EMAIL, MASK.email)
    .replace(PHONE, MASK.phone)
    .replace(CUED_NAME, (_m, cue: string) => `${cue}${MASK.name}`);
}

/**
 * A site path as it may be stored or published (`/signup?email=...&token=...`): the path
 * stays (shape-redacted), each query parameter keeps its key and loses its value, a fragment
 * is masked. For the page field of website events, where the query is the visitor's input.
 */
export function redactPath(path: string): string {
  const hash = path.indexOf("#");
  const beforeHash = hash >= 0 ? path.slice(0, hash) : path;
  const q = beforeHash.indexOf("?");
  const base = redactText(q >= 0 ? beforeHash.slice(0, q) : beforeHash);
  const query = q >= 0
    ? "?" + beforeHash.slice(q + 1).split("&").map((pair) => {
      const eq = pair.indexOf("=");
      return eq < 0 ? redactText(pair) : `${redactText(pair.slice(0, eq))}=${eq < pair.length - 1 ? MASK.query : ""}`;
    }).join("&")
    : "";
  return base + query + (hash >= 0 ? `#${MASK.query}` : "");
}

function redactEntry(key: string, value: unknown, depth: number, seen: WeakSet<object>) {
  const kind = classifyKey(key);
  if (kind === null || value === null || value === undefined || value === "") {
    return redactValue(value, depth, seen);
  }
  if (kind === "secret") return MASK.secret; // whole subtree, whatever its shape
  if (typeof value === "object") return redactValue(value, depth, seen); // driver: {name, phone}
  return kind === "phone" ? MASK.phone : MASK.name;
}

function redactValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[Truncated]";
  if (seen.has(value)) return "[Circular]";
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof Error) return { name: value.name, message: redactText(value.message) };
  seen.add(value); // ancestors only (removed below): shared, non-circular refs are fine
  try {
    if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = redactEntry(key, v, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Returns a redacted deep copy of `value` (objects, arrays, strings; other primitives pass
 * through). Suitable for pino's `formatters.log`, span attributes and problem bodies.
 */
export function redact<T>(value: T): T {
  return redactValue(value, 0, new WeakSet()) as T;
}
