-- Super Admin portal (issue 17): the tenant lifecycle and per-tenant budgets, for
-- super_admin only (a global grant of platform.tenants.manage; the request's tenant claim is
-- the super admin's own home tenant, the target tenant is named in the input).
--
-- Provisioning, in one transaction: the tenant, its portal rows (portal.enabled per portal:
-- on for the portals it gets, off for the rest), its budget flags, a first tenant_admin
-- invite (app_private.invite_member; the invite's token is returned once, only its sha256 is
-- kept, valid 7 days) and its default webhook subscriptions (each with a fresh signing secret
-- in Vault). Suspension: tenants.status = 'suspended', which the rails guard of every table
-- under the rails already refuses writes for (tenant_suspended, SY050, humans and machines,
-- every door that names the tenant); data kept; resumable. Deletion: only a suspended tenant,
-- only after an export (its rows as JSON, sha256 recorded) and after the grace period
-- (superAdmin.deleteGraceDays): tenant_delete_refused (SY243) otherwise.
--
-- Budgets: the cost model is held in flags (budget.cost.agentActionUSD per agent action,
-- budget.cost.outboundCallUSD per outbound webhook call). app_private.action_begin charges an
-- autonomous machine's domain action (20261125210000_platform_action_pipeline, refusing
-- budget_exhausted past budget.cost.dailyUSD / monthlyUSD; humans are never charged), and a
-- trigger on outbox_deliveries records each outbound call (recorded, never refused: a
-- committed event is delivered whatever the budget). The cost ledger's rails class is
-- delivery (20261125060000_platform_rails) so the relay's records pass the kill switch.
--
-- Sections: permissions and grants; flags; tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('tenant_delete_refused', 'SY243', 409, 'Tenant cannot be deleted yet', 'A tenant is deleted only when suspended, exported and past its grace period (DETAIL says which is missing).'),
  ('tenant_slug_taken',     'SY244', 409, 'Tenant slug taken',            'Another tenant already has this slug.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('budget.cost.agentActionUSD', 'number', 0, 100, null, true, '{global,tenant}', '0.01', 'flags.budget.write',
   'Cost model: USD charged to the tenant''s cost ledger per action of an autonomous machine (agents, autopilot, n8n, ...)'),
  ('budget.cost.outboundCallUSD', 'number', 0, 100, null, true, '{global,tenant}', '0.001', 'flags.budget.write',
   'Cost model: USD recorded in the tenant''s cost ledger per outbound webhook call'),
  ('superAdmin.deleteGraceDays', 'integer', 0, 365, null, false, '{global}', '30', 'flags.global.write',
   'Days a suspended, exported tenant is kept before it may be deleted')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.tenant_lifecycle (
  tenant_id           uuid primary key references public.tenants (id) on delete cascade,
  provisioned_by      uuid,
  provisioned_at      timestamptz not null default now(),
  admin_principal_id  uuid,
  invite_token_sha256 text constraint tenant_lifecycle_invite_sha256_format_check check (invite_token_sha256 ~ '^[0-9a-f]{64}$'),
  invite_expires_at   timestamptz,
  suspended_at        timestamptz,
  suspended_reason    text,
  exported_at         timestamptz,
  export_sha256       text constraint tenant_lifecycle_export_sha256_format_check check (export_sha256 ~ '^[0-9a-f]{64}$'),
  updated_at          timestamptz not null default now(),
  constraint tenant_lifecycle_suspension_reason_check check ((suspended_at is null) = (suspended_reason is null))
);
comment on table public.tenant_lifecycle is
  'Per tenant: who provisioned it, its first admin invite (token sha256, expiry), suspension, export (sha256).';
select ops.attach_rails('public.tenant_lifecycle', 'platform.tenants.manage', null, null, null, 'control');
select ops.set_rls_sample('public.tenant_lifecycle', '{"tenant_id": "$tenant"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
create function app_private.super_admin_require() returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if not (app_private.is_trusted_session() or app_private.has_permission(null, 'platform.tenants.manage')) then
    perform app_private.raise_error('forbidden', 'the tenant lifecycle needs a global platform.tenants.manage (super_admin)');
  end if;
end $$;
revoke execute on function app_private.super_admin_require() from public;

-- A request is narrowed to its tenant claim (has_permission is false elsewhere, even for a
-- global grant): the super admin's writes INTO a target tenant (its flags, its first
-- member) run with the claim switched to that tenant, and back (p_tenant_id null: restore).
create function app_private.super_admin_claim_tenant(p_tenant_id uuid, p_saved text default null) returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_now text := current_setting('request.jwt.claims', true);
begin
  if p_tenant_id is null then
    if p_saved is not null then
      perform set_config('request.jwt.claims', p_saved, true);
    end if;
  elsif v_now is not null and v_now <> '' then
    perform set_config('request.jwt.claims', (v_now::jsonb || jsonb_build_object('tenant_id', p_tenant_id))::text, true);
  end if;
  return v_now;
