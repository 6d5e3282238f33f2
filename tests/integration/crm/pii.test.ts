import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { DEMO_TENANT, machineKey, signedPost } from "../../helpers/auth.ts";
import { hex, rolledBack, sql } from "../../helpers/db.ts";
import { loadInstance } from "../../../scripts/stack/instance.ts";

// Issue 11 item 15: PII reaches neither the append-only audit log nor the outbox (nor spans
// or logs); the hourly guardrail scan covers audit and outbox.

const URL_ = `${fnUrl("webhooks")}?tenant=${DEMO_TENANT}`;
let key: { keyId: string; signingKey: string };

/** Byte offsets of the runtime and Postgres logs now: what a request adds is read after it. */
function logFiles(): string[] {
  const inst = loadInstance(stackEnv.name);
  if (!inst) return [];
  return [join(inst.stateDir, "runtime.log"), join(inst.dataDir, "..", "postgres.log")].filter((f) => existsSync(f));
}
const offsets = () => new Map(logFiles().map((f) => [f, statSync(f).size]));
const logTail = (from: Map<string, number>) =>
  logFiles().map((f) => readFileSync(f).subarray(from.get(f) ?? 0).toString("utf8")).join("\n");

beforeAll(async () => {
  key = await machineKey(sql, "n8n");
});
afterAll(() => sql.end());

describe("PII stays out of the audit log, the outbox, spans and logs", () => {
  it("a PII-laden website event leaves no email, name, phone, query value or token anywhere but crm_leads", async () => {
    const tag = hex(4);
    const email = `zelda.${tag}@shipper.example`;
    const name = `Zelda Quintanilla${tag}`;
    const phone = `+1 415 555 ${String(1000 + (parseInt(tag, 16) % 9000))}`;
    const token = `tok${hex(10)}`;
    const page = `/signup?email=${encodeURIComponent(email)}&token=${token}&ref=partner${tag}`;
    const utm = { source: "newsletter", campaign: "q4", content: `sent-to-${email}` };
    const from = offsets();
    const traces: string[] = [];
    for (const type of ["lead.created", "demo.requested"]) {
      const trace = hex(16);
      traces.push(trace);
      const res = await signedPost(URL_, { type, data: { page, utm, email, name, phone, company: "Acme Shippers" } }, key, {
        "webhook-id": `wh_${hex(8)}`,
        traceparent: `00-${trace}-00f067aa0ba902b7-01`,
      });
      expect(res.status, await res.clone().text()).toBe(200);
    }
    // The lead itself holds the PII (its one home, under RLS).
    const [lead] = await sql`select email, name, phone, stage from crm_leads where email = ${email}`;
    expect(lead).toMatchObject({ email, name, phone, stage: "demo_requested" });

    const needles = [email, name, phone, phone.replace(/\D/g, ""), token, `partner${tag}`, tag + "@"];
    const audit = await sql`select action, before::text as b, after::text as a, coalesce(reason, '') as r from audit_log
                            where trace_id in ${sql(traces)}`;
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(["crm_leads.insert", "crm_leads.update"]));
    const outbox = await sql`select payload::text as p from outbox_events where trace_id in ${sql(traces)}`;
    expect(outbox.length).toBe(3); // the two website events and crm.lead.created of the new lead
    const spans = await sql`select attributes::text as a, coalesce(status_message, '') as m from spans where trace_id in ${sql(traces)}`;
    const events = await sql`select page, utm::text as u, data::text as d from website_events where trace_id in ${sql(traces)}`;
    expect(events.length).toBe(2);
    // The URL keeps its path and query keys; the values are gone.
    expect(events[0].page).toMatch(/^\/signup\?email=[^&]*&token=[^&]*&ref=/);
    await new Promise((r) => setTimeout(r, 1500)); // spans and logs are written in batches
    const places: Record<string, string> = {
      audit: audit.map((r) => r.b + r.a + r.r).join("\n"),
      outbox: outbox.map((r) => r.p).join("\n"),
      spans: spans.map((r) => r.a + r.m).join("\n"),
      website_events: events.map((r) => r.page + r.u + r.d).join("\n"),
      logs: logTail(from),
    };
    const found = Object.entries(places).flatMap(([place, text]) => needles.filter((n) => text.includes(n)).map((n) => `${place}: ${n}`));
    expect(found).toEqual([]);
    // The audit still says what changed: the lead's stage.
    const update = audit.find((r) => r.action === "crm_leads.update")!;
    expect(JSON.parse(update.b).stage).toBe("new");
    expect(JSON.parse(update.a).stage).toBe("demo_requested");
  });

  it("flag reasons and free-text notes are redacted in the audit; dates and ids survive", async () => {
    const row = await rolledBack(async (tx) => {
      await tx`select set_config('app.reason', 'asked by maria.lopez@acme-freight.com, call +1 415 555 0199', true)`;
      await tx`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
               values ('budget.agents.floor', 'global', '1', 'per maria.lopez@acme-freight.com', 'test')
               on conflict (key, scope) do update set value = excluded.value, reason = excluded.reason`;
      const [c] = await tx`insert into rates_contracts (tenant_id, origin, destination, equipment, rate, valid_from, valid_to, notes)
                           values (${DEMO_TENANT}, '606', '752', 'van', '{"kind": "flat", "amount": 900}', '2026-01-01', '2026-12-31',
                                   'Attn: John Smith, john.smith@shipper.example, 312-555-0147, see https://portal.example/c?id=7&sig=abc')
                           returning id`;
      // deferred row audit: fire it now
      await tx`set constraints all immediate`;
      return tx`select action, after::text as a, coalesce(reason, '') as r from audit_log
                where (target_id = ${c.id} or target_id like 'budget.agents.floor@%') and occurred_at > now() - interval '1 minute'`;
    });
    const text = row.map((r) => r.a + r.r).join("\n");
    expect(row.length).toBeGreaterThanOrEqual(2);
    for (const pii of ["maria.lopez@", "555 0199", "john.smith@", "John Smith", "312-555-0147", "sig=abc", "id=7"]) expect(text).not.toContain(pii);
    expect(text).toContain("2026-01-01");
    expect(text).toContain("2026-12-31");
  });

  it("the hourly guardrail scan flags PII that reached the audit log or the outbox", async () => {
    const n = await rolledBack(async (tx) => {
      await tx`alter table public.audit_log disable trigger audit_chain`; // simulate a writer that skipped redaction
      await tx`insert into public.audit_log (tenant_id, db_user, action, after, prev_hash, hash, chain_id, chain_seq)
               values (${DEMO_TENANT}, 'leaky', 'leak.test', '{"note": "call maria.lopez@acme-freight.com"}', '\\x00', '\\x00', ${DEMO_TENANT}, -1)`;
      const [{ n }] = await tx`select ops.guardrail_scan() as n`;
      const alerts = await tx`select dedupe_key from public.alerts where source = 'guardrail.pii' and resolved_at is null`;
      return { n, keys: alerts.map((a) => a.dedupe_key) };
    });
    expect(n.keys).toContain("audit");
    expect(n.n).toBeGreaterThanOrEqual(1);
  });
});
