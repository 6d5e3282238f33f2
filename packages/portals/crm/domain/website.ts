import { jsonb } from "../../../shared/db/client.ts";
import { type ActPlan, type ActionContext, defineAction } from "../../../shared/pipeline/action.ts";
import { sha256Hex } from "../../../shared/util/encoding.ts";
import { redactPath, redactText } from "../../../shared/observability/redact.ts";
import type { Tx } from "../../../shared/db/client.ts";
import type { ActionContract } from "../../../shared/pipeline/contract.ts";
import type { z } from "zod";

interface Decided {
  id: string;
  type: string;
  page: string;
  utm: Record<string, string | undefined>;
  data: Record<string, unknown>;
  /** The event's email, hashed: links every event type to its lead (no PII). */
  email_sha256: string | null;
  lead: { email: string; email_sha256: string; name?: string; company?: string; phone?: string; stage: string } | null;
}

/** The writes every website event shares: its row, the lead (if any) and the outbox event. */
function plan(tx: Tx, d: Decided, ctx: ActionContext, webhookId: string): ActPlan<{ event_id: string }> {
  const writes: PromiseLike<unknown>[] = [];
  if (d.lead) {
    // One lead per email: a later event updates it (and can only move the stage forward).
    writes.push(tx`
      insert into public.crm_leads (id, tenant_id, email, email_sha256, name, company, phone, stage, utm)
      values (${crypto.randomUUID()}, ${ctx.tenantId}, ${d.lead.email}, ${d.lead.email_sha256}, ${d.lead.name ?? null},
              ${d.lead.company ?? null}, ${d.lead.phone ?? null}, ${d.lead.stage}, ${jsonb(tx, d.utm)})
      on conflict on constraint crm_leads_email do update set
        name = coalesce(excluded.name, crm_leads.name), company = coalesce(excluded.company, crm_leads.company),
        stage = case when crm_leads.stage = 'new' then excluded.stage else crm_leads.stage end, updated_at = now()`);
  }
  writes.push(tx`
    insert into public.website_events (id, tenant_id, webhook_id, event_type, page, utm, data, email_sha256, lead_id, trace_id)
    values (${d.id}, ${ctx.tenantId}, ${webhookId}, ${d.type}, ${d.page}, ${jsonb(tx, d.utm)}, ${jsonb(tx, d.data)},
            ${d.email_sha256},
            (select id from public.crm_leads where tenant_id = ${ctx.tenantId} and email_sha256 = ${d.email_sha256 ?? ""}),
            ${ctx.traceId})`);
  return {
    writes,
    result: { event_id: d.id },
    events: [{
      type: `website.${d.type}`,
      aggregateType: "website_visitor",
      aggregateId: d.email_sha256 ?? d.id,
      payload: { website_event_id: d.id, type: d.type, page: d.page, utm: d.utm, ...d.data, email_sha256: d.email_sha256 },
    }],
  };
}

async function emailHash(email: string | undefined) {
  return email ? await sha256Hex(email.trim().toLowerCase()) : null;
}

/** One action per event type; all share detect (the email's hash), prove and the writes above. */
export function websiteAction<S extends z.ZodType<{ type: string; data: { page: string; utm: Record<string, string | undefined> } & Record<string, unknown> }>>(
  entry: ActionContract<S, { event_id: string }>,
  /** The lead stage the event sets (null: the event creates no lead). */
  stage: string | null,
) {
  return defineAction(entry, {
    permission: "domain.write",
    detect: async (_tx, input) => ({ email_sha256: await emailHash(input.data.email as string | undefined) }),
    decide: (input, facts) => {
      const { page, utm, email, name, company, phone, ...rest } = input.data as Record<string, unknown> & { page: string; utm: Record<string, string | undefined> };
      return {
        id: crypto.randomUUID(),
        type: input.type,
        // The page's query and the UTM values are the visitor's input (`/signup?email=...`):
        // stored and published without their values (charter §9; PII lives only in crm_leads).
        page: redactPath(page),
        utm: Object.fromEntries(Object.entries(utm).map(([k, v]) => [k, v === undefined ? v : redactText(v)])),
        data: { ...rest, ...(company && !stage ? { company } : {}) },
        email_sha256: facts.email_sha256,
        lead: stage && facts.email_sha256
          ? { email: String(email), email_sha256: facts.email_sha256, name: name as string | undefined, company: company as string | undefined, phone: phone as string | undefined, stage }
          : null,
      } satisfies Decided;
    },
    // The webhook id is the idempotency key (required), so a redelivery writes nothing new.
    act: (tx, d, ctx) => plan(tx, d, ctx, ctx.idempotencyKey!),
    prove: async (sql, r, ctx) => {
      const [row] = await sql`select 1 from public.website_events where id = ${r.event_id} and tenant_id = ${ctx.tenantId}`;
      return { ok: !!row, detail: row ? `website event ${r.event_id} stored` : `website event ${r.event_id} missing` };
    },
  });
}
