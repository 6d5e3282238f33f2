import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";
import { brandingSchema, TENANT_ROLES } from "./domain/policy.ts";

const principal = z.guid().transform((s) => s.toLowerCase());
const roles = z.array(z.enum(TENANT_ROLES)).min(1).max(8);
const reason = z.string().trim().min(3).max(500);

export interface Invite {
  invite_id: string;
  principal_id: string;
  /** Returned once: only its sha256 is stored. The invitee accepts it with public.admin_accept_invite. */
  token: string;
  expires_at: string;
}
export interface Member {
  principal_id: string;
  roles: string[];
}

/**
 * The Admin portal (tenant admins): people and their roles, the tenant's branding, SSO policy
 * and integration secrets. Role changes and the SSO policy need an aal2 session (MFA); Postgres
 * refuses escalation (global roles) and changes to one's own roles whatever the door.
 */
export const contract = defineContract("admin", {
  actions: {
    invite: action<Invite>()({
      input: z.strictObject({ email: z.email().max(254), roles, ttl_hours: z.number().int().min(1).max(720).default(72) }),
      kind: "write",
    }),
    set_roles: action<Member>()({ input: z.strictObject({ principal_id: principal, roles }), kind: "write" }),
    deactivate: action<Member>()({ input: z.strictObject({ principal_id: principal, reason }), kind: "write" }),
    reactivate: action<Member>()({ input: z.strictObject({ principal_id: principal }), kind: "write" }),
    branding_set: action<z.infer<typeof brandingSchema>>()({ input: brandingSchema, kind: "write" }),
    sso_set: action<{ sso_required: boolean }>()({
      input: z.strictObject({
        required: z.boolean(),
        provider: z.strictObject({
          protocol: z.enum(["saml", "oidc"]),
          entity_id: z.string().min(3).max(500),
          metadata_url: z.url({ protocol: /^https$/ }).max(2048),
          domains: z.array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/)).max(20).default([]),
        }).nullable(),
      }),
      kind: "write",
    }),
    /** Write-only: the answer names the version, never the value. */
    secret_put: action<{ name: string; version: number }>()({
      input: z.strictObject({
        name: z.string().regex(/^[a-z][a-z0-9_.-]{1,62}$/),
        value: z.string().min(8).max(8192),
        overlap_hours: z.number().int().min(0).max(720).default(24),
      }),
      kind: "write",
    }),
  },
  events: [
    "admin.member.invited", "admin.member.roles_changed", "admin.member.deactivated", "admin.member.reactivated",
    "admin.branding.updated", "admin.sso.updated", "admin.secret.rotated",
  ],
});
