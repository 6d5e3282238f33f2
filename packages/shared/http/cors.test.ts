import { describe, expect, it } from "vitest";
import { applyCors, corsPolicy, isOriginAllowed, parseAllowedOrigins, withCors } from "./cors.ts";

const policy = corsPolicy("https://app.switchyard.dev, http://localhost:5173");
const URL_ = "http://127.0.0.1:54321/functions/v1/rates/price_one";

const preflight = (origin: string, requestHeaders = "authorization, content-type") =>
  new Request(URL_, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": requestHeaders,
    },
  });

describe("allowlist configuration", () => {
  it("normalises origins and fails closed when unset", () => {
    expect(parseAllowedOrigins("https://App.Switchyard.dev:443/ , http://localhost:5173"))
      .toEqual(new Set(["https://app.switchyard.dev", "http://localhost:5173"]));
    expect(parseAllowedOrigins(undefined)).toEqual(new Set());
    expect(parseAllowedOrigins("https://a.dev,*")).toBe("*");
  });

  it("throws on entries that are not bare origins", () => {
    expect(() => parseAllowedOrigins("https://app.dev/path")).toThrow(/not a bare origin/);
    expect(() => parseAllowedOrigins("app.dev")).toThrow();
  });

  it("matches exact origins only", () => {
    expect(isOriginAllowed("https://app.switchyard.dev", policy)).toBe(true);
    expect(isOriginAllowed("https://evil.switchyard.dev", policy)).toBe(false);
    expect(isOriginAllowed("http://app.switchyard.dev", policy)).toBe(false);
    expect(isOriginAllowed("null", policy)).toBe(false);
    expect(isOriginAllowed("https://anything.dev", corsPolicy("*"))).toBe(true);
  });
});

describe("applyCors", () => {
  it("answers an allowed preflight with 204 and the allowed methods and headers", () => {
    const d = applyCors(preflight("http://localhost:5173", "Authorization, Idempotency-Key, X-Switchyard-Tenant"), policy);
    expect(d.kind).toBe("preflight");
    if (d.kind !== "preflight") return;
    const h = d.response.headers;
    expect(d.response.status).toBe(204);
    expect(h.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(h.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    const allowed = h.get("access-control-allow-headers")!.split(", ");
    for (const name of ["authorization", "content-type", "idempotency-key", "traceparent", "apikey", "x-switchyard-signature", "x-switchyard-tenant"]) {
      expect(allowed).toContain(name);
    }
    expect(h.get("vary")).toContain("Origin");
    expect(h.get("access-control-max-age")).toBe("600");
  });

  it("refuses a disallowed origin without echoing it", async () => {
    for (const req of [preflight("https://evil.example"), new Request(URL_, { method: "POST", headers: { origin: "https://evil.example" } })]) {
      const d = applyCors(req, policy);
      expect(d.kind).toBe("refused");
      if (d.kind !== "refused") continue;
      expect(d.response.status).toBe(403);
      expect(d.response.headers.get("access-control-allow-origin")).toBeNull();
      expect(d.response.headers.get("vary")).toContain("Origin");
      const body = await d.response.text();
      expect(body).not.toContain("evil");
      expect(JSON.parse(body).code).toBe("origin_not_allowed");
    }
  });

  it("lets non-browser requests through with Vary only", () => {
    const d = applyCors(new Request(URL_, { method: "POST" }), policy);
    expect(d.kind).toBe("continue");
    if (d.kind !== "continue") return;
    expect(d.headers.get("access-control-allow-origin")).toBeNull();
    expect(d.headers.get("vary")).toBe("Origin");
  });

  it("adds allow-origin and exposed headers to an allowed actual response", async () => {
    const d = applyCors(new Request(URL_, { method: "POST", headers: { origin: "https://app.switchyard.dev" } }), policy);
    if (d.kind !== "continue") throw new Error(d.kind);
    const res = withCors(new Response("{}", { status: 201, headers: { vary: "Accept-Encoding", "x-a": "1" } }), d.headers);
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.switchyard.dev");
    expect(res.headers.get("access-control-expose-headers")).toContain("traceparent");
    expect(res.headers.get("vary")).toBe("Accept-Encoding, Origin");
    expect(res.headers.get("x-a")).toBe("1");
    expect(await res.text()).toBe("{}");
  });

  it("treats OPTIONS without Access-Control-Request-Method as an ordinary request", () => {
    expect(applyCors(new Request(URL_, { method: "OPTIONS" }), policy).kind).toBe("continue");
  });
});
