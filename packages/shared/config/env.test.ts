import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./env.ts";

const DB = "postgresql://postgres:s3cr3t-pw@127.0.0.1:54322/postgres";
const from = (vars: Record<string, string>) => {
  const reads: string[] = [];
  const get = (k: string) => {
    reads.push(k);
    return vars[k];
  };
  return { get, reads };
};
const thrown = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
};

describe("loadConfig", () => {
  it("reads each variable once and returns a typed, frozen config", () => {
    const { get, reads } = from({ SUPABASE_DB_URL: DB, SWITCHYARD_JWT_SECRET: "k".repeat(64), SWITCHYARD_CORS_ORIGINS: "https://app.example.com, http://localhost:3000", UNRELATED: "x" });
    const c = loadConfig(get, ["jwt"]);
    expect(c).toEqual({ SUPABASE_DB_URL: DB, SWITCHYARD_JWT_SECRET: "k".repeat(64), SWITCHYARD_CORS_ORIGINS: "https://app.example.com, http://localhost:3000" });
    expect(Object.isFrozen(c)).toBe(true);
    expect(new Set(reads).size).toBe(reads.length);
    expect(reads).not.toContain("UNRELATED");
  });

  it("names the missing required variable", () => {
    expect(() => loadConfig(() => undefined)).toThrow(new ConfigError(["SUPABASE_DB_URL"], []));
    expect(thrown(() => loadConfig(() => undefined)).message).toBe("missing required environment: SUPABASE_DB_URL");
    expect(thrown(() => loadConfig(() => "  ")).missing).toEqual(["SUPABASE_DB_URL"]); // blank is unset
  });

  it("needs a JWT secret or a JWKS URL only where asked", () => {
    const { get } = from({ SUPABASE_DB_URL: DB });
    expect(loadConfig(get).SWITCHYARD_JWT_SECRET).toBeUndefined();
    expect(thrown(() => loadConfig(get, ["jwt"])).message).toBe("missing required environment: SWITCHYARD_JWT_SECRET or SWITCHYARD_JWKS_URL");
    expect(loadConfig(from({ SUPABASE_DB_URL: DB, SWITCHYARD_JWKS_URL: "https://ref.supabase.co/auth/v1/.well-known/jwks.json" }).get, ["jwt"]).SWITCHYARD_JWKS_URL)
      .toMatch(/jwks\.json$/);
    expect(thrown(() => loadConfig(get, ["jwtSecret", "SUPABASE_URL"])).missing).toEqual(["SWITCHYARD_JWT_SECRET", "SUPABASE_URL"]);
  });

  it("names every missing and invalid variable at once and never prints a value", () => {
    const e = thrown(() =>
      loadConfig(from({
        SUPABASE_DB_URL: "mysql://root:hunter2-pw@db/x",
        SWITCHYARD_JWKS_URL: "not a url hunter3",
        SWITCHYARD_CORS_ORIGINS: "https://ok.example.com,https://bad.example.com/path-hunter4",
        OTEL_EXPORTER_OTLP_ENDPOINT: "ftp://collector",
      }).get, ["jwtSecret"])
    );
    expect(e.message).toBe(
      "missing required environment: SWITCHYARD_JWT_SECRET; invalid environment: SUPABASE_DB_URL (not a postgres:// URL), " +
        "SWITCHYARD_JWKS_URL (not an http(s) URL), SWITCHYARD_CORS_ORIGINS (an entry is not a bare origin (scheme://host[:port]) or *), " +
        "OTEL_EXPORTER_OTLP_ENDPOINT (not an http(s) URL)",
    );
    for (const secret of ["hunter2", "hunter3", "hunter4", "ftp://collector", "mysql"]) expect(e.message).not.toContain(secret);
    expect(JSON.stringify(e)).not.toContain("hunter");
  });
});

describe("email settings (daily summary)", () => {
  const base = { SUPABASE_DB_URL: "postgres://u:p@127.0.0.1:5432/postgres" } as Record<string, string>;
  const load = (extra: Record<string, string>) => loadConfig((k) => ({ ...base, ...extra })[k]);
  it("takes an smtps:// URL (implicit TLS) and a recipient list; refuses smtp:// (STARTTLS / plain) by name", () => {
    expect(load({ SMTP_URL: "smtps://u:p@smtp.example:465", ALERT_EMAIL_TO: "a@x.example, b@x.example" }).SMTP_URL).toBe("smtps://u:p@smtp.example:465");
    expect(() => load({ SMTP_URL: "smtp://u:p@smtp.example:587" })).toThrow(/SMTP_URL \(not an smtps:\/\/ URL/);
    expect(() => load({ ALERT_EMAIL_TO: "not-an-address" })).toThrow(/ALERT_EMAIL_TO/);
    expect(load({ SMTP_HOST: "smtp.example", SMTP_PORT: "465" }).SMTP_PORT).toBe(465);
  });
});