end $$;
revoke execute on function app_private.super_admin_claim_tenant(uuid, text) from public;

-- p {slug, name, admin_email, portals: [names enabled], budget: {daily_usd, monthly_usd,
-- max_concurrent}, subscriptions: [{name, endpoint_url, event_filter}]}. Returns
-- {tenant_id, admin_principal_id, invite_token (once), invite_expires_at, subscriptions}.
create function app_private.super_admin_tenant_provision(p jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := gen_random_uuid();
  v_token  text := translate(encode(extensions.gen_random_bytes(24), 'base64'), '+/=', '-_');
  v_admin  uuid;
  v_portals text[] := array(select jsonb_array_elements_text(coalesce(p -> 'portals', '[]')));
  v_unknown text;
  v_subs   jsonb := '[]';
  s        jsonb;
  v_sub    uuid;
  v_saved  text;
begin
  perform app_private.super_admin_require();
  select x into v_unknown from unnest(v_portals) x where x not in (select name from public.portals) limit 1;
  if v_unknown is not null then
    perform app_private.raise_error('bad_request', format('no portal named %s', v_unknown));
  end if;
  if exists (select 1 from public.tenants t where t.slug = p ->> 'slug') then
    perform app_private.raise_error('tenant_slug_taken', format('a tenant has the slug %s', p ->> 'slug'));
  end if;
  insert into public.tenants (id, slug, name) values (v_tenant, p ->> 'slug', p ->> 'name');
  v_saved := app_private.super_admin_claim_tenant(v_tenant);
  -- the tenant's portal rows: each portal on or off for it
  insert into public.feature_flags_v2 (key, scope, value, reason)
  select 'portal.enabled', 'tenant:' || v_tenant || ':portal:' || po.name, (po.name = any (v_portals))::text, 'provisioned'
  from public.portals po;
  insert into public.feature_flags_v2 (key, scope, value, reason)
  select b.key, 'tenant:' || v_tenant, b.v, 'provisioned'
  from (values ('budget.cost.dailyUSD', p -> 'budget' ->> 'daily_usd'), ('budget.cost.monthlyUSD', p -> 'budget' ->> 'monthly_usd'),
               ('budget.agents.maxConcurrent', p -> 'budget' ->> 'max_concurrent')) b(key, v)
  where b.v is not null;
  v_admin := app_private.invite_member(v_tenant, p ->> 'admin_email', 'tenant_admin');
  insert into public.tenant_lifecycle (tenant_id, provisioned_by, admin_principal_id, invite_token_sha256, invite_expires_at)
  values (v_tenant, app_private.principal_id(), v_admin, encode(extensions.digest(v_token, 'sha256'), 'hex'), now() + interval '7 days');
  for s in select * from jsonb_array_elements(coalesce(p -> 'subscriptions', '[]')) loop
    perform vault.create_secret('whsec_' || encode(extensions.gen_random_bytes(24), 'base64'),
                                v_tenant || '/' || (s ->> 'name'), 'webhook signing secret');
    insert into public.outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref, event_filter)
    values (v_tenant, s ->> 'name', s ->> 'endpoint_url', v_tenant || '/' || (s ->> 'name'),
            coalesce(array(select jsonb_array_elements_text(s -> 'event_filter')), '{*}'))
    returning id into v_sub;
    v_subs := v_subs || jsonb_build_array(v_sub);
  end loop;
  perform app_private.super_admin_claim_tenant(null, v_saved);
  perform app_private.audit_write(v_tenant, 'super_admin.tenant.provisioned', 'tenant', v_tenant::text, null,
    jsonb_build_object('slug', p ->> 'slug', 'portals', to_jsonb(v_portals), 'admin_principal_id', v_admin, 'subscriptions', v_subs));
  return jsonb_build_object('tenant_id', v_tenant, 'admin_principal_id', v_admin, 'invite_token', v_token,
                            'invite_expires_at', now() + interval '7 days', 'subscriptions', v_subs);
end $$;
comment on function app_private.super_admin_tenant_provision(jsonb) is
  'Provisions a tenant in one transaction: tenant, portal flags, budgets, first tenant_admin invite, default subscriptions (super_admin).';
grant execute on function app_private.super_admin_tenant_provision(jsonb) to authenticated;

