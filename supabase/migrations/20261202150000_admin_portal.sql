-- Admin portal (issue 17 item 2): the tenant admin's levers, each enforced here so every door
-- (the admin function, PostgREST, psql as a JWT principal) meets the same rules:
--   MFA policy      a human needs aal2 in the JWT (Supabase's `aal` claim) to change a flag
--                   (resume, mode, portal and budget flags...) or a role; engaging the kill
--                   switch (autonomy.emergencyStop -> true) needs only its permission, so the
--                   one-command halt stays easy. app_private.require_mfa() is the one check
--                   (payouts call it too). Machines authenticate with HMAC keys: no aal.
--   no escalation   a role assignment made under a JWT can be a global role (super_admin,
--                   machine roles) only with principals.manage (global), and never one's own
--                   (except accepting one's own invite): a trigger on role_assignments, after
--                   RLS, so it holds inside definer functions too.
--   invites         single-use, expiring; the token is returned once and stored as sha256.
--   deactivation    the member's role assignments in the tenant are taken away (kept on
--                   admin_members): every permission check of the next request refuses.
--   SSO policy      a tenant that requires SSO refuses a human token whose `amr` lacks an
--                   sso method (action_begin calls app_private.admin_session_check()).
--   branding        https URLs, #rrggbb colours, plain-text name: CHECK constraints.
--   tenant secrets  written into Vault (vault.create_secret), write-only: no API role can
--                   read vault or a function returning values; rotation keeps the previous
--                   version valid for an overlap.
--
-- Sections: permissions and grants (error codes); tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('mfa_required',     'SY260', 403, 'Multi-factor authentication required', 'This change needs an aal2 session (Supabase MFA): role changes, flag changes other than engaging the kill switch, SSO policy, payouts.'),
  ('role_escalation',  'SY261', 403, 'Role not grantable',                   'Global roles (super_admin, machine roles) are granted only with principals.manage; a tenant admin grants tenant roles.'),
  ('role_self_change', 'SY262', 403, 'Own roles cannot be changed',          'A principal cannot grant, change or remove its own roles (another admin does).'),
  ('invite_used',      'SY263', 409, 'Invite already used',                  'The invite token was accepted or revoked before, or is unknown: an invite is single-use.'),
  ('invite_expired',   'SY264', 410, 'Invite expired',                       'The invite token is past its expiry; the admin sends a new invite.'),
  ('sso_required',     'SY265', 401, 'Single sign-on required',              'The tenant requires SSO and the token''s amr has no sso method.'),
  ('bad_branding',     'SY266', 400, 'Branding rejected',                    'Branding takes https URLs without credentials, #rrggbb colours and a plain-text name (no markup).'),
  ('member_not_found', 'SY267', 404, 'No such member',                       'The principal is not (or no longer) a member of the tenant in the state the change needs.')
on conflict (code) do nothing;

-- Validators the tables' CHECKs use (immutable).
-- https only, no credentials in the URL, no whitespace or quotes (null: no logo).
create or replace function app_private.admin_https_url(p_url text) returns boolean
language sql immutable set search_path = '' as $$
  select p_url is null
      or (length(p_url) <= 2048 and p_url ~ '^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s"''<>\\`]*)?$')
$$;

create or replace function app_private.admin_sso_provider_valid(p jsonb) returns boolean
language sql immutable set search_path = '' as $$
  select p is null or (
    jsonb_typeof(p) = 'object'
    and p ->> 'protocol' in ('saml', 'oidc')
    and length(coalesce(p ->> 'entity_id', '')) between 3 and 500
    and app_private.admin_https_url(p ->> 'metadata_url') and p ? 'metadata_url'
    and jsonb_typeof(coalesce(p -> 'domains', '[]')) = 'array'
    and not exists (select 1 from jsonb_array_elements_text(coalesce(p -> 'domains', '[]')) d
                    where d !~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'))
$$;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Invites: the token itself is never stored (sha256 only, unique).
create table public.admin_invites (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  principal_id uuid not null references public.principals (id) on delete cascade,
  roles        text[] not null constraint admin_invites_roles_not_empty_check check (cardinality(roles) between 1 and 8),
  token_hash   bytea not null constraint admin_invites_token_hash_unique unique
               constraint admin_invites_token_hash_length_check check (length(token_hash) = 32),
  invited_by   uuid,
  created_at   timestamptz not null default now(),
  expires_at   timestamptz not null,
  accepted_at  timestamptz,
  revoked_at   timestamptz,
  constraint admin_invites_expiry_after_creation_check check (expires_at > created_at),
  constraint admin_invites_accepted_or_revoked_check check (accepted_at is null or revoked_at is null)
);
comment on table public.admin_invites is
  'Tenant invites: single-use, expiring, token stored as sha256 (admin portal).';
create index admin_invites_principal_idx on public.admin_invites (principal_id);
select ops.attach_rails('public.admin_invites', 'members.read', null, null, null, 'domain', 'immediate');
select ops.set_rls_sample('public.admin_invites',
  '{"tenant_id": "$tenant", "principal_id": "$principal", "roles": "{viewer}", "token_hash": "\\x$hex32$hex32", "expires_at": "2999-01-01"}');

-- Membership state: deactivation keeps the roles it took away, so reactivation restores them.
create table public.admin_members (
  tenant_id      uuid not null references public.tenants (id) on delete cascade,
  principal_id   uuid not null references public.principals (id) on delete cascade,
  status         text not null default 'active' constraint admin_members_status_allowed_check check (status in ('active', 'deactivated')),
  stashed_roles  text[] not null default '{}',
  reason         text constraint admin_members_reason_length_check check (length(reason) <= 500),
  changed_by     uuid,
  changed_at     timestamptz not null default now(),
  primary key (tenant_id, principal_id)
);
comment on table public.admin_members is
  'Tenant membership state (active / deactivated with the roles it had).';
create index admin_members_principal_idx on public.admin_members (principal_id);
select ops.attach_rails('public.admin_members', 'members.read', null, null, null, 'domain', 'immediate');
select ops.set_rls_sample('public.admin_members', '{"tenant_id": "$tenant", "principal_id": "$principal"}');

-- Branding and the SSO policy, one row per tenant.
create table public.admin_tenant_settings (
  tenant_id        uuid primary key references public.tenants (id) on delete cascade,
  display_name     text constraint admin_tenant_settings_display_name_plain_check
                   check (length(btrim(display_name)) between 1 and 80 and display_name !~ '[<>"`\\{}]'),
  logo_url         text constraint admin_tenant_settings_logo_url_https_check
                   check (app_private.admin_https_url(logo_url)),
  primary_color    text constraint admin_tenant_settings_primary_color_hex_check check (primary_color ~ '^#[0-9a-fA-F]{6}$'),
  accent_color     text constraint admin_tenant_settings_accent_color_hex_check check (accent_color ~ '^#[0-9a-fA-F]{6}$'),
  sso_required     boolean not null default false,
  -- {"protocol": "saml"|"oidc", "entity_id": ..., "metadata_url": https, "domains": [...]}
  sso_provider     jsonb constraint admin_tenant_settings_sso_provider_valid_check check (app_private.admin_sso_provider_valid(sso_provider)),
  updated_at       timestamptz not null default now(),
  constraint admin_tenant_settings_sso_needs_provider_check check (not sso_required or sso_provider is not null)
);
comment on table public.admin_tenant_settings is
  'Tenant branding (https URLs, hex colours, plain text) and SSO policy with the provider metadata.';
select ops.attach_rails('public.admin_tenant_settings', 'tenant.read', null, null, null, 'domain', 'immediate');
select ops.set_rls_sample('public.admin_tenant_settings', '{"tenant_id": "$tenant"}');

-- Tenant secrets: names and versions only; the values live in Vault ('tenant_secret:<tenant>:<name>:v<n>').
create table public.admin_secrets (
  id          uuid primary key default gen_random_uuid(),
  tenant_id   uuid not null references public.tenants (id) on delete cascade,
  name        text not null constraint admin_secrets_name_format_check check (name ~ '^[a-z][a-z0-9_.-]{1,62}$'),
  version     int  not null constraint admin_secrets_version_positive_check check (version >= 1),
  vault_name  text not null constraint admin_secrets_vault_name_unique unique,
  created_by  uuid,
  created_at  timestamptz not null default now(),
  -- null while current; a rotated-out version stays valid until then (the overlap)
  valid_until timestamptz,
  constraint admin_secrets_version_unique unique (tenant_id, name, version)
);
comment on table public.admin_secrets is
  'Tenant secret versions (metadata only; values in Vault, write-only through the API).';
select ops.attach_rails('public.admin_secrets', 'integrations.read', null, null, null, 'domain', 'immediate');
select ops.set_rls_sample('public.admin_secrets',
  '{"tenant_id": "$tenant", "name": "matrix_$n", "version": 1, "vault_name": "matrix:$uuid"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Is the caller's session strong enough for an MFA-guarded change? Trusted sessions (the
-- owner over psql, migrations, pg_cron) and machines (HMAC keys) are; a human needs aal2.
create or replace function app_private.mfa_satisfied() returns boolean
language sql stable security definer set search_path = '' as $$
  select app_private.is_trusted_session()
      or app_private.claim('aal') = 'aal2'
      or exists (select 1 from public.principals p where p.id = app_private.principal_id() and p.kind = 'machine')
      -- service_role without a principal (migrations' break-glass): no human session to step up
      or (app_private.principal_id() is null and coalesce(current_setting('role', true), '') = 'service_role')
$$;

create or replace function app_private.require_mfa(p_what text) returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if not app_private.mfa_satisfied() then
    perform app_private.raise_error('mfa_required',
      format('%s needs an aal2 session (this token is %s)', p_what, coalesce(app_private.claim('aal'), 'without aal')),
      jsonb_build_object('required_aal', 'aal2', 'aal', app_private.claim('aal')));
  end if;
end $$;
comment on function app_private.require_mfa(text) is
  'Raises mfa_required (SY260) unless the session is aal2, a machine or trusted (role and flag changes, payouts).';

-- The SSO policy, per request (action_begin): a human token in a tenant requiring SSO must
-- carry an sso amr entry (Supabase: {"method": "sso/saml" | "sso/oidc", "timestamp": n}).
create or replace function app_private.admin_session_check(p_tenant uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  v_amr jsonb;
begin
  if p_tenant is null or app_private.is_trusted_session()
     or not exists (select 1 from public.admin_tenant_settings s where s.tenant_id = p_tenant and s.sso_required)
     or exists (select 1 from public.principals p where p.id = app_private.principal_id() and p.kind = 'machine') then
    return;
  end if;
  v_amr := nullif(current_setting('request.jwt.claims', true), '')::jsonb -> 'amr';
  if jsonb_typeof(v_amr) is distinct from 'array' or not exists (
       select 1 from jsonb_array_elements(v_amr) e
       where (case jsonb_typeof(e) when 'object' then e ->> 'method' when 'string' then e #>> '{}' end) like 'sso%') then
    perform app_private.raise_error('sso_required',
      format('tenant %s requires single sign-on; sign in through the tenant''s identity provider', p_tenant));
  end if;
end $$;

-- Who may change this member's roles: members.manage in the tenant, an aal2 session, not oneself.
create or replace function app_private.admin_member_guard(p_tenant uuid, p_principal uuid, p_what text)
returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  perform app_private.require_permission(p_tenant, 'members.manage');
  perform app_private.require_mfa(p_what);
  if p_principal = app_private.principal_id() then
    perform app_private.raise_error('role_self_change', format('%s of oneself: another admin does it', p_what));
  end if;
end $$;

-- The roles a tenant admin may hand out: tenant-scoped roles for humans.
create or replace function app_private.admin_check_roles(p_roles text[]) returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  v_bad text;
begin
  if p_roles is null or cardinality(p_roles) = 0 then
    perform app_private.raise_error('bad_request', 'at least one role');
  end if;
  select r into v_bad from unnest(p_roles) r where not exists (select 1 from public.roles x where x.role = r) limit 1;
  if v_bad is not null then
    perform app_private.raise_error('unknown_role', format('"%s" is not a role', v_bad));
  end if;
  select r into v_bad from unnest(p_roles) r join public.roles x on x.role = r
  where x.scope <> 'tenant' or x.kind <> 'human' limit 1;
  if v_bad is not null and not app_private.has_permission(null, 'principals.manage') then
    perform app_private.raise_error('role_escalation', format('%s is not a tenant role a tenant admin may grant', v_bad));
  end if;
end $$;

-- Invites a person: creates (or finds) the human principal, no roles yet; the roles come
-- with acceptance. Returns the token once.
create or replace function app_private.admin_invite(p_tenant_id uuid, p_email text, p_roles text[],
                                                    p_ttl interval default interval '72 hours')
returns table (invite_id uuid, principal_id uuid, token text, expires_at timestamptz)
language plpgsql security definer set search_path = '' as $$
declare
  v_email text := lower(btrim(p_email));
  v_pid uuid;
  v_token text := encode(extensions.gen_random_bytes(32), 'hex');
  v_id uuid;
  v_exp timestamptz;
begin
  perform app_private.require_permission(p_tenant_id, 'members.manage');
  perform app_private.require_mfa('inviting with roles');
  perform app_private.admin_check_roles(p_roles);
  if p_ttl is null or p_ttl < interval '5 minutes' or p_ttl > interval '30 days' then
    perform app_private.raise_error('bad_request', 'an invite lives between 5 minutes and 30 days');
  end if;
  if v_email is null or v_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or length(v_email) > 254 then
    perform app_private.raise_error('bad_request', 'the invitee is not an email address');
  end if;
  select p.id into v_pid from public.principals p where p.name = v_email;
  if v_pid is not null and (select kind from public.principals where id = v_pid) <> 'human' then
    perform app_private.raise_error('bad_role_scope', 'the invitee is a machine principal');
  end if;
  if v_pid = app_private.principal_id() then
    perform app_private.raise_error('role_self_change', 'inviting oneself');
  end if;
  if v_pid is null then
    insert into public.principals (kind, name) values ('human', v_email) returning id into v_pid;
  end if;
  -- an open invite of the same person is replaced (its token stops working)
  update public.admin_invites i set revoked_at = now()
  where i.tenant_id = p_tenant_id and i.principal_id = v_pid and i.accepted_at is null and i.revoked_at is null;
  insert into public.admin_invites (tenant_id, principal_id, roles, token_hash, invited_by, expires_at)
  values (p_tenant_id, v_pid, (select array_agg(distinct r order by r) from unnest(p_roles) r),
          extensions.digest(v_token, 'sha256'), app_private.principal_id(), now() + p_ttl)
  returning id, admin_invites.expires_at into v_id, v_exp;
  return query select v_id, v_pid, v_token, v_exp;
end $$;

-- Accepts an invite as the invitee (sub = the invited principal): single use, before expiry.
create or replace function public.admin_accept_invite(p_token text)
returns table (tenant_id uuid, principal_id uuid, roles text[])
language plpgsql security definer set search_path = '' as $$
declare
  v public.admin_invites;
begin
  if p_token is null or p_token !~ '^[0-9a-f]{64}$' then
    perform app_private.raise_error('invite_used', 'not an invite token');
  end if;
  select * into v from public.admin_invites i where i.token_hash = extensions.digest(p_token, 'sha256') for update;
  if not found or v.accepted_at is not null or v.revoked_at is not null then
    perform app_private.raise_error('invite_used', 'the invite was used, replaced or revoked (or never existed)');
  end if;
  if v.expires_at <= now() then
    perform app_private.raise_error('invite_expired', format('the invite expired at %s', v.expires_at));
  end if;
  if app_private.principal_id() is distinct from v.principal_id then
    perform app_private.raise_error('forbidden', 'the invite is for another person: sign in as the invitee');
  end if;
  if (select t.status from public.tenants t where t.id = v.tenant_id) <> 'active' then
    perform app_private.raise_error('tenant_suspended', 'the tenant is suspended');
  end if;
  -- the role guard lets the invitee take exactly these roles in this transaction
  update public.admin_invites i set accepted_at = now() where i.id = v.id;
  insert into public.role_assignments (principal_id, role, tenant_id, granted_by)
  select v.principal_id, r, v.tenant_id, v.invited_by from unnest(v.roles) r
  on conflict on constraint role_assignments_unique do nothing;
  insert into public.admin_members (tenant_id, principal_id, status, changed_by)
  values (v.tenant_id, v.principal_id, 'active', v.principal_id)
  on conflict on constraint admin_members_pkey do update set status = 'active', stashed_roles = '{}', changed_at = now();
  return query select v.tenant_id, v.principal_id, v.roles;
end $$;
comment on function public.admin_accept_invite(text) is
  'Accepts an invite (RPC for the invitee; single-use, expiring: invite_used SY263, invite_expired SY264).';

-- Replaces a member's roles in the tenant.
create or replace function app_private.admin_set_roles(p_tenant_id uuid, p_principal uuid, p_roles text[])
returns text[]
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.admin_member_guard(p_tenant_id, p_principal, 'changing roles');
  perform app_private.admin_check_roles(p_roles);
  if not exists (select 1 from public.role_assignments ra where ra.tenant_id = p_tenant_id and ra.principal_id = p_principal) then
    perform app_private.raise_error('member_not_found', format('principal %s holds no role in the tenant (deactivated members are reactivated first)', p_principal));
  end if;
  delete from public.role_assignments ra
  where ra.tenant_id = p_tenant_id and ra.principal_id = p_principal and ra.role <> all (p_roles);
  insert into public.role_assignments (principal_id, role, tenant_id)
  select p_principal, r, p_tenant_id from unnest(p_roles) r
  on conflict on constraint role_assignments_unique do nothing;
  return (select array_agg(ra.role order by ra.role) from public.role_assignments ra
          where ra.tenant_id = p_tenant_id and ra.principal_id = p_principal);
end $$;

-- Deactivates a member: its roles in the tenant go (kept here); the next request is refused.
create or replace function app_private.admin_deactivate(p_tenant_id uuid, p_principal uuid, p_reason text)
returns text[]
language plpgsql security definer set search_path = '' as $$
declare
  v_roles text[];
begin
  perform app_private.admin_member_guard(p_tenant_id, p_principal, 'deactivating a member');
  if p_reason is null or length(btrim(p_reason)) < 3 then
    perform app_private.raise_error('bad_request', 'a reason of 3+ characters');
  end if;
  with gone as (
    delete from public.role_assignments ra where ra.tenant_id = p_tenant_id and ra.principal_id = p_principal returning ra.role)
  select array_agg(role order by role) into v_roles from gone;
  if v_roles is null then
    perform app_private.raise_error('member_not_found', format('principal %s is no active member of the tenant', p_principal));
  end if;
  -- open invites die with the membership
  update public.admin_invites i set revoked_at = now()
  where i.tenant_id = p_tenant_id and i.principal_id = p_principal and i.accepted_at is null and i.revoked_at is null;
  insert into public.admin_members (tenant_id, principal_id, status, stashed_roles, reason, changed_by)
  values (p_tenant_id, p_principal, 'deactivated', v_roles, p_reason, app_private.principal_id())
  on conflict on constraint admin_members_pkey do update
    set status = 'deactivated', stashed_roles = excluded.stashed_roles, reason = excluded.reason,
        changed_by = excluded.changed_by, changed_at = now();
  return v_roles;
end $$;

create or replace function app_private.admin_reactivate(p_tenant_id uuid, p_principal uuid)
returns text[]
language plpgsql security definer set search_path = '' as $$
declare
  v public.admin_members;
begin
  perform app_private.admin_member_guard(p_tenant_id, p_principal, 'reactivating a member');
  select * into v from public.admin_members m
  where m.tenant_id = p_tenant_id and m.principal_id = p_principal and m.status = 'deactivated' for update;
  if not found then
    perform app_private.raise_error('member_not_found', format('principal %s is not a deactivated member of the tenant', p_principal));
  end if;
  insert into public.role_assignments (principal_id, role, tenant_id)
  select p_principal, r, p_tenant_id from unnest(v.stashed_roles) r
  on conflict on constraint role_assignments_unique do nothing;
  update public.admin_members m set status = 'active', stashed_roles = '{}', reason = null,
         changed_by = app_private.principal_id(), changed_at = now()
  where m.tenant_id = p_tenant_id and m.principal_id = p_principal;
  return v.stashed_roles;
end $$;

-- Branding: the CHECKs decide; their violation is answered as bad_branding.
create or replace function app_private.admin_branding_set(p_tenant_id uuid, p_display_name text, p_logo_url text,
                                                          p_primary_color text, p_accent_color text)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_permission(p_tenant_id, 'tenant.manage');
  begin
    insert into public.admin_tenant_settings (tenant_id, display_name, logo_url, primary_color, accent_color)
    values (p_tenant_id, p_display_name, p_logo_url, p_primary_color, p_accent_color)
    on conflict (tenant_id) do update set display_name = excluded.display_name, logo_url = excluded.logo_url,
      primary_color = excluded.primary_color, accent_color = excluded.accent_color, updated_at = now();
  exception when check_violation then
    perform app_private.raise_error('bad_branding', format('branding refused (%s)', sqlerrm),
      jsonb_build_object('constraint', (regexp_match(sqlerrm, 'constraint "([a-z_]+)"'))[1]));
  end;
end $$;

-- The SSO policy (an aal2 change: it can lock people out).
create or replace function app_private.admin_sso_set(p_tenant_id uuid, p_required boolean, p_provider jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.require_permission(p_tenant_id, 'tenant.manage');
  perform app_private.require_mfa('changing the SSO policy');
  if not app_private.admin_sso_provider_valid(p_provider) or (p_required and p_provider is null) then
    perform app_private.raise_error('bad_request',
      'the provider needs protocol saml|oidc, entity_id, an https metadata_url and lower-case domains');
  end if;
  insert into public.admin_tenant_settings (tenant_id, sso_required, sso_provider)
  values (p_tenant_id, coalesce(p_required, false), p_provider)
  on conflict (tenant_id) do update set sso_required = excluded.sso_required, sso_provider = excluded.sso_provider, updated_at = now();
end $$;

-- Writes a secret version into Vault; the previous current version stays valid for p_overlap.
-- Returns the version number, never a value.
create or replace function app_private.admin_secret_put(p_tenant_id uuid, p_name text, p_value text,
                                                        p_overlap interval default interval '24 hours')
returns int
language plpgsql security definer set search_path = '' as $$
declare
  v_version int;
  v_vault text;
begin
  perform app_private.require_permission(p_tenant_id, 'integrations.manage');
  if p_value is null or length(p_value) not between 8 and 8192 then
    perform app_private.raise_error('bad_request', 'a secret is 8 to 8192 characters');
  end if;
  if p_overlap is null or p_overlap < interval '0' or p_overlap > interval '30 days' then
    perform app_private.raise_error('bad_request', 'the overlap is between 0 and 30 days');
  end if;
  perform pg_advisory_xact_lock(hashtextextended('admin_secret:' || p_tenant_id || ':' || coalesce(p_name, ''), 0));
  select coalesce(max(s.version), 0) + 1 into v_version from public.admin_secrets s
  where s.tenant_id = p_tenant_id and s.name = p_name;
  v_vault := format('tenant_secret:%s:%s:v%s', p_tenant_id, p_name, v_version);
  update public.admin_secrets s set valid_until = now() + p_overlap
  where s.tenant_id = p_tenant_id and s.name = p_name and s.valid_until is null;
  insert into public.admin_secrets (tenant_id, name, version, vault_name, created_by)
  values (p_tenant_id, p_name, v_version, v_vault, app_private.principal_id());
  perform vault.create_secret(p_value, v_vault, 'tenant secret (admin portal)');
  return v_version;
end $$;

-- The values an integration may use now (current + overlapping): the edge's own session only.
create or replace function app_private.admin_secret_values(p_tenant_id uuid, p_name text)
returns table (version int, secret text)
language sql stable security definer set search_path = '' as $$
  select s.version, v.decrypted_secret from public.admin_secrets s
  join vault.decrypted_secrets v on v.name = s.vault_name
  where s.tenant_id = p_tenant_id and s.name = p_name and (s.valid_until is null or s.valid_until > now())
  order by s.version desc
$$;
revoke all on function app_private.admin_secret_values(uuid, text) from public, authenticated, service_role;

-- PUBLIC keeps no EXECUTE on this file's functions (the platform's revoke ran before them);
-- the API gets exactly the admin levers (each checks its permission) and the invite RPC.
do $$
declare f regprocedure;
begin
  for f in select p.oid::regprocedure from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where (n.nspname = 'app_private' and p.proname ~ '^(admin_|mfa_satisfied$|require_mfa$)')
              or (n.nspname = 'public' and p.proname = 'admin_accept_invite') loop
    execute format('revoke execute on function %s from public, anon', f);
  end loop;
end $$;
grant execute on function
  app_private.admin_invite(uuid, text, text[], interval), public.admin_accept_invite(text),
  app_private.admin_set_roles(uuid, uuid, text[]), app_private.admin_deactivate(uuid, uuid, text),
  app_private.admin_reactivate(uuid, uuid),
  app_private.admin_branding_set(uuid, text, text, text, text), app_private.admin_sso_set(uuid, boolean, jsonb),
  app_private.admin_secret_put(uuid, text, text, interval)
to authenticated;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
-- No escalation, no self-change, aal2: on every role assignment change made under a JWT.
-- AFTER the row (RLS WITH CHECK has run: a plain forbidden insert stays 42501).
create or replace function app_private.admin_role_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r public.role_assignments := coalesce(new, old);
  v_actor uuid := app_private.principal_id();
  v_scope text;
  v_accepting boolean;
begin
  if app_private.is_trusted_session() or v_actor is null
     or exists (select 1 from public.principals p where p.id = v_actor and p.kind = 'machine') then
    return null;
  end if;
  select x.scope into v_scope from public.roles x where x.role = r.role;
  if (v_scope is distinct from 'tenant' or r.tenant_id is null
      or (tg_op = 'UPDATE' and (old.tenant_id is null or (select x.scope from public.roles x where x.role = old.role) <> 'tenant')))
     and not app_private.has_permission(null, 'principals.manage') then
    perform app_private.raise_error('role_escalation',
      format('%s is a global role: only principals.manage (global) grants or removes it', r.role));
  end if;
  -- the one self-grant: taking the roles of one's own invite, accepted in this transaction
  v_accepting := tg_op = 'INSERT' and exists (
    select 1 from public.admin_invites i
    where i.principal_id = v_actor and i.tenant_id = r.tenant_id and r.role = any (i.roles) and i.accepted_at = now());
  if v_accepting then
    return null;
  end if;
  if r.principal_id = v_actor or (tg_op = 'UPDATE' and old.principal_id = v_actor) then
    perform app_private.raise_error('role_self_change', format('principal %s cannot change its own roles', v_actor));
  end if;
  perform app_private.require_mfa('a role change');
  return null;
end $$;
create trigger admin_role_guard after insert or update or delete on public.role_assignments
  for each row execute function app_private.admin_role_guard();

-- aal2 for every flag change by a human except engaging the kill switch (STOP stays easy;
-- resume, mode, budgets, portal flags need MFA). Named to run after validate_flag (the
-- value is normalized by then).
create or replace function app_private.admin_flag_mfa_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and new.key = 'autonomy.emergencyStop' and new.scope = 'global'
     and new.value::text = 'true' and new.key = old.key and new.scope = old.scope then
    return new;
  end if;
  if tg_op = 'UPDATE' and new.value is not distinct from old.value and new.key = old.key and new.scope = old.scope then
    return new; -- reason / owner only
  end if;
  perform app_private.require_mfa(format('changing %s', coalesce(new.key, old.key)));
  return coalesce(new, old);
end $$;
create trigger zz_admin_flag_mfa_guard before insert or update or delete on public.feature_flags_v2
  for each row execute function app_private.admin_flag_mfa_guard();
