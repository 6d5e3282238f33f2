-- CRM portal: leads. The website events (platform: the `webhooks` function writes them,
-- 20261125230000_platform_website_events) create and advance leads; the PII of a lead
-- (email, name, phone) lives only here, under RLS. Events and outbox payloads carry the
-- lead id and a sha256 of the email, never the PII.
--
-- Sections: tables.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.crm_leads (
  id           uuid primary key,
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  email        text not null,
  email_sha256 text not null,
  name         text,
  company      text,
  phone        text,
  stage        text not null default 'new' constraint crm_leads_stage_allowed_check check (stage in ('new', 'demo_requested', 'qualified', 'customer', 'lost')),
  utm          jsonb not null default '{}'::jsonb,
  -- conversion (public.crm_convert_lead, 20261202160100_crm_accounts): the opportunity it became
  opportunity_id uuid,
  converted_at timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint crm_leads_email unique (tenant_id, email_sha256)
);
comment on table public.crm_leads is 'CRM leads: the only place a lead''s PII (email, name, phone) is kept.';
-- domain.read / domain.write / domain.delete, kill switch, immediate row audit
select ops.attach_rails('public.crm_leads');
-- RLS matrix sample row
select ops.set_rls_sample('public.crm_leads',
  '{"id": "$uuid", "tenant_id": "$tenant", "email": "matrix-$n@example.test", "email_sha256": "matrix-$n"}');
