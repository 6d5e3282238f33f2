import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fnUrl } from "../../helpers/env.ts";
import { DEMO_TENANT, machineKey, signedPost } from "../../helpers/auth.ts";
import { hex, sql } from "../../helpers/db.ts";

// Issue 11 item 20: roi.calculated and checkout.started link to the lead of their email.
const URL_ = `${fnUrl("webhooks")}?tenant=${DEMO_TENANT}`;
let key: { keyId: string; signingKey: string };

beforeAll(async () => {
  key = await machineKey(sql, "n8n");
});
afterAll(() => sql.end());

async function send(body: unknown): Promise<string> {
  const res = await signedPost(URL_, body, key, { "webhook-id": `wh_${hex(8)}` });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()).data.event_id;
}

describe("website events link to their lead", () => {
  it("roi.calculated and checkout.started with the lead's email carry its lead id and email hash", async () => {
    const email = `link-${hex(4)}@shipper.example`;
    await send({ type: "lead.created", data: { page: "/pricing", email, name: "Lee Link" } });
    const [lead] = await sql`select id, email_sha256 from crm_leads where email = ${email}`;
    const roi = await send({ type: "roi.calculated", data: { page: "/roi", email: email.toUpperCase(), inputs: { loads_per_month: 40, avg_rate_usd: 2000 }, result: { monthly_savings_usd: 900 } } });
    const checkout = await send({ type: "checkout.started", data: { page: "/checkout", email, plan: "growth", seats: 3 } });
    const rows = await sql`select id, event_type, lead_id, email_sha256 from website_events where id in ${sql([roi, checkout])} order by event_type`;
    expect(rows).toEqual([
      { id: checkout, event_type: "checkout.started", lead_id: lead.id, email_sha256: lead.email_sha256 },
      { id: roi, event_type: "roi.calculated", lead_id: lead.id, email_sha256: lead.email_sha256 },
    ]);
    // No PII went along, and the lead's stage did not move.
    const [after] = await sql`select stage from crm_leads where id = ${lead.id}`;
    expect(after.stage).toBe("new");
  });
});
