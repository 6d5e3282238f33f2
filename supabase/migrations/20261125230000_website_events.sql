-- Website events (charter §5): lead.created, demo.requested, roi.calculated and
-- checkout.started arrive from n8n as signed webhooks, are written idempotently (one row
-- per webhook id) and published to the outbox for n8n -> CRM / Stripe.
--
-- PII (email, name, phone) lives only in crm_leads, under RLS. The event log and the
-- outbox payloads carry ids, UTM and a sha256 of the email for dedupe, never the PII.

create table public.website_events (
  id           uuid primary key,
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  webhook_id   text not null,
  event_type   text not null check (event_type in ('lead.created', 'demo.requested', 'roi.calculated', 'checkout.started')),
  page         text not null,
  utm          jsonb not null default '{}'::jsonb,
  data         jsonb not null default '{}'::jsonb,   -- the non-PII fields of the event
  email_sha256 text,
  lead_id      uuid,
  trace_id     text,
  received_at  timestamptz not null default now(),
  constraint website_events_webhook unique (tenant_id, webhook_id)
);
create index website_events_type_idx on public.website_events (tenant_id, event_type, received_at);
select ops.attach_rails('public.website_events', 'domain.read', 'domain.write', null, null, 'domain', false);
select ops.set_rls_sample('public.website_events',
  '{"id": "$uuid", "tenant_id": "$tenant", "webhook_id": "matrix-$n", "event_type": "lead.created", "page": "/pricing"}');

create table public.crm_leads (
  id           uuid primary key,
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  email        text not null,
  email_sha256 text not null,
  name         text,
  company      text,
  phone        text,
  stage        text not null default 'new' check (stage in ('new', 'demo_requested', 'qualified', 'customer', 'lost')),
  utm          jsonb not null default '{}'::jsonb,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint crm_leads_email unique (tenant_id, email_sha256)
);
select ops.attach_rails('public.crm_leads');
select ops.set_rls_sample('public.crm_leads',
  '{"id": "$uuid", "tenant_id": "$tenant", "email": "matrix-$n@example.test", "email_sha256": "matrix-$n"}');
