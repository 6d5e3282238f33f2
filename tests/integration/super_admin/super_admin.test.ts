/**
 * The Super Admin portal: provisioning a tenant in one action (tenant, portal flags,
 * budgets, a first tenant_admin invite, a default subscription); only super_admin;
 * budgets: every agent action charges the cost ledger by the cost model, past the tenant's
 * ceiling agents@ is refused budget_exhausted while the tenant's human still works, an
 * outbound call is recorded; suspension refuses the tenant's writes (pgTAP covers every
 * door), export, and deletion only after the grace period.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { sql, withFlag } from "../../helpers/db.ts";
import { act } from "../../helpers/freight.ts";
import { expectProblem, portal } from "../../helpers/http.ts";

const slug = `sa-${randomBytes(3).toString("hex")}`;
let tenant: string;
let admin: string;

afterAll(async () => {
  await sql.end();
});

const provision = (as: string, body: Record<string, unknown>) =>
  portal("super_admin").call("tenant_provision", body, as, { idempotencyKey: randomBytes(8).toString("hex") });

describe("super admin", () => {
  it("provisions a tenant in one action; a tenant admin may not", async () => {
    const body = {
      slug, name: "Super Admin Test Co", admin_email: `admin@${slug}.test`, portals: ["directory", "broker"],
      budget: { daily_usd: 0.015, monthly_usd: 100 },
      subscriptions: [{ name: "erp", endpoint_url: "https://erp.example.com/hooks", event_filter: ["freight.*"] }],
    };
    await expectProblem(await provision("admin", body), 403, "forbidden");
    const r = await provision("super", body);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    ({ tenant_id: tenant, admin_principal_id: admin } = r.body.data);
    expect(r.body.data.invite_token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const [life] = await sql`select invite_token_sha256, invite_expires_at > now() + interval '6 days' as fresh from tenant_lifecycle where tenant_id = ${tenant}`;
    expect(life.invite_token_sha256).toBe((await sql`select encode(extensions.digest(${r.body.data.invite_token}, 'sha256'), 'hex') as h`)[0].h);
    expect(life.fresh).toBe(true);
    const flags = await sql`select scope, value from feature_flags_v2 where key = 'portal.enabled' and tenant_id = ${tenant} and value = 'true' order by scope`;
    expect(flags.map((f) => f.scope)).toEqual([`tenant:${tenant}:portal:broker`, `tenant:${tenant}:portal:directory`]);
    expect((await sql`select count(*)::int as n from feature_flags_v2 where key = 'portal.enabled' and tenant_id = ${tenant}`)[0].n).toBe(20);
    const [role] = await sql`select p.name, ra.role from role_assignments ra join principals p on p.id = ra.principal_id where ra.tenant_id = ${tenant}`;
    expect(role).toEqual({ name: `admin@${slug}.test`, role: "tenant_admin" });
    const [sub] = await sql`select s.event_filter, exists (select 1 from vault.decrypted_secrets v where v.name = s.secret_ref) as secret
                            from outbox_subscriptions s where s.tenant_id = ${tenant}`;
    expect(sub).toEqual({ event_filter: ["freight.*"], secret: true });
    // keep the relay from calling a host that is not there
    await sql`update outbox_subscriptions set enabled = false where tenant_id = ${tenant}`;
    await expectProblem(await provision("super", body), 409, "tenant_slug_taken");
  });

  it("charges every agent action; past the ceiling agents@ gets budget_exhausted, the tenant's human keeps working; outbound calls are recorded", async () => {
    const ok = await portal("directory").call("party_create", { kind: "carrier", name: "Agent Made Carrier" }, "agents", { tenant });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const [charge] = await sql`select category, amount_usd::float8 as usd, ref from cost_ledger where tenant_id = ${tenant} and category = 'agent_action'`;
    expect(charge).toMatchObject({ category: "agent_action", usd: 0.01 });
    // 0.01 spent of 0.015: the next agent action would pass the daily ceiling
    const refused = await expectProblem(await portal("directory").call("party_create", { kind: "carrier", name: "Second Agent Carrier" }, "agents", { tenant }), 503, "budget_exhausted");
    expect(refused.detail).toMatch(/agent work stops at budget\.cost\.dailyUSD 0\.015/);
    expect((await sql`select count(*)::int as n from parties where tenant_id = ${tenant}`)[0].n).toBe(1);
    const human = await act("directory", "party_create", { kind: "carrier", name: "Human Made Carrier" }, admin, tenant);
    expect(human.status, JSON.stringify(human.body)).toBe(200);
    expect((await sql`select count(*)::int as n from cost_ledger where tenant_id = ${tenant} and category = 'agent_action'`)[0].n).toBe(1);
    // an outbound call (a delivery attempt) is recorded at budget.cost.outboundCallUSD, never refused
    const [e] = await sql`select id, created_at from outbox_events where tenant_id = ${tenant} limit 1`;
    await sql`insert into outbox_deliveries (tenant_id, event_id, event_created_at, attempt, ok, status_code) values (${tenant}, ${e.id}, ${e.created_at}, 1, true, 200)`;
    const [out] = await sql`select amount_usd::float8 as usd from cost_ledger where tenant_id = ${tenant} and category = 'outbound_call'`;
    expect(out.usd).toBe(0.001);
  });

  it("suspends (writes refused, data kept), exports, and deletes only after the grace period", async () => {
    const s = await portal("super_admin").call("tenant_suspend", { tenant_id: tenant, suspend: true, reason: "contract ended" }, "super");
    expect(s.body.data).toEqual({ tenant_id: tenant, status: "suspended" });
    await expectProblem(await act("directory", "party_create", { kind: "carrier", name: "Too Late" }, admin, tenant), 403, "tenant_suspended");
    const early = await expectProblem(await portal("super_admin").call("tenant_delete", { tenant_id: tenant }, "super"), 409, "tenant_delete_refused");
    expect(early.detail).toMatch(/no export since its suspension/);
    const ex = await portal("super_admin").call("tenant_export", { tenant_id: tenant }, "super");
    expect(ex.status, JSON.stringify(ex.body).slice(0, 500)).toBe(200);
    expect(ex.body.data.export["public.parties"]).toHaveLength(2);
    expect(ex.body.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    const grace = await expectProblem(await portal("super_admin").call("tenant_delete", { tenant_id: tenant }, "super"), 409, "tenant_delete_refused");
    expect(grace.detail).toMatch(/may be deleted from/);
    await withFlag("superAdmin.deleteGraceDays", "global", "0", async () => {
      const del = await portal("super_admin").call("tenant_delete", { tenant_id: tenant }, "super");
      expect(del.status, JSON.stringify(del.body)).toBe(200);
    });
    expect((await sql`select count(*)::int as n from tenants where id = ${tenant}`)[0].n).toBe(0);
    expect((await sql`select count(*)::int as n from parties where tenant_id = ${tenant}`)[0].n).toBe(0);
    const [audit] = await sql`select before from audit_log where action = 'super_admin.tenant.deleted' and target_id = ${tenant}`;
    expect(audit.before).toMatchObject({ slug, export_sha256: ex.body.data.sha256 });
  });
});
