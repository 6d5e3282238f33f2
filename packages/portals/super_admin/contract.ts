import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";

const reason = z.string().trim().min(3, "a reason of at least 3 characters is required").max(500);
const usd = z.number().min(0).max(10_000_000);

export interface Provisioned {
  tenant_id: string;
  admin_principal_id: string;
  /** Shown once: only its sha256 is kept (tenant_lifecycle). */
  invite_token: string;
  invite_expires_at: string;
  subscriptions: string[];
}
export interface Exported {
  tenant_id: string;
  sha256: string;
  rows: number;
  tables: number;
  export: Record<string, unknown[]>;
}

export const contract = defineContract("super_admin", {
  actions: {
    tenant_provision: action<Provisioned>()({
      input: z.strictObject({
        slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "lower-case letters, digits and dashes"),
        name: z.string().trim().min(1).max(200),
        admin_email: z.email(),
        portals: z.array(z.string().regex(/^[a-z_]+$/)).min(1).max(20),
        budget: z.strictObject({ daily_usd: usd.optional(), monthly_usd: usd.optional(), max_concurrent: z.number().int().min(0).max(100_000).optional() }).default({}),
        subscriptions: z.array(z.strictObject({
          name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,60}$/),
          endpoint_url: z.url({ protocol: /^https$/ }),
          event_filter: z.array(z.string().min(1).max(100)).min(1).max(50).default(["*"]),
        })).max(10).default([]),
      }),
      kind: "write",
      idempotency: "required",
    }),
    tenant_suspend: action<{ tenant_id: string; status: "suspended" | "active" }>()({
      input: z.strictObject({ tenant_id: z.guid(), suspend: z.boolean(), reason }),
      kind: "write",
    }),
    tenant_export: action<Exported>()({ input: z.strictObject({ tenant_id: z.guid() }), kind: "write" }),
    tenant_delete: action<{ tenant_id: string; deleted: true }>()({ input: z.strictObject({ tenant_id: z.guid() }), kind: "write" }),
  },
  events: ["super_admin.tenant.provisioned", "super_admin.tenant.suspended", "super_admin.tenant.resumed", "super_admin.tenant.exported", "super_admin.tenant.deleted"],
});
