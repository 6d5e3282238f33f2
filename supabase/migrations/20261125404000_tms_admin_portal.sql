-- TMS Admin portal (charter §4: lanes, equipment, pricing guards, EDI config): the tenant's
-- freight settings, each written by one portal action under the caller's claims and RLS
-- (one transaction with its outbox event and the row audit under the request's trace):
--   lanes, accessorials        the freight core's tables (freight.settings.manage)
--   equipment types            tms_admin_equipment_types: the tenant's catalogue; a lane names
--                              an active one (equipment_type_inactive), and a type in use by
--                              an active lane stays active (equipment_type_in_use)
--   pricing guards             Rates' rates_guards (rates.manage)
--   EDI partners               tms_admin_edi_partners: the partner party, ISA / GS ids and
--                              qualifiers (theirs and ours), transaction sets, test or
--                              production. Transport credentials stay in Vault: the row holds
--                              only the secret's name (credential_ref), which must exist.
--   SLA policy                 the tenant-scoped flags freight.tenderSlaMinutes,
--                              broker.checkCallMinutes, broker.appointmentRiskMinutes
--                              (freight.settings.manage; bounds in flag_definitions)
--
-- Sections: permissions and grants (error codes, permissions); tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('equipment_type_inactive',  'SY150', 422, 'Equipment type not in the catalogue', 'The lane names an equipment type that is not active in the tenant''s catalogue.'),
  ('equipment_type_in_use',    'SY151', 409, 'Equipment type in use',               'An equipment type stays active while an active lane uses it (DETAIL names the type).'),
  ('edi_partner_not_eligible', 'SY152', 422, 'Party cannot be an EDI partner',      'An EDI partner is an active shipper or carrier party of the tenant.'),
  ('edi_interchange_taken',    'SY153', 409, 'Interchange id already configured',   'Another EDI partner of the tenant already uses this ISA qualifier and id.'),
  ('edi_credential_missing',   'SY154', 422, 'No such Vault secret',                'credential_ref names no Vault secret (create it with vault.create_secret first).')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('tms_admin.manage', 'Maintain the tenant''s TMS settings: equipment types, EDI partners (and, with the owners'' permissions, lanes, accessorials, guards, SLA policy)')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'tms_admin.manage'), ('tenant_admin', 'tms_admin.manage'), ('ops_manager', 'tms_admin.manage'),
  -- a tenant admin's settings changes publish their events (ops_manager already publishes)
  ('tenant_admin', 'outbox.publish')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- The tenant's equipment catalogue (the codes loads and lanes speak, with the tenant's
-- specifications).
create table public.tms_admin_equipment_types (
  id                     uuid primary key default gen_random_uuid(),
  tenant_id              uuid not null references public.tenants (id) on delete cascade,
  -- the codes loads and lanes accept are the core's (van, reefer, flatbed, step_deck, tanker,
  -- power_only: their CHECKs); the catalogue's format leaves the core room to grow
  code                   text not null constraint tms_admin_equipment_types_code_format_check check (code ~ '^[a-z][a-z0-9_]{1,31}$'),
  name                   text not null constraint tms_admin_equipment_types_name_length_check check (length(btrim(name)) between 1 and 80),
  length_ft              int constraint tms_admin_equipment_types_length_ft_range_check check (length_ft between 8 and 60),
  max_weight_lbs         int constraint tms_admin_equipment_types_max_weight_lbs_range_check check (max_weight_lbs between 1 and 200000),
  temperature_controlled boolean not null default false,
  active                 boolean not null default true,
  created_at             timestamptz not null default now(),
  updated_at             timestamptz not null default now(),
  constraint tms_admin_equipment_types_code_unique unique (tenant_id, code)
);
comment on table public.tms_admin_equipment_types is
  'The tenant''s equipment catalogue (codes, specifications, active); lanes name an active type.';
