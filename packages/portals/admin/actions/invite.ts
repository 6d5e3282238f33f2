import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * admin/invite: a single-use, expiring invite (app_private.admin_invite: members.manage, aal2,
 * tenant roles only). The token is answered once; Postgres keeps its sha256.
 */
export const invite = defineAction(contract.actions.invite, {
  permission: "members.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d, ctx) => {
    const [r] = await tx`select invite_id, principal_id, token, expires_at
                         from app_private.admin_invite(${ctx.tenantId}, ${d.email}, ${d.roles}, make_interval(hours => ${d.ttl_hours}))`;
    const result = { invite_id: r.invite_id, principal_id: r.principal_id, token: r.token, expires_at: new Date(r.expires_at).toISOString() };
    return {
      writes: [],
      result,
      events: [{ type: "admin.member.invited", aggregateType: "member", aggregateId: r.principal_id,
                 payload: { invite_id: r.invite_id, principal_id: r.principal_id, roles: d.roles, expires_at: result.expires_at } }],
    };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select count(*)::int as n from public.admin_invites
                            where id = ${r.invite_id} and tenant_id = ${ctx.tenantId} and token_hash = extensions.digest(${r.token}, 'sha256')
                              and accepted_at is null and revoked_at is null`;
    return { ok: row.n === 1, detail: `invite ${r.invite_id} open, stored hashed` };
  },
});