-- Suspends (p_suspend true, a reason required) or resumes a tenant. Returns its status.
create function app_private.super_admin_tenant_suspend(p_tenant_id uuid, p_suspend boolean, p_reason text) returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_status text;
begin
  perform app_private.super_admin_require();
  select t.status into v_status from public.tenants t where t.id = p_tenant_id for update;
  if v_status is null then
    perform app_private.raise_error('freight_not_found', format('no tenant %s', p_tenant_id));
  end if;
  if p_reason is null or length(btrim(p_reason)) < 3 then
    perform app_private.raise_error('bad_request', 'a suspension or resumption needs a reason (3+ characters)');
  end if;
  -- the lifecycle row is written while the tenant is active (a suspended claim tenant
  -- refuses writes: the super admin acts from its home tenant)
  if not p_suspend then
    update public.tenants set status = 'active' where id = p_tenant_id;
  end if;
  insert into public.tenant_lifecycle as l (tenant_id, suspended_at, suspended_reason)
  values (p_tenant_id, case when p_suspend then now() end, case when p_suspend then p_reason end)
  on conflict (tenant_id) do update set suspended_at = excluded.suspended_at, suspended_reason = excluded.suspended_reason, updated_at = now();
  if p_suspend then
    update public.tenants set status = 'suspended' where id = p_tenant_id;
  end if;
  perform app_private.audit_write(p_tenant_id, case when p_suspend then 'super_admin.tenant.suspended' else 'super_admin.tenant.resumed' end,
    'tenant', p_tenant_id::text, jsonb_build_object('status', v_status),
    jsonb_build_object('status', case when p_suspend then 'suspended' else 'active' end), p_reason);
  return case when p_suspend then 'suspended' else 'active' end;
end $$;
comment on function app_private.super_admin_tenant_suspend(uuid, boolean, text) is
  'Suspends (every write refused: tenant_suspended) or resumes a tenant, with a reason (super_admin).';
grant execute on function app_private.super_admin_tenant_suspend(uuid, boolean, text) to authenticated;

