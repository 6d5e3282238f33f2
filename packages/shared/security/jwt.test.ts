import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { base64url, exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerToken, createJwtVerifier } from "./jwt.ts";

// Real crypto throughout: tokens are signed with jose and verified by the module under test.
const SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
const TENANT = "6b0b5c1e-8c3a-4c64-9d36-0c1f3c2a9e11";
const now = () => Math.floor(Date.now() / 1000);

const claims = (extra: JWTPayload = {}): JWTPayload => ({
  sub: "0b8f3f0e-3d7a-4c1e-9a55-6f1c8f9a2b10",
  role: "authenticated",
  aud: "authenticated",
  tenant_id: TENANT,
  principal_kind: "human",
  principal_name: "dispatcher@acme.test",
  email: "dispatcher@acme.test",
  ...extra,
});

async function hs256(payload: JWTPayload, exp: number = now() + 3600, secret = SECRET) {
  return await new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setIssuedAt()
    .setExpirationTime(exp).sign(new TextEncoder().encode(secret));
}

describe("bearerToken", () => {
  it("extracts the token of a Bearer header only", () => {
    expect(bearerToken("Bearer abc.def.ghi")).toBe("abc.def.ghi");
    expect(bearerToken("bearer   abc")).toBe("abc");
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeNull();
    expect(bearerToken(null)).toBeNull();
  });
});

describe("HS256 with the shared secret", () => {
  const verify = createJwtVerifier({ secret: SECRET, audience: "authenticated" });

  it("accepts a valid token and returns typed claims, extra claims kept", async () => {
    const r = await verify(`Bearer ${await hs256(claims())}`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ role: "authenticated", tenant_id: TENANT, principal_kind: "human", email: "dispatcher@acme.test" });
    expect(typeof r.value.exp).toBe("number");
  });

  it("lifts tenant_id from app_metadata but never from user_metadata", async () => {
    const base = claims({ tenant_id: undefined });
    const fromApp = await verify(`Bearer ${await hs256({ ...base, app_metadata: { tenant_id: TENANT } })}`);
    expect(fromApp.ok && fromApp.value.tenant_id).toBe(TENANT);
    const fromUser = await verify(`Bearer ${await hs256({ ...base, user_metadata: { tenant_id: TENANT } })}`);
    expect(fromUser.ok && fromUser.value.tenant_id).toBeUndefined();
  });

  it("distinguishes missing, expired and invalid", async () => {
    expect(await verify(null)).toMatchObject({ ok: false, code: "missing_authorization", problem: { status: 401 } });
    expect(await verify("")).toMatchObject({ code: "missing_authorization" });
    expect(await verify(`Bearer ${await hs256(claims(), now() - 60)}`)).toMatchObject({ ok: false, code: "jwt_expired", problem: { status: 401 } });
    expect(await verify(`Bearer ${await hs256(claims(), now() - 60, "another-secret-another-secret-another!")}`))
      .toMatchObject({ ok: false, code: "invalid_jwt" });
    expect(await verify("Bearer not-a-jwt")).toMatchObject({ code: "invalid_jwt" });
    expect(await verify("Basic dXNlcjpwYXNz")).toMatchObject({ code: "invalid_jwt" });
  });

  it("tolerates a few seconds of clock skew, not more", async () => {
    expect((await verify(`Bearer ${await hs256(claims(), now() - 2)}`)).ok).toBe(true);
    expect((await verify(`Bearer ${await hs256(claims(), now() - 30)}`)).ok).toBe(false);
  });

  it("refuses a forged token (payload edited after signing)", async () => {
    const [h, , s] = (await hs256(claims())).split(".");
    const forged = base64url.encode(JSON.stringify(claims({ tenant_id: "11111111-1111-1111-1111-111111111111", exp: now() + 60 })));
    expect(await verify(`Bearer ${h}.${forged}.${s}`)).toMatchObject({ code: "invalid_jwt" });
  });

  it("refuses alg none, asymmetric tokens without a key set, bad claims and wrong audience", async () => {
    const unsecured = new UnsecuredJWT(claims()).setExpirationTime(now() + 60).encode();
    expect(await verify(`Bearer ${unsecured}`)).toMatchObject({ code: "invalid_jwt" });
    const { privateKey } = await generateKeyPair("ES256");
    const es = await new SignJWT(claims()).setProtectedHeader({ alg: "ES256" }).setExpirationTime(now() + 60).sign(privateKey);
    expect(await verify(`Bearer ${es}`)).toMatchObject({ code: "invalid_jwt" });
    const badClaims = await verify(`Bearer ${await hs256(claims({ role: undefined, tenant_id: "acme" }))}`);
    expect(badClaims).toMatchObject({ code: "invalid_jwt" });
    expect(!badClaims.ok && badClaims.problem.detail).toBe("Token claims are invalid: role, tenant_id");
    expect(await verify(`Bearer ${await hs256(claims({ aud: "other" }))}`)).toMatchObject({ code: "invalid_jwt" });
  });

  it("treats the anon key as no authentication", async () => {
    const anon = await hs256({ role: "anon", iss: "supabase-demo" });
    expect(await verify(`Bearer ${anon}`)).toMatchObject({ code: "missing_authorization" });
  });
});

