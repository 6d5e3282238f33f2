import { SignJWT } from "jose";
import postgres from "postgres";
import { sha256Hex } from "../../packages/shared/util/encoding.ts";
import { signRequest } from "../../packages/shared/security/hmac.ts";
import { stackEnv } from "./env.ts";

/** Seeded demo tenant and users (supabase/seed.sql). */
export const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
export const USERS = {
  super: "e0000000-0000-4000-8000-000000000001",
  admin: "e0000000-0000-4000-8000-000000000002",
  ops: "e0000000-0000-4000-8000-000000000003",
  dispatcher: "e0000000-0000-4000-8000-000000000004",
  viewer: "e0000000-0000-4000-8000-000000000008",
} as const;

/** A user's access token, signed like the project's auth would (HS256, local secret). */
export function userJwt(sub: string, opts: { tenant?: string; expiresIn?: string | number; secret?: string; extra?: Record<string, unknown> } = {}) {
  // aal2: the session passed MFA (role and flag changes need it); tests of the MFA policy pass extra { aal: "aal1" }
  return new SignJWT({ role: "authenticated", tenant_id: opts.tenant ?? DEMO_TENANT, principal_kind: "human", aal: "aal2", ...opts.extra })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? "1h")
    .sign(new TextEncoder().encode(opts.secret ?? stackEnv.jwtSecret));
}

/**
 * Issues a live key for a service account; returns its id and HMAC signing key. n8n is
 * tenant-bound: its keys serve `tenants` (default the demo tenant); the platform accounts'
 * keys are global unless `tenants` narrows them.
 */
export async function machineKey(sql: postgres.Sql, account: string, tenants?: string[]) {
  const serves = tenants ?? (account === "n8n" ? [DEMO_TENANT] : null);
  const [k] = await sql`select key_id, secret from ops.issue_service_key(${account}, 90, 'service', ${serves}::uuid[])`;
  return { keyId: k.key_id as string, signingKey: await sha256Hex(k.secret as string) };
}

/** A request signed with HMAC v2 by a service account key. */
export async function signedPost(url: string, body: unknown, key: { keyId: string; signingKey: string }, headers: Record<string, string> = {}) {
  const raw = JSON.stringify(body);
  const sig = await signRequest({ keyId: key.keyId, secret: key.signingKey, method: "POST", url, body: raw });
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...sig, ...headers }, body: raw });
}
