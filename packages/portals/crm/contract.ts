import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";

/** UTM capture (charter §5): the five standard parameters, as the site saw them. */
const utm = z.strictObject({
  source: z.string().max(200).optional(),
  medium: z.string().max(200).optional(),
  campaign: z.string().max(200).optional(),
  term: z.string().max(200).optional(),
  content: z.string().max(200).optional(),
}).default({});
const page = z.string().regex(/^\/[\x21-\x7e]{0,300}$/, "A site path like /pricing");
const envelope = <T extends string, D extends z.ZodRawShape>(type: T, data: D) =>
  z.strictObject({ type: z.literal(type), occurred_at: z.iso.datetime().optional(), data: z.strictObject({ page, utm, ...data }) });

const person = { email: z.email().max(254), name: z.string().trim().min(1).max(200).optional(), company: z.string().trim().max(200).optional(), phone: z.string().max(40).optional() };

/** A website event: POSTed by n8n, signed (HMAC v2), `webhook-id` as its idempotency key. */
const websiteEvent = <T extends string, D extends z.ZodRawShape>(type: T, data: D) =>
  action<{ event_id: string }>()({ input: envelope(type, data), kind: "write", eventType: type, idempotency: "required" });

/**
 * The CRM portal's contract: the website's four events (charter §5), served by the platform
 * function `webhooks` (POST /functions/v1/webhooks?tenant=<uuid>, the body's `type` names
 * the action), and n8n's checkout callback. Leads land in crm_leads, every event in website_events.
 */
export const contract = defineContract("crm", {
  fn: "webhooks",
  actions: {
    lead_created: websiteEvent("lead.created", person),
    demo_requested: websiteEvent("demo.requested", { ...person, preferred_date: z.iso.date().optional() }),
    roi_calculated: websiteEvent("roi.calculated", {
      email: z.email().max(254).optional(),
      inputs: z.strictObject({ loads_per_month: z.number().int().min(0).max(1_000_000), avg_rate_usd: z.number().min(0).max(100_000), team_size: z.number().int().min(0).max(100_000).optional() }),
      result: z.strictObject({ monthly_savings_usd: z.number().min(0), payback_months: z.number().min(0).optional() }),
    }),
    checkout_started: websiteEvent("checkout.started", {
      email: z.email().max(254).optional(),
      plan: z.enum(["starter", "growth", "enterprise"]),
      seats: z.number().int().min(1).max(100_000),
      currency: z.enum(["USD", "CAD"]).default("USD"),
    }),
    // n8n's callback (n8n/checkout.json): the Stripe Checkout Session it created for a
    // website.checkout.started event. Switchyard keeps the session's ids and amount, not its URL.
    checkout_session_created: websiteEvent("checkout.session_created", {
      checkout_event_id: z.guid(),
      session_id: z.string().regex(/^cs_[A-Za-z0-9_]{1,250}$/, "A Stripe Checkout Session id (cs_...)"),
      amount_total: z.number().int().min(0).max(10_000_000_000),
      currency: z.enum(["usd", "cad"]),
      plan: z.enum(["starter", "growth", "enterprise"]),
      seats: z.number().int().min(1).max(100_000),
    }),
  },
  events: ["website.lead.created", "website.demo.requested", "website.roi.calculated", "website.checkout.started", "website.checkout.session_created"],
});