describe("asymmetric keys from a JWKS", () => {
  let server: Server;
  let jwksUrl: string;
  let es: Awaited<ReturnType<typeof generateKeyPair>>;
  let rs: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: { keys: object[] };

  beforeAll(async () => {
    es = await generateKeyPair("ES256");
    rs = await generateKeyPair("RS256");
    jwks = {
      keys: [
        { ...(await exportJWK(es.publicKey)), kid: "es-2026", alg: "ES256", use: "sig" },
        { ...(await exportJWK(rs.publicKey)), kid: "rs-2026", alg: "RS256", use: "sig" },
      ],
    };
    // A tiny local JWKS endpoint, as hosted Supabase serves at /auth/v1/.well-known/jwks.json.
    server = createServer((req, res) => {
      if (req.url !== "/auth/v1/.well-known/jwks.json") return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/v1/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (alg: "ES256" | "RS256", kid: string, key: CryptoKey, exp = now() + 600) =>
    new SignJWT(claims({ principal_kind: "machine", principal_name: "autopilot" })).setProtectedHeader({ alg, kid })
      .setIssuedAt().setExpirationTime(exp).sign(key);

  it("verifies ES256 and RS256 tokens against the remote JWKS URL", async () => {
    const verify = createJwtVerifier({ jwksUrl });
    const esResult = await verify(`Bearer ${await sign("ES256", "es-2026", es.privateKey)}`);
    expect(esResult).toMatchObject({ ok: true, value: { principal_kind: "machine", principal_name: "autopilot" } });
    expect((await verify(`Bearer ${await sign("RS256", "rs-2026", rs.privateKey)}`)).ok).toBe(true);
  });

  it("answers internal_error, not invalid_jwt, when the JWKS cannot be fetched", async () => {
    const down = createJwtVerifier({ jwksUrl: jwksUrl.replace("/auth/v1/", "/missing/") });
    expect(await down(`Bearer ${await sign("ES256", "es-2026", es.privateKey)}`)).toMatchObject({ ok: false, code: "internal_error" });
  });

  it("verifies against a local key set too", async () => {
    const verify = createJwtVerifier({ jwks: jwks as never });
    expect((await verify(`Bearer ${await sign("ES256", "es-2026", es.privateKey)}`)).ok).toBe(true);
  });

  it("refuses a token signed by a key not in the set, an unknown kid, and an expired one", async () => {
    const verify = createJwtVerifier({ jwksUrl, secret: SECRET });
    const intruder = await generateKeyPair("ES256");
    expect(await verify(`Bearer ${await sign("ES256", "es-2026", intruder.privateKey)}`)).toMatchObject({ code: "invalid_jwt" });
    expect(await verify(`Bearer ${await sign("ES256", "es-1999", intruder.privateKey)}`)).toMatchObject({ code: "invalid_jwt" });
    expect(await verify(`Bearer ${await sign("ES256", "es-2026", es.privateKey, now() - 120)}`)).toMatchObject({ code: "jwt_expired" });
    // Both sources configured: HS256 still works alongside the JWKS.
    expect((await verify(`Bearer ${await hs256(claims())}`)).ok).toBe(true);
  });
});