select ops.attach_rails('public.tms_admin_equipment_types', 'domain.read', 'tms_admin.manage', 'tms_admin.manage', 'tms_admin.manage');
select ops.set_rls_sample('public.tms_admin_equipment_types', '{"tenant_id": "$tenant", "code": "matrix_$n", "name": "Matrix type $n"}');

-- EDI trading partners (the EDI portal reads them). Ids follow X12: ISA05/07 qualifier (2
-- characters), ISA06/08 id (up to 15), GS02/03 application id (2..15).
create table public.tms_admin_edi_partners (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  party_id           uuid not null,
  isa_qualifier      text not null constraint tms_admin_edi_partners_isa_qualifier_format_check check (isa_qualifier ~ '^[0-9A-Z]{2}$'),
  isa_id             text not null constraint tms_admin_edi_partners_isa_id_format_check
                     check (isa_id ~ '^[A-Z0-9._-]([A-Z0-9 ._-]*[A-Z0-9._-])?$' and length(isa_id) <= 15),
  gs_id              text not null constraint tms_admin_edi_partners_gs_id_format_check
                     check (gs_id ~ '^[A-Z0-9._-][A-Z0-9 ._-]*[A-Z0-9._-]$' and length(gs_id) <= 15),
  -- the tenant's own identity as this partner knows it
  our_isa_qualifier  text not null constraint tms_admin_edi_partners_our_isa_qualifier_format_check check (our_isa_qualifier ~ '^[0-9A-Z]{2}$'),
  our_isa_id         text not null constraint tms_admin_edi_partners_our_isa_id_format_check
                     check (our_isa_id ~ '^[A-Z0-9._-]([A-Z0-9 ._-]*[A-Z0-9._-])?$' and length(our_isa_id) <= 15),
  our_gs_id          text not null constraint tms_admin_edi_partners_our_gs_id_format_check
                     check (our_gs_id ~ '^[A-Z0-9._-][A-Z0-9 ._-]*[A-Z0-9._-]$' and length(our_gs_id) <= 15),
  transaction_sets   text[] not null default '{}' constraint tms_admin_edi_partners_transaction_sets_allowed_check
                     check (transaction_sets <@ array['204', '990', '214', '210', '997']::text[]),
  -- ISA15: T (test) or P (production)
  usage              text not null default 'test' constraint tms_admin_edi_partners_usage_allowed_check check (usage in ('test', 'production')),
  transport          text not null default 'as2' constraint tms_admin_edi_partners_transport_allowed_check check (transport in ('as2', 'sftp', 'van', 'api')),
  -- the Vault secret's name (<tenant uuid>/<name>) holding the transport credentials; never the secret
  credential_ref     text constraint tms_admin_edi_partners_credential_ref_format_check
                     check (starts_with(credential_ref, tenant_id::text || '/') and length(credential_ref) between 38 and 200),
  -- a 997 is expected within this many minutes of an outbound interchange
  ack_window_minutes int not null default 60 constraint tms_admin_edi_partners_ack_window_minutes_range_check check (ack_window_minutes between 1 and 10080),
  active             boolean not null default true,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  constraint tms_admin_edi_partners_party_unique unique (tenant_id, party_id),
  constraint tms_admin_edi_partners_interchange_unique unique (tenant_id, isa_qualifier, isa_id),
  constraint tms_admin_edi_partners_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id)
);
comment on table public.tms_admin_edi_partners is
  'EDI trading partners: the party, ISA/GS ids and qualifiers (theirs and ours), transaction sets, test or production; credentials by Vault name only.';
