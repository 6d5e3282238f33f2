import { z } from "zod";
import { parseAllowedOrigins } from "../http/cors.ts";

/**
 * The environment every function and script reads, in one zod schema: read once at start
 * (`loadConfig(get)`), passed in as a typed, frozen object. A missing or malformed variable
 * fails at start naming the variable, never printing its value. An empty value is unset.
 */

const parsesAs = (ok: (u: URL) => boolean) => (v: string) => {
  try {
    return ok(new URL(v));
  } catch {
    return false;
  }
};
const httpUrl = z.string().refine(parsesAs((u) => u.protocol === "https:" || u.protocol === "http:"), "not an http(s) URL");
const secret = z.string();
const emailList = z.string().refine((v) => v.split(",").map((x) => x.trim()).filter(Boolean).every((x) => z.email().safeParse(x).success), "not a comma-separated list of email addresses");

const postgresUrl = z.string().refine(parsesAs((u) => u.protocol === "postgres:" || u.protocol === "postgresql:"), "not a postgres:// URL");

export const ENV_SCHEMA = z.object({
  /** The database (hosted: given to every function; locally: the stack's). */
  SUPABASE_DB_URL: postgresUrl,
  /** HS256 user tokens and the service key pg_cron sends. */
  SWITCHYARD_JWT_SECRET: secret.optional(),
  /** Asymmetric user tokens (`https://<ref>.supabase.co/auth/v1/.well-known/jwks.json`). */
  SWITCHYARD_JWKS_URL: httpUrl.optional(),
  /** Comma-separated browser origins allowed to call portals (or `*`). */
  SWITCHYARD_CORS_ORIGINS: z.string().refine((v) => {
    try {
      parseAllowedOrigins(v);
      return true;
    } catch {
      return false;
    }
  }, "an entry is not a bare origin (scheme://host[:port]) or *").optional(),
  /** Also export spans over OTLP/HTTP. */
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  /** Slack-compatible incoming webhook for alerts (else Vault's alert_webhook_url). */
  ALERT_WEBHOOK_URL: httpUrl.optional(),
  /**
   * Email for the daily summary: SMTP with implicit TLS only (hosted Edge Functions block
   * ports 25 and 587): `smtps://user:pass@host:465`, or SMTP_HOST / SMTP_PORT (465) /
   * SMTP_USER / SMTP_PASS. SMTP_FROM is the sender, ALERT_EMAIL_TO the recipients.
   */
  SMTP_URL: z.string().refine(parsesAs((u) => u.protocol === "smtps:" && u.hostname !== ""), "not an smtps:// URL (implicit TLS)").optional(),
  SMTP_HOST: z.string().regex(/^[A-Za-z0-9.\-:\[\]]+$/, "not a host name").optional(),
  SMTP_PORT: z.string().regex(/^\d{1,5}$/, "not a port").transform(Number).pipe(z.number().int().min(1).max(65535)).optional(),
  SMTP_USER: z.string().optional(),
  SMTP_PASS: secret.optional(),
  SMTP_FROM: z.string().max(320).optional(),
  /** A CA certificate (PEM) the SMTP client trusts in addition: a private CA, or the tests'. */
  SMTP_TLS_CA: z.string().refine((v) => v.includes("-----BEGIN CERTIFICATE-----"), "not a PEM certificate").optional(),
  ALERT_EMAIL_TO: emailList.optional(),
  /** Base of the trace links in alerts (default: the console function). */
  SWITCHYARD_CONSOLE_URL: httpUrl.optional(),
  /** The project's API URL, anon key and service key (the hosted platform gives them). */
  SUPABASE_URL: httpUrl.optional(),
  SUPABASE_ANON_KEY: secret.optional(),
  SUPABASE_SERVICE_ROLE_KEY: secret.optional(),
  /** Document bytes in this folder (local and test stacks); unset: Supabase Storage (packages/shared/documents/store.ts). */
  SWITCHYARD_STORAGE_DIR: z.string().min(1).optional(),
  /** The Supabase Storage bucket of the documents (hosted; default "documents", private). */
  SWITCHYARD_STORAGE_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,62}$/, "not a bucket name").optional(),
  /** The Live Feed: a stream ends by itself after this long (hosted wall-clock limit; default 120 s). */
  LIVE_FEED_MAX_STREAM_MS: z.string().regex(/^\d{4,9}$/, "a number of milliseconds (1000 or more)").transform(Number).optional(),
  /** The Live Feed's LISTEN connection (a session-mode URL; default: SUPABASE_DB_URL in session mode). */
  LIVE_FEED_LISTEN_DB_URL: postgresUrl.optional(),
});

export type EnvName = keyof typeof ENV_SCHEMA.shape;
export type Config = Readonly<z.infer<typeof ENV_SCHEMA>>;

/**
 * What a caller needs beyond SUPABASE_DB_URL (always required):
 *  - "jwt": it verifies user JWTs: SWITCHYARD_JWT_SECRET or SWITCHYARD_JWKS_URL;
 *  - "jwtSecret": it checks the HS256 service key (pg_cron's calls): SWITCHYARD_JWT_SECRET;
 *  - any variable name: that variable.
 */
export type Need = "jwt" | "jwtSecret" | EnvName;

/** Names every missing and invalid variable; carries no value. */
export class ConfigError extends Error {
  constructor(readonly missing: string[], readonly invalid: { name: string; reason: string }[]) {
    super([
      missing.length ? `missing required environment: ${missing.join(", ")}` : "",
      invalid.length ? `invalid environment: ${invalid.map((i) => `${i.name} (${i.reason})`).join(", ")}` : "",
    ].filter(Boolean).join("; "));
    this.name = "ConfigError";
  }
}

const NAMES = Object.keys(ENV_SCHEMA.shape) as EnvName[];

/** Reads every variable once through `get` (e.g. `(k) => Deno.env.get(k)`), validates, freezes. */
export function loadConfig(get: (name: string) => string | undefined, need: readonly Need[] = []): Config {
  const raw: Partial<Record<EnvName, string>> = {};
  for (const name of NAMES) {
    const v = get(name)?.trim();
    if (v) raw[name] = v;
  }
  const missing: string[] = [];
  const invalid: { name: string; reason: string }[] = [];
  const parsed = ENV_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]) as EnvName;
      // Our own reasons only: zod's default messages could quote the input.
      if (raw[name] === undefined) missing.push(name);
      else invalid.push({ name, reason: issue.code === "custom" ? issue.message : "invalid" });
    }
  }
  for (const n of need) {
    if (n === "jwt") {
      if (!raw.SWITCHYARD_JWT_SECRET && !raw.SWITCHYARD_JWKS_URL) missing.push("SWITCHYARD_JWT_SECRET or SWITCHYARD_JWKS_URL");
    } else {
      const name: EnvName = n === "jwtSecret" ? "SWITCHYARD_JWT_SECRET" : n;
      if (raw[name] === undefined && !missing.includes(name)) missing.push(name);
    }
  }
  if (missing.length || invalid.length) throw new ConfigError(missing, invalid);
  return Object.freeze(parsed.data!);
}
