import { z } from "zod";

/** The roles a tenant admin hands out (Postgres refuses any other: role_escalation). */
export const TENANT_ROLES = ["tenant_admin", "ops_manager", "dispatcher", "finance_manager", "analyst", "developer", "viewer"] as const;

/**
 * An https URL a browser may load as an image: no other scheme (javascript:, data:, http:),
 * no credentials, no characters that break out of an attribute. Postgres' CHECK
 * (app_private.admin_https_url) is the authority; this answers early with a field path.
 */
export function isSafeHttpsUrl(s: string): boolean {
  if (s.length > 2048 || /[\s"'<>\\`]/.test(s)) return false;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  return u.protocol === "https:" && !u.username && !u.password && /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/|$)/.test(s);
}

const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, "A #rrggbb colour");
export const brandingSchema = z.strictObject({
  display_name: z.string().trim().min(1).max(80).regex(/^[^<>"`\\{}]*$/, "Plain text: no markup characters"),
  logo_url: z.string().refine(isSafeHttpsUrl, "An https URL (no credentials, no script)").nullable(),
  primary_color: color.nullable(),
  accent_color: color.nullable(),
});
