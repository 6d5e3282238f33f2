import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { z } from "zod";
import { accept, type Outcome, refuse } from "../http/outcome.ts";

/**
 * Bearer JWT verification for human callers (and agents holding a JWT), the way Supabase
 * issues tokens: HS256 with the project's shared secret (the local stack, legacy hosted
 * projects) or asymmetric keys (RS256/ES256) published at the project's JWKS URL
 * (`https://<ref>.supabase.co/auth/v1/.well-known/jwks.json`). The token's `alg` picks the
 * key source, and each source is pinned to its algorithms, so an HS256 token can never be
 * checked against a public key (algorithm confusion) and `none` is never accepted.
 */

// not z.uuid(): seeded ids like 00000000-...-0001 are not RFC variants. Lower-cased: one
// spelling per tenant from the edge on (metrics keys, Live Feed subscribers, batches).
const guid = z.guid().transform((s) => s.toLowerCase());

/**
 * The claims Switchyard reads (the shape carried into Postgres as request.jwt.claims).
 * Other claims (email, app_role, session_id, ...) pass through untouched.
 * `tenant_id` may come top-level (custom access-token hook) or from `app_metadata`, which
 * only the service role can write; `user_metadata` is user-writable and never trusted.
 */
export const jwtClaimsSchema = z
  .looseObject({
    sub: z.string().min(1),
    role: z.string().min(1),
    exp: z.number().int(),
    iat: z.number().int().optional(),
    iss: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
    tenant_id: guid.optional(),
    principal_kind: z.enum(["human", "machine"]).optional(),
    principal_name: z.string().min(1).optional(),
    app_metadata: z.looseObject({ tenant_id: guid.optional() }).optional(),
    // Supabase Auth's session strength (aal1 | aal2 after MFA) and sign-in methods
    // ([{method: "password" | "totp" | "sso/saml" | ..., timestamp}]): the admin portal's MFA
    // and SSO policies read them in Postgres (sessionClaims carries them there).
    aal: z.string().max(8).optional(),
    amr: z.array(z.unknown()).max(16).optional(),
  })
  .transform((c) => ({ ...c, tenant_id: c.tenant_id ?? c.app_metadata?.tenant_id }));

export type JwtClaims = z.infer<typeof jwtClaimsSchema>;

/** The session claims carried into request.jwt.claims beside the identity (only when present). */
export function sessionClaims(c: { aal?: string; amr?: unknown[] }): { aal?: string; amr?: unknown[] } {
  return { ...(c.aal ? { aal: c.aal } : {}), ...(c.amr ? { amr: c.amr } : {}) };
}

export interface JwtVerifierConfig {
  /** HS256 shared secret (SWITCHYARD_JWT_SECRET locally). */
  secret?: string | Uint8Array;
  /** JWKS URL for RS256/ES256 tokens; keys are fetched once and cached by jose. */
  jwksUrl?: string | URL;
  /** A key set held in memory instead of a URL (offline, tests). */
  jwks?: JSONWebKeySet;
  issuer?: string | string[];
  audience?: string | string[];
  /** Leeway for exp/nbf/iat against clock skew between issuer and edge. Default 5 s. */
  clockToleranceSeconds?: number;
}

export type JwtVerifier = (authorization: string | null | undefined) => Promise<Outcome<JwtClaims>>;

const ASYMMETRIC_ALGS = ["RS256", "ES256"];

/** The token of an `Authorization: Bearer <token>` header; null for anything else. */
export function bearerToken(authorization: string | null | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
  return m ? m[1] : null;
}

export function createJwtVerifier(config: JwtVerifierConfig): JwtVerifier {
  const secret = typeof config.secret === "string" ? new TextEncoder().encode(config.secret) : config.secret;
  const keySet: JWTVerifyGetKey | undefined = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 3000, cooldownDuration: 30_000 })
    : config.jwks
    ? createLocalJWKSet(config.jwks)
    : undefined;
  // The audience is checked after the anon test below (the anon key carries no aud).
  const options = { issuer: config.issuer, clockTolerance: config.clockToleranceSeconds ?? 5 };
  const audiences = config.audience === undefined ? null : [config.audience].flat();

  return async (authorization) => {
    if (!authorization?.trim()) return refuse("missing_authorization", { detail: "Send a Bearer token in the Authorization header" });
    const token = bearerToken(authorization);
    if (!token) return refuse("invalid_jwt", { detail: "Authorization is not a Bearer token" });

    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      return refuse("invalid_jwt", { detail: "Token is not a JWT" });
    }

    let payload: unknown;
    try {
      if (alg === "HS256" && secret) {
        payload = (await jwtVerify(token, secret, { ...options, algorithms: ["HS256"] })).payload;
      } else if (alg && ASYMMETRIC_ALGS.includes(alg) && keySet) {
        payload = (await jwtVerify(token, keySet, { ...options, algorithms: ASYMMETRIC_ALGS })).payload;
      } else {
        return refuse("invalid_jwt", { detail: `Tokens signed with ${alg ?? "no algorithm"} are not accepted` });
      }
    } catch (e) {
      if (e instanceof errors.JWTExpired) return refuse("jwt_expired");
      // The key set could not be fetched: our outage, not a bad token (don't blame the caller).
      if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid || !(e instanceof errors.JOSEError) ||
        e.code === "ERR_JOSE_GENERIC") {
        return refuse("internal_error", { detail: "Token signing keys are unavailable" });
      }
      // Signature, claim (iss/aud/nbf) and key-lookup failures all mean: not a token we issued.
      return refuse("invalid_jwt", { detail: e instanceof errors.JOSEError ? e.code : "Token verification failed" });
    }

    // The anon key is a valid JWT that identifies the project, not a caller.
    if ((payload as { role?: unknown }).role === "anon") {
      return refuse("missing_authorization", { detail: "The anon key does not authenticate a user" });
    }
    if (audiences && ![(payload as { aud?: unknown }).aud].flat().some((a) => audiences.includes(a as string))) {
      return refuse("invalid_jwt", { detail: "Token audience is not accepted" });
    }
    const claims = jwtClaimsSchema.safeParse(payload);
    if (!claims.success) {
      const bad = claims.error.issues.map((i) => i.path.join(".")).join(", ");
      return refuse("invalid_jwt", { detail: `Token claims are invalid: ${bad}` });
    }
    return accept(claims.data);
  };
}
