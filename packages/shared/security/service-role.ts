import { jwtVerify } from "jose";
import { bearerToken } from "./jwt.ts";

/**
 * True for the project's service_role key (what pg_cron sends through Vault). That key names
 * no principal (no `sub`), so it is checked apart from user tokens: HS256 with the project
 * secret and role = service_role, nothing else.
 */
export async function isServiceRole(authorization: string | null, secret: string | undefined): Promise<boolean> {
  const token = bearerToken(authorization);
  if (!token || !secret) return false;
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), { algorithms: ["HS256"], clockTolerance: 5 });
    return payload.role === "service_role";
  } catch {
    return false;
  }
}
