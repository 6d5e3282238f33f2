import { describe, expect, it } from "vitest";
import { z } from "zod";
import { accept, refuse } from "./outcome.ts";
import { PROBLEM_CONTENT_TYPE } from "./problem.ts";
import { CATALOGUE, type ProblemCode, problemEntry } from "./catalogue.ts";
import { fieldErrors, problemFor, refusal, refusalResponse, validationProblem } from "./problems.ts";

const problemCodes = (Object.keys(CATALOGUE) as (keyof typeof CATALOGUE)[]).filter((c) => !("as" in CATALOGUE[c])) as ProblemCode[];

describe("problem catalogue", () => {
  it("gives every code a stable type URL, status and title", () => {
    for (const code of problemCodes) {
      const { status, title } = problemEntry(code);
      const p = problemFor(code);
      expect(p).toMatchObject({ code, status, title, type: `https://switchyard.dev/problems/${code}` });
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });

  it("uses the statuses the pipeline relies on", () => {
    const statuses = Object.fromEntries(problemCodes.map((c) => [c, problemEntry(c).status]));
    expect(statuses).toMatchObject({
      malformed_json: 400,
      validation_failed: 400,
      idempotency_key_missing: 400,
      missing_authorization: 401,
      invalid_jwt: 401,
      jwt_expired: 401,
      nonce_reused: 401,
      forbidden: 403,
      tenant_mismatch: 403,
      idempotency_in_flight: 409,
      payload_too_large: 413,
      unsupported_media_type: 415,
      idempotency_conflict: 422,
      rate_limited: 429,
      autonomy_halted: 503,
      mode_read_only: 503,
      portal_disabled: 403,
      budget_exhausted: 503,
    });
  });

  it("redacts PII in extensions", () => {
    const p = problemFor("forbidden", { detail: "user dana@acme.com lacks rates.write", contact: "Dana W" });
    expect(JSON.stringify(p)).not.toContain("dana@acme.com");
    expect(JSON.stringify(p)).not.toContain("Dana W");
    expect(p.detail).toBe("user [REDACTED:email] lacks rates.write");
  });
});

describe("validationProblem", () => {
  const schema = z.object({
    origin: z.string().regex(/^\d{5}$/),
    destination: z.string(),
    equipment: z.enum(["van", "reefer", "flatbed"]),
    stops: z.array(z.object({ zip: z.string() })),
  });

  it("names every bad field, nested and indexed", () => {
    const r = schema.safeParse({ origin: "6060", equipment: "tanker", stops: [{ zip: "1" }, {}] });
    expect(r.success).toBe(false);
    const p = validationProblem(r.error!);
    expect(p.status).toBe(400);
    expect(p.code).toBe("validation_failed");
    expect((p.errors as { path: string }[]).map((e) => e.path)).toEqual([
      "origin",
      "destination",
      "equipment",
      "stops.1.zip",
    ]);
    expect(p.detail).toBe("4 fields failed validation");
  });

  it("reports a root-level issue with an empty path", () => {
    const r = z.object({}).safeParse("nope");
    expect(fieldErrors(r.error!)).toEqual([{ path: "", message: expect.any(String) }]);
  });
});

describe("refusalResponse", () => {
  it("sets problem+json and Retry-After from retry_after", async () => {
    const res = refusal("rate_limited", { retry_after: 12.2 });
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
    expect(res.headers.get("retry-after")).toBe("13");
    expect(await res.json()).toMatchObject({ code: "rate_limited", retry_after: 12.2 });
  });

  it("sends the catalogue's Retry-After for the stop and read-only mode unless the refusal names its own", () => {
    expect(refusal("autonomy_halted").headers.get("retry-after")).toBe("60");
    expect(refusal("mode_read_only").headers.get("retry-after")).toBe("60");
    expect(refusal("autonomy_halted", { retry_after: 5 }).headers.get("retry-after")).toBe("5");
    expect(refusal("portal_disabled").headers.get("retry-after")).toBeNull();
  });

  it("sets Allow on 405 and WWW-Authenticate on 401", () => {
    expect(refusal("method_not_allowed", { allow: ["POST", "OPTIONS"] }).headers.get("allow")).toBe("POST, OPTIONS");
    expect(refusal("missing_authorization").headers.get("www-authenticate")).toBe("Bearer");
    expect(refusal("jwt_expired").headers.get("www-authenticate")).toBe(`Bearer error="invalid_token"`);
    expect(refusal("nonce_reused").headers.get("www-authenticate")).toBe(`Switchyard-HMAC-v2 error="nonce_reused"`);
    expect(refusalResponse(problemFor("forbidden"), { "x-a": "1" }).headers.get("x-a")).toBe("1");
  });
});

describe("outcome", () => {
  it("wraps values and refusals", () => {
    expect(accept(3)).toEqual({ ok: true, value: 3 });
    const r = refuse("not_found", { detail: "no quote" });
    expect(r).toMatchObject({ ok: false, code: "not_found", problem: { status: 404, detail: "no quote" } });
  });
});