-- The tenant's rows of every table in the RLS registry, as one JSON document
-- {table: [rows]}; its sha256 is recorded (deletion needs it). Returns {sha256, tables, rows, export}.
create function app_private.super_admin_tenant_export(p_tenant_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  r      record;
  v_rows jsonb;
  v_doc  jsonb := '{}';
  v_n    bigint := 0;
  v_sha  text;
begin
  perform app_private.super_admin_require();
  if not exists (select 1 from public.tenants t where t.id = p_tenant_id) then
    perform app_private.raise_error('freight_not_found', format('no tenant %s', p_tenant_id));
  end if;
  for r in select g.table_name::text as t, g.tenant_column from ops.rls_registry g
           where g.tenant_column is not null order by 1 loop
    execute format('select coalesce(jsonb_agg(to_jsonb(x)), ''[]'') from %s x where %I = $1', r.t, r.tenant_column)
      into v_rows using p_tenant_id;
    if jsonb_array_length(v_rows) > 0 then
      v_doc := v_doc || jsonb_build_object(r.t, v_rows);
      v_n := v_n + jsonb_array_length(v_rows);
    end if;
  end loop;
  v_sha := encode(extensions.digest(v_doc::text, 'sha256'), 'hex');
  insert into public.tenant_lifecycle as l (tenant_id, exported_at, export_sha256) values (p_tenant_id, now(), v_sha)
  on conflict (tenant_id) do update set exported_at = now(), export_sha256 = v_sha, updated_at = now();
  perform app_private.audit_write(p_tenant_id, 'super_admin.tenant.exported', 'tenant', p_tenant_id::text, null,
    jsonb_build_object('sha256', v_sha, 'rows', v_n));
  return jsonb_build_object('sha256', v_sha, 'rows', v_n, 'tables', (select count(*) from jsonb_object_keys(v_doc)), 'export', v_doc);
end $$;
comment on function app_private.super_admin_tenant_export(uuid) is
  'Exports a tenant''s rows (every registered table) as JSON and records its sha256 (super_admin).';
grant execute on function app_private.super_admin_tenant_export(uuid) to authenticated;

-- Deletes a tenant: suspended, exported after its suspension, and past the grace period.
create function app_private.super_admin_tenant_delete(p_tenant_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  t     public.tenants;
  l     public.tenant_lifecycle;
  v_due timestamptz;
begin
  perform app_private.super_admin_require();
  select * into t from public.tenants where id = p_tenant_id for update;
  if t.id is null then
    perform app_private.raise_error('freight_not_found', format('no tenant %s', p_tenant_id));
  end if;
  select * into l from public.tenant_lifecycle where tenant_id = p_tenant_id;
  if t.status <> 'suspended' then
    perform app_private.raise_error('tenant_delete_refused', format('tenant %s is not suspended', p_tenant_id),
      jsonb_build_object('missing', 'suspended'));
  end if;
  if l.exported_at is null or l.exported_at < l.suspended_at then
    perform app_private.raise_error('tenant_delete_refused', format('tenant %s has no export since its suspension', p_tenant_id),
      jsonb_build_object('missing', 'export'));
  end if;
  v_due := l.suspended_at + make_interval(days => app_private.flag_number('superAdmin.deleteGraceDays')::int);
  if now() < v_due then
    perform app_private.raise_error('tenant_delete_refused', format('tenant %s may be deleted from %s', p_tenant_id, v_due),
      jsonb_build_object('missing', 'grace', 'delete_after', v_due));
  end if;
  perform app_private.audit_write(null, 'super_admin.tenant.deleted', 'tenant', p_tenant_id::text,
    jsonb_build_object('slug', t.slug, 'export_sha256', l.export_sha256), null);
  delete from public.tenants where id = p_tenant_id;
end $$;
comment on function app_private.super_admin_tenant_delete(uuid) is
  'Deletes a suspended, exported tenant past superAdmin.deleteGraceDays (tenant_delete_refused otherwise; super_admin).';
grant execute on function app_private.super_admin_tenant_delete(uuid) to authenticated;

-- Charges one action of an autonomous machine (action_begin, for every door) by the cost
-- model, refusing budget_exhausted past the tenant's daily or monthly ceiling. Unlike
-- cost_charge it takes no per-tenant lock held to the commit (that would run a tenant's
-- agent actions one at a time): concurrent actions may overshoot a ceiling by at most one
-- charge each.
create function app_private.cost_charge_agent_action(p_tenant_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_amount numeric := app_private.flag_number('budget.cost.agentActionUSD', p_tenant_id);
  v_dcap   numeric := app_private.flag_number('budget.cost.dailyUSD', p_tenant_id);
  v_mcap   numeric := app_private.flag_number('budget.cost.monthlyUSD', p_tenant_id);
  v_day    numeric;
  v_month  numeric;
begin
  select coalesce(sum(l.amount_usd) filter (where l.created_at >= date_trunc('day', now(), 'UTC')), 0), coalesce(sum(l.amount_usd), 0)
    into v_day, v_month
  from public.cost_ledger l where l.tenant_id = p_tenant_id and l.created_at >= date_trunc('month', now(), 'UTC');
  if v_day + v_amount > v_dcap or v_month + v_amount > v_mcap then
    perform app_private.raise_error('budget_exhausted',
      format('tenant %s has spent %s USD today, %s this month; agent work stops at budget.cost.dailyUSD %s / monthlyUSD %s',
             p_tenant_id, v_day, v_month, v_dcap, v_mcap),
      jsonb_build_object('period', case when v_day + v_amount > v_dcap then 'day' else 'month' end,
                         'spent_today', v_day, 'spent_month', v_month, 'amount', v_amount,
                         'daily_ceiling', v_dcap, 'monthly_ceiling', v_mcap));
  end if;
  if v_amount > 0 then
    insert into public.cost_ledger (tenant_id, principal_id, category, amount_usd, ref)
    values (p_tenant_id, app_private.principal_id(), 'agent_action', v_amount,
            -- the trace, for the cost review; one trace may hold several actions
            coalesce((app_private.request_context()).trace_id, '-') || ':' || gen_random_uuid());
  end if;
end $$;
comment on function app_private.cost_charge_agent_action(uuid) is
  'Charges one autonomous machine action by budget.cost.agentActionUSD; budget_exhausted past the tenant''s ceilings.';
revoke execute on function app_private.cost_charge_agent_action(uuid) from public;

-- Records the outbound webhook calls of a statement (the relay acknowledges in batches: one
-- insert per statement) in the tenants' cost ledgers at budget.cost.outboundCallUSD: a
-- record, never a refusal.
create function app_private.cost_record_outbound() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  -- one flag read per tenant of the batch
  with rates as (select t.tenant_id, app_private.flag_number('budget.cost.outboundCallUSD', t.tenant_id) as usd
                 from (select distinct n.tenant_id from new_rows n) t)
  insert into public.cost_ledger (tenant_id, principal_id, category, amount_usd, ref)
  select d.tenant_id, app_private.principal_id(), 'outbound_call', r.usd, d.id::text
  from new_rows d join rates r on r.tenant_id = d.tenant_id
  where r.usd > 0
  on conflict on constraint cost_ledger_ref do nothing;
  return null;
end $$;
revoke execute on function app_private.cost_record_outbound() from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger cost_record_outbound after insert on public.outbox_deliveries
  referencing new table as new_rows
  for each statement execute function app_private.cost_record_outbound();
