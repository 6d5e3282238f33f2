/**
 * The Admin portal over HTTP, as the admins of a tenant of this file's own, and the MFA policy
 * at the console: STOP works with an aal1 token, resume with aal1 is refused mfa_required and
 * works with aal2. Invites are single-use and their acceptance (the invitee's RPC, run here
 * as PostgREST would: role authenticated + the invitee's claims) grants exactly the invited
 * roles; a deactivated member's next request is refused; escalation and self-changes are
 * refused in Postgres; a javascript: logo URL is refused.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USERS, userJwt } from "../../helpers/auth.ts";
import { sql } from "../../helpers/db.ts";
import { fnUrl } from "../../helpers/env.ts";
import { expectProblem, postJson, readResult } from "../../helpers/http.ts";

const T = "a2600000-0000-4000-8000-0000000000f1";
let ada: string;
let ben: string;

const call = async (fn: string, body: unknown, user: string, aal: "aal1" | "aal2" = "aal2", tenant = T) =>
  readResult(await postJson(fnUrl(fn), body, await userJwt(user, { tenant, extra: { aal } })));

/** public.admin_accept_invite as the invitee (what supabase.rpc sends through PostgREST). */
const accept = (principal: string, token: string) =>
  sql.begin(async (tx) => {
    await tx`select set_config('role', 'authenticated', true),
                    set_config('request.jwt.claims', ${JSON.stringify({ sub: principal, role: "authenticated", tenant_id: T, aal: "aal1" })}, true)`;
    return await tx`select tenant_id, roles from public.admin_accept_invite(${token})`;
  });

beforeAll(async () => {
  await sql`insert into tenants (id, slug, name) values (${T}, 'admin-http-test', 'Admin HTTP Test') on conflict do nothing`;
  const staff = async (role: string) => {
    const [p] = await sql`insert into principals (kind, name) values ('human', ${`${role}-${randomUUID()}@admin-http.test`}) returning id`;
    await sql`insert into role_assignments (principal_id, role, tenant_id) values (${p.id}, ${role}, ${T})`;
    return p.id as string;
  };
  ada = await staff("tenant_admin");
  ben = await staff("tenant_admin");
});
afterAll(async () => {
  await sql.end();
});

describe("MFA policy at the console", () => {
  it("STOP with aal1 works; resume with aal1 is refused mfa_required, with aal2 it works", async () => {
    const console = (body: unknown, aal: "aal1" | "aal2") =>
      call("console/api/kill-switch", body, USERS.super, aal, "d0000000-0000-4000-8000-000000000001");
    try {
      const stop = await console({ engage: true, reason: "admin test: stop with aal1" }, "aal1");
      expect(stop.status, JSON.stringify(stop.body)).toBe(200);
      const refused = await console({ engage: false, reason: "admin test: resume with aal1" }, "aal1");
      await expectProblem(refused, 403, "mfa_required");
      expect((await sql`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`)[0].value).toBe("true");
    } finally {
      const resume = await console({ engage: false, reason: "admin test: resume with aal2" }, "aal2");
      expect(resume.status, JSON.stringify(resume.body)).toBe(200);
    }
    expect((await sql`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`)[0].value).toBe("false");
  });
});

describe("people and roles", () => {
  it("invite (aal2) -> accept once -> deactivate (next request refused) -> reactivate", async () => {
    const email = `dana-${randomUUID()}@admin-http.test`;
    await expectProblem(await call("admin/invite", { email, roles: ["tenant_admin"] }, ada, "aal1"), 403, "mfa_required");
    const inv = await call("admin/invite", { email, roles: ["tenant_admin"] }, ada);
    expect(inv.status, JSON.stringify(inv.body)).toBe(200);
    const { token, principal_id: dana } = inv.body.data;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(await sql`select * from outbox_events where trace_id = ${inv.body.trace_id}`)).not.toContain(token);

    expect(await accept(dana, token)).toEqual([{ tenant_id: T, roles: ["tenant_admin"] }]);
    await expect(accept(dana, token)).rejects.toMatchObject({ code: "SY263" }); // reused: invite_used

    const brand = { display_name: "Dana Co", logo_url: "https://cdn.example.com/dana.svg", primary_color: "#112233", accent_color: null };
    expect((await call("admin/branding_set", brand, dana, "aal1")).status).toBe(200);
    const off = await call("admin/deactivate", { principal_id: dana, reason: "left the company" }, ada);
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.data.roles).toEqual(["tenant_admin"]);
    await expectProblem(await call("admin/branding_set", brand, dana, "aal1"), 403, "forbidden", "the deactivated member's next request");
    expect((await call("admin/reactivate", { principal_id: dana }, ada)).body.data.roles).toEqual(["tenant_admin"]);
    expect((await call("admin/branding_set", brand, dana, "aal1")).status).toBe(200);
  });

  it("a role change to oneself and a global role are refused; a javascript: logo is refused", async () => {
    await expectProblem(await call("admin/set_roles", { principal_id: ada, roles: ["viewer"] }, ada), 403, "role_self_change");
    await expectProblem(await call("admin/set_roles", { principal_id: ben, roles: ["super_admin"] }, ada), 400, "validation_failed");
    await expectProblem(await call("admin/set_roles", { principal_id: ben, roles: ["ops_manager"] }, ada, "aal1"), 403, "mfa_required");
    const bad = await call("admin/branding_set", { display_name: "X", logo_url: "javascript:alert(1)", primary_color: null, accent_color: null }, ada);
    await expectProblem(bad, 400, "validation_failed");
    expect(JSON.stringify(bad.body)).toContain("logo_url");
  });

  it("a tenant secret is written, rotated, and never answered", async () => {
    const v1 = await call("admin/secret_put", { name: "stripe.key", value: "sk_test_admin_http_1" }, ada);
    const v2 = await call("admin/secret_put", { name: "stripe.key", value: "sk_test_admin_http_2", overlap_hours: 1 }, ada);
    expect([v1.body.data, v2.body.data]).toEqual([{ name: "stripe.key", version: 1 }, { name: "stripe.key", version: 2 }]);
    expect(JSON.stringify([v1.body, v2.body])).not.toContain("sk_test");
    const live = await sql`select version from app_private.admin_secret_values(${T}, 'stripe.key')`;
    expect(live.map((r) => r.version)).toEqual([2, 1]);
  });
});