create index tms_admin_edi_partners_party_idx on public.tms_admin_edi_partners (party_id);
select ops.attach_rails('public.tms_admin_edi_partners', 'domain.read', 'tms_admin.manage', 'tms_admin.manage', 'tms_admin.manage');
select ops.set_rls_sample('public.tms_admin_edi_partners',
  '{"tenant_id": "$tenant", "party_id": "$shipper", "isa_qualifier": "ZZ", "isa_id": "MATRIX$n", "gs_id": "MATRIX$n",
    "our_isa_qualifier": "ZZ", "our_isa_id": "DEMOFREIGHT", "our_gs_id": "DEMOFREIGHT"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Lanes name an active equipment type of the tenant's catalogue (a tenant without a
-- catalogue yet is not checked). Definer: the rule holds whatever the writer may read; an
-- AFTER trigger, so RLS refuses another tenant's row before this names its catalogue.
create function app_private.tms_admin_lane_equipment_check() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.active and exists (select 1 from public.tms_admin_equipment_types e where e.tenant_id = new.tenant_id)
     and not exists (select 1 from public.tms_admin_equipment_types e
                     where e.tenant_id = new.tenant_id and e.code = new.equipment_type and e.active) then
    perform app_private.raise_error('equipment_type_inactive',
      format('equipment type %s is not active in the catalogue', new.equipment_type), jsonb_build_object('reason', new.equipment_type));
  end if;
  return new;
end $$;
comment on function app_private.tms_admin_lane_equipment_check() is
  'Refuses an active lane whose equipment type is not active in the tenant''s catalogue (equipment_type_inactive).';
revoke execute on function app_private.tms_admin_lane_equipment_check() from public;

-- An equipment type an active lane uses stays active (and keeps its code).
create function app_private.tms_admin_equipment_type_check() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if old.active and (not new.active or new.code <> old.code)
     and exists (select 1 from public.lanes l where l.tenant_id = old.tenant_id and l.equipment_type = old.code and l.active) then
    perform app_private.raise_error('equipment_type_in_use',
      format('equipment type %s is used by active lanes', old.code), jsonb_build_object('reason', old.code));
  end if;
  return new;
end $$;
comment on function app_private.tms_admin_equipment_type_check() is
  'Refuses deactivating (or recoding) an equipment type an active lane uses (equipment_type_in_use).';
revoke execute on function app_private.tms_admin_equipment_type_check() from public;

-- An EDI partner is an active shipper or carrier of the tenant, its interchange id is its
-- own, and its credentials are a Vault secret that exists (the row never holds one). A
-- BEFORE trigger: a party of no tenant is this refusal, not a foreign-key failure.
create function app_private.tms_admin_edi_partner_check() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if not exists (select 1 from public.parties p where p.tenant_id = new.tenant_id and p.id = new.party_id
                   and p.kind in ('shipper', 'carrier') and p.status = 'active') then
    perform app_private.raise_error('edi_partner_not_eligible', format('party %s is not an active shipper or carrier', new.party_id));
  end if;
  if exists (select 1 from public.tms_admin_edi_partners e where e.tenant_id = new.tenant_id and e.party_id <> new.party_id
               and e.isa_qualifier = new.isa_qualifier and e.isa_id = new.isa_id) then
    perform app_private.raise_error('edi_interchange_taken', format('%s/%s is another partner''s interchange id', new.isa_qualifier, new.isa_id));
  end if;
  -- (a value that is not a name of the tenant's is its CHECK's to refuse)
  if starts_with(new.credential_ref, new.tenant_id::text || '/')
     and not exists (select 1 from vault.secrets s where s.name = new.credential_ref) then
    perform app_private.raise_error('edi_credential_missing', format('no Vault secret %s', new.credential_ref));
  end if;
  new.updated_at := now();
  return new;
end $$;
comment on function app_private.tms_admin_edi_partner_check() is
  'EDI partners: an active shipper or carrier party, an interchange id of its own, credentials by an existing Vault name.';
revoke execute on function app_private.tms_admin_edi_partner_check() from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger tms_admin_lane_equipment after insert or update of equipment_type, active on public.lanes
  for each row execute function app_private.tms_admin_lane_equipment_check();
create trigger tms_admin_equipment_type_in_use after update of active, code on public.tms_admin_equipment_types
  for each row execute function app_private.tms_admin_equipment_type_check();
create trigger tms_admin_edi_partner_check before insert or update on public.tms_admin_edi_partners
  for each row execute function app_private.tms_admin_edi_partner_check();
