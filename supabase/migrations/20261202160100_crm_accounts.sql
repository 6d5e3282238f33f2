-- CRM portal (issue 18 item 3): accounts, contacts, opportunities with stages, and tasks.
-- A website lead (crm_leads, one per email hash) is converted on request into an account,
-- a contact and an opportunity (public.crm_convert_lead; converting again returns the same
-- three). Contacts hold a person's PII (email, name, phone) as leads do: nowhere else, and
-- events carry ids and the email's hash only. Lifecycle events go out through the outbox:
--   crm.lead.created                 a new lead (trigger on crm_leads)
--   crm.opportunity.stage_changed    public.crm_opportunity_set_stage
--   crm.account.won                  the same, when the stage becomes won
--   crm.task.created                 the agent: a lead untouched for 24 h gets a follow-up task
--                                    on the sales queue (app_private.crm_stale_lead_tasks)
-- Stages move forward through qualification -> demo -> proposal -> negotiation, and to won
-- or lost from any open stage; won and lost are final (crm_stage_invalid).
--
-- Sections: permissions and grants (error codes); tables; functions; triggers and schedule.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('crm_stage_invalid',  'SY282', 409, 'Opportunity stage move not allowed', 'Stages move forward; won and lost are final (DETAIL names both stages).'),
  ('crm_lead_not_found', 'SY283', 404, 'No such lead',                       'The tenant has no lead with this id.'),
  ('crm_opportunity_not_found', 'SY284', 404, 'No such opportunity',         'The tenant has no opportunity with this id.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.crm_accounts (
  id         uuid primary key default gen_random_uuid(),
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  name       text not null constraint crm_accounts_name_length_check check (length(btrim(name)) between 1 and 200),
  status     text not null default 'prospect' constraint crm_accounts_status_allowed_check check (status in ('prospect', 'customer', 'lost')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index crm_accounts_tenant_idx on public.crm_accounts (tenant_id, created_at);
select ops.attach_rails('public.crm_accounts');
select ops.set_rls_sample('public.crm_accounts', '{"tenant_id": "$tenant", "name": "Matrix account $n"}');

create table public.crm_contacts (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  account_id   uuid not null references public.crm_accounts (id) on delete cascade,
  email        text not null,
  email_sha256 text not null,
  name         text,
  phone        text,
  created_at   timestamptz not null default now(),
  constraint crm_contacts_email unique (tenant_id, email_sha256)
);
comment on table public.crm_contacts is 'CRM contacts: with crm_leads, the only place a person''s PII (email, name, phone) is kept.';
create index crm_contacts_account_idx on public.crm_contacts (account_id);
select ops.attach_rails('public.crm_contacts', 'domain.read', null, null, null);
select ops.set_rls_sample('public.crm_contacts',
  '{"tenant_id": "$tenant", "account_id": "$ref:crm_accounts", "email": "matrix-$n@example.test", "email_sha256": "matrix-$n"}');

create table public.crm_opportunities (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  account_id   uuid not null references public.crm_accounts (id) on delete cascade,
  contact_id   uuid references public.crm_contacts (id) on delete set null,
  lead_id      uuid references public.crm_leads (id) on delete set null,
  name         text not null constraint crm_opportunities_name_length_check check (length(btrim(name)) between 1 and 200),
  stage        text not null default 'qualification' constraint crm_opportunities_stage_allowed_check check (stage in ('qualification', 'demo', 'proposal', 'negotiation', 'won', 'lost')),
  amount_cents bigint not null default 0 constraint crm_opportunities_amount_nonnegative_check check (amount_cents >= 0),
  closed_at    timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
create index crm_opportunities_account_idx on public.crm_opportunities (account_id);
create unique index crm_opportunities_lead_idx on public.crm_opportunities (lead_id) where lead_id is not null;
select ops.attach_rails('public.crm_opportunities', 'domain.read', null, null, null);
select ops.set_rls_sample('public.crm_opportunities', '{"tenant_id": "$tenant", "account_id": "$ref:crm_accounts", "name": "Matrix opportunity $n"}');

create table public.crm_tasks (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null references public.tenants (id) on delete cascade,
  lead_id        uuid references public.crm_leads (id) on delete cascade,
  opportunity_id uuid references public.crm_opportunities (id) on delete cascade,
  kind           text not null constraint crm_tasks_kind_allowed_check check (kind in ('follow_up_lead', 'call', 'email', 'onboarding')),
  queue          text not null default 'sales' constraint crm_tasks_queue_allowed_check check (queue in ('sales', 'onboarding', 'support')),
  title          text not null constraint crm_tasks_title_length_check check (length(btrim(title)) between 1 and 200),
  status         text not null default 'open' constraint crm_tasks_status_allowed_check check (status in ('open', 'done', 'cancelled')),
  due_at         timestamptz,
  created_at     timestamptz not null default now()
);
-- one open follow-up per lead (the agent's idempotency)
create unique index crm_tasks_open_follow_up_idx on public.crm_tasks (lead_id) where kind = 'follow_up_lead' and status = 'open';
create index crm_tasks_queue_idx on public.crm_tasks (tenant_id, queue, status);
select ops.attach_rails('public.crm_tasks');
select ops.set_rls_sample('public.crm_tasks', '{"tenant_id": "$tenant", "kind": "call", "title": "Matrix task $n"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Convert a lead: account (its company, else the email's domain) + contact + opportunity.
-- Idempotent: a converted lead returns what it was converted into (converted = false).
create function public.crm_convert_lead(p_lead_id uuid, p_amount_cents bigint default 0)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.claim_tenant();
  l         public.crm_leads;
  v_account uuid;
  v_contact uuid;
  v_opp     uuid;
begin
  perform app_private.require_permission(v_tenant, 'domain.write');
  select * into l from public.crm_leads where id = p_lead_id and tenant_id = v_tenant for update;
  if not found then
    perform app_private.raise_error('crm_lead_not_found', format('no lead %s', p_lead_id));
  end if;
  if l.opportunity_id is not null then
    select account_id, contact_id into v_account, v_contact from public.crm_opportunities where id = l.opportunity_id;
    return jsonb_build_object('converted', false, 'lead_id', l.id, 'account_id', v_account, 'contact_id', v_contact, 'opportunity_id', l.opportunity_id);
  end if;
  -- an existing contact (same email hash) keeps its account
  select id, account_id into v_contact, v_account from public.crm_contacts where tenant_id = v_tenant and email_sha256 = l.email_sha256;
  if v_account is null then
    insert into public.crm_accounts (tenant_id, name)
    values (v_tenant, coalesce(nullif(btrim(l.company), ''), split_part(l.email, '@', 2)))
    returning id into v_account;
    insert into public.crm_contacts (tenant_id, account_id, email, email_sha256, name, phone)
    values (v_tenant, v_account, l.email, l.email_sha256, l.name, l.phone) returning id into v_contact;
  end if;
  insert into public.crm_opportunities (tenant_id, account_id, contact_id, lead_id, name, stage, amount_cents)
  values (v_tenant, v_account, v_contact, l.id,
          left(coalesce(nullif(btrim(l.company), ''), split_part(l.email, '@', 2)) || ' — website', 200),
          case when l.stage = 'demo_requested' then 'demo' else 'qualification' end, coalesce(p_amount_cents, 0))
  returning id into v_opp;
  update public.crm_leads set stage = 'qualified', opportunity_id = v_opp, converted_at = now(), updated_at = now()
  where id = l.id;
  perform app_private.outbox_publish('crm_lead', l.id::text, 'crm.lead.converted',
    jsonb_build_object('lead_id', l.id, 'account_id', v_account, 'contact_id', v_contact, 'opportunity_id', v_opp, 'email_sha256', l.email_sha256),
    '{}'::jsonb, v_tenant);
  return jsonb_build_object('converted', true, 'lead_id', l.id, 'account_id', v_account, 'contact_id', v_contact, 'opportunity_id', v_opp);
end $$;
comment on function public.crm_convert_lead(uuid, bigint) is
  'Converts a website lead into account + contact + opportunity (domain.write; idempotent; crm.lead.converted).';
revoke execute on function public.crm_convert_lead(uuid, bigint) from public, anon;
grant execute on function public.crm_convert_lead(uuid, bigint) to authenticated;

-- Move an opportunity's stage (forward; won/lost final): crm.opportunity.stage_changed, and
-- crm.account.won (the account becomes a customer) when it is won.
create function public.crm_opportunity_set_stage(p_opportunity_id uuid, p_stage text)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  o        public.crm_opportunities;
  c_order  constant text[] := array['qualification', 'demo', 'proposal', 'negotiation'];
begin
  perform app_private.require_permission(v_tenant, 'domain.write');
  select * into o from public.crm_opportunities where id = p_opportunity_id and tenant_id = v_tenant for update;
  if not found then
    perform app_private.raise_error('crm_opportunity_not_found', format('no opportunity %s', p_opportunity_id));
  end if;
  if o.stage in ('won', 'lost') or p_stage is null
     or not (p_stage in ('won', 'lost') or coalesce(array_position(c_order, p_stage), 0) > array_position(c_order, o.stage)) then
    perform app_private.raise_error('crm_stage_invalid', format('opportunity %s: %s -> %s', o.id, o.stage, coalesce(p_stage, '(none)')),
      jsonb_build_object('from', o.stage, 'to', p_stage));
  end if;
  update public.crm_opportunities set stage = p_stage, updated_at = now(),
    closed_at = case when p_stage in ('won', 'lost') then now() end
  where id = o.id;
  perform app_private.outbox_publish('crm_opportunity', o.id::text, 'crm.opportunity.stage_changed',
    jsonb_build_object('opportunity_id', o.id, 'account_id', o.account_id, 'from', o.stage, 'to', p_stage, 'amount_cents', o.amount_cents),
    '{}'::jsonb, v_tenant);
  if p_stage = 'won' then
    update public.crm_accounts set status = 'customer', updated_at = now() where id = o.account_id;
    perform app_private.outbox_publish('crm_account', o.account_id::text, 'crm.account.won',
      jsonb_build_object('account_id', o.account_id, 'opportunity_id', o.id, 'amount_cents', o.amount_cents), '{}'::jsonb, v_tenant);
  end if;
  return jsonb_build_object('opportunity_id', o.id, 'from', o.stage, 'to', p_stage);
end $$;
comment on function public.crm_opportunity_set_stage(uuid, text) is
  'Moves an opportunity''s stage (domain.write; forward only, won/lost final; outbox events).';
revoke execute on function public.crm_opportunity_set_stage(uuid, text) from public, anon;
grant execute on function public.crm_opportunity_set_stage(uuid, text) to authenticated;

-- The agent: every lead of the caller's tenant untouched (updated_at) for p_older, not
-- converted, without an open follow-up, gets one on the sales queue (crm.task.created).
-- Returns how many it created; a second run creates none.
create function app_private.crm_stale_lead_tasks(p_older interval default interval '24 hours')
returns int
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  r        record;
  n        int := 0;
begin
  perform app_private.require_permission(v_tenant, 'domain.write');
  for r in
    insert into public.crm_tasks (tenant_id, lead_id, kind, queue, title, due_at)
    select l.tenant_id, l.id, 'follow_up_lead', 'sales', 'Follow up website lead ' || left(l.id::text, 8), now() + interval '4 hours'
    from public.crm_leads l
    where l.tenant_id = v_tenant and l.opportunity_id is null and l.stage in ('new', 'demo_requested')
      and l.updated_at < now() - p_older
      and not exists (select 1 from public.crm_tasks t where t.lead_id = l.id and t.kind = 'follow_up_lead' and t.status = 'open')
    on conflict do nothing
    returning id, lead_id
  loop
    perform app_private.outbox_publish('crm_task', r.id::text, 'crm.task.created',
      jsonb_build_object('task_id', r.id, 'lead_id', r.lead_id, 'kind', 'follow_up_lead', 'queue', 'sales'), '{}'::jsonb, v_tenant);
    n := n + 1;
  end loop;
  return n;
end $$;
comment on function app_private.crm_stale_lead_tasks(interval) is
  'The CRM agent: leads untouched for 24 h get a follow-up task on the sales queue (crm.task.created).';
grant execute on function app_private.crm_stale_lead_tasks(interval) to authenticated;

-- The agent's schedule: every tenant with leads, as agents@ in that tenant (audit and events
-- say who), hourly (pg_cron below). Not callable through the API.
create function ops.crm_follow_up_stale_leads() returns int
language plpgsql set search_path = '' as $$
declare
  t uuid;
  n int := 0;
begin
  for t in select distinct tenant_id from public.crm_leads where opportunity_id is null loop
    perform set_config('request.jwt.claims', jsonb_build_object('sub', 'a0000000-0000-4000-8000-000000000002', 'role', 'authenticated',
      'tenant_id', t, 'principal_kind', 'machine', 'principal_name', 'agents')::text, true);
    n := n + app_private.crm_stale_lead_tasks();
  end loop;
  return n;
end $$;
comment on function ops.crm_follow_up_stale_leads() is
  'Runs the CRM stale-lead agent in every tenant with unconverted leads (pg_cron, hourly).';

-- crm.lead.created for every new lead (the website's forms and n8n's webhooks alike).
create function app_private.crm_lead_created() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.outbox_publish('crm_lead', new.id::text, 'crm.lead.created',
    jsonb_build_object('lead_id', new.id, 'email_sha256', new.email_sha256, 'stage', new.stage, 'utm', new.utm), '{}'::jsonb, new.tenant_id);
  return null;
end $$;
comment on function app_private.crm_lead_created() is 'Publishes crm.lead.created (ids and the email hash, no PII) for a new lead.';

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger crm_lead_created after insert on public.crm_leads
  for each row execute function app_private.crm_lead_created();

-- the agent's hourly run (cron.schedule replaces a job of the same name)
select cron.schedule('crm-stale-leads-hourly', '13 * * * *',
  $$select ops.run_job('crm-stale-leads', 'select ops.crm_follow_up_stale_leads()')$$);
