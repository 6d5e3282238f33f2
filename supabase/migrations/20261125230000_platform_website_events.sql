-- Website events (charter §5): lead.created, demo.requested, roi.calculated and
-- checkout.started arrive from n8n as signed webhooks, are written idempotently (one row
-- per webhook id) and published to the outbox for n8n -> CRM / Stripe; n8n posts the
-- Stripe Checkout Session it created back as checkout.session_created.
--
-- PII (email, name, phone) lives only in crm_leads, under RLS. The event log and the
-- outbox payloads carry ids, UTM and a sha256 of the email for dedupe, never the PII.
-- The event log belongs to the platform's `webhooks` function; the leads it feeds belong to
-- the CRM portal (20261125320000_crm_leads).
--
-- Sections: tables.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.website_events (
  id           uuid primary key,
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  webhook_id   text not null,
  event_type   text not null constraint website_events_event_type_allowed_check check (event_type in ('lead.created', 'demo.requested', 'roi.calculated', 'checkout.started', 'checkout.session_created')),
  page         text not null,
  utm          jsonb not null default '{}'::jsonb,
  data         jsonb not null default '{}'::jsonb,   -- the non-PII fields of the event
  email_sha256 text,
  lead_id      uuid,
  trace_id     text,
  received_at  timestamptz not null default now(),
  constraint website_events_webhook unique (tenant_id, webhook_id)
);
comment on table public.website_events is
  'Website events from signed webhooks (one row per webhook id), without PII.';
create index website_events_type_idx on public.website_events (tenant_id, event_type, received_at);
-- no row audit: the webhook action audits itself
select ops.attach_rails('public.website_events', 'domain.read', 'domain.write', null, null, 'domain', 'none');
-- RLS matrix sample row
select ops.set_rls_sample('public.website_events',
  '{"id": "$uuid", "tenant_id": "$tenant", "webhook_id": "matrix-$n", "event_type": "lead.created", "page": "/pricing"}');
