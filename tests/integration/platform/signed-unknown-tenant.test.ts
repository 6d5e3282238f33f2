import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { expectProblem, portal } from "../../helpers/http.ts";
import { sql } from "../../helpers/db.ts";

/**
 * Issue 11, item 8: an HMAC-signed request naming a tenant that does not exist answered 500
 * (the nonce's foreign key on webhook_nonces). A global grant reaches only tenants that exist:
 * it is refused like a tenant the caller has no role in (403 forbidden, the catalogue's code),
 * which does not tell the caller whether the tenant exists.
 */
afterAll(() => sql.end());

const pickup = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);

describe("a signed request naming a nonexistent tenant", () => {
  it("is refused with a problem (403 forbidden), not a 500, on every machine door", async () => {
    const ghost = randomUUID();
    expect((await sql`select count(*)::int as n from public.tenants where id = ${ghost}`)[0].n).toBe(0);
    const cases = [
      { portal: "rates", action: "price_one", as: "agents", body: { origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup } },
      { portal: "crm", action: "lead_created", as: "n8n",
        body: { type: "lead.created", data: { page: "/pricing", utm: { source: "sweep" }, email: `ghost-${ghost.slice(0, 8)}@shipper.example`, name: "Ghost Lead" } } },
    ];
    for (const c of cases) {
      const r = await portal(c.portal).call(c.action, c.body, c.as, { tenant: ghost, idempotencyKey: randomUUID() });
      await expectProblem(r, 403, "forbidden", `${c.portal}/${c.action} as ${c.as}@ for tenant ${ghost}`);
    }
    // Nothing was written for the ghost tenant.
    const [rows] = await sql`select (select count(*) from public.webhook_nonces where tenant_id = ${ghost})::int
                                  + (select count(*) from public.outbox_events where tenant_id = ${ghost})::int as n`;
    expect(rows.n).toBe(0);
  });
});
