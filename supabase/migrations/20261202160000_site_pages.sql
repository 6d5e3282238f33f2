-- The website (charter §5, issue 18): the page registry the `site` function serves. A page
-- is a path and a kind; its content lives in numbered versions, and the page points at the
-- version that is live (published_version). Publishing a new version and rolling back to an
-- earlier one are the only ways to change what is live: each is one function, checked
-- (site.publish in the site's tenant), audited (audit_log: site.publish / site.rollback with
-- from/to versions) and reversible (a rollback is itself undone by another rollback).
-- The SEO audit's scores are kept per page and version, with their history.
--
-- The site belongs to one tenant (app_private.site_settings: the company whose website it
-- is; its CRM receives the website's leads). The content is public once published, but the
-- tables are tenant tables like any other (RLS, rails, row audit): the site function reads
-- them under a machine's claims in that tenant.
--
-- Sections: permissions and grants (error codes, permissions); tables; functions.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('site_version_not_found', 'SY280', 404, 'No such page version', 'The page has no version with this number (publish or roll back to one that exists).'),
  ('site_page_not_found',    'SY281', 404, 'No such page',         'The site has no page at this path.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('site.publish', 'Publish a website page version or roll a page back to an earlier version')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'site.publish'), ('tenant_admin', 'site.publish')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Which tenant the website belongs to (one row; set by the seed or an operator).
create table app_private.site_settings (
  singleton boolean primary key default true constraint site_settings_singleton_check check (singleton),
  tenant_id uuid not null references public.tenants (id) on delete cascade
);
comment on table app_private.site_settings is 'The tenant whose website the site function serves (its CRM gets the leads).';

create table public.site_pages (
  tenant_id         uuid not null references public.tenants (id) on delete cascade,
  path              text not null constraint site_pages_path_format_check check (path ~ '^/([a-z0-9]+(-[a-z0-9]+)*(/[a-z0-9]+(-[a-z0-9]+)*)*)?$'),
  kind              text not null constraint site_pages_kind_allowed_check check (kind in
                      ('home', 'pricing', 'features', 'roi', 'solution', 'blog_index', 'blog_post', 'docs', 'doc',
                       'support', 'careers', 'job', 'legal', 'contact', 'demo', 'page')),
  published_version int,
  sort              int not null default 0,
  updated_at        timestamptz not null default now(),
  primary key (tenant_id, path)
);
comment on table public.site_pages is 'The website''s page registry: path, kind and the live version.';
-- the live version moves only through site_publish / site_rollback
select ops.attach_rails('public.site_pages', 'domain.read', null, null, null);

create table public.site_page_versions (
  tenant_id   uuid not null,
  path        text not null,
  version     int not null constraint site_page_versions_version_positive_check check (version >= 1),
  title       text not null constraint site_page_versions_title_length_check check (length(btrim(title)) between 1 and 200),
  description text not null constraint site_page_versions_description_length_check check (length(btrim(description)) between 1 and 400),
  -- the page's structured content (h1, lead, sections, faq, plans, job, post, form, image):
  -- the site function's zod schema (supabase/functions/site/content.ts) reads it
  content     jsonb not null constraint site_page_versions_content_object_check check (jsonb_typeof(content) = 'object'),
  created_at  timestamptz not null default now(),
  primary key (tenant_id, path, version),
  foreign key (tenant_id, path) references public.site_pages (tenant_id, path) on delete cascade
);
comment on table public.site_page_versions is 'Every version of every page (append-only: a change is a new version).';
-- written only by site_publish (SECURITY DEFINER): no write through the API
select ops.attach_rails('public.site_page_versions', 'domain.read', null, null, null, 'domain', 'none');

alter table public.site_pages add constraint site_pages_published_version_fkey
  foreign key (tenant_id, path, published_version) references public.site_page_versions (tenant_id, path, version);

create table public.site_seo_audits (
  id          bigint generated always as identity primary key,
  tenant_id   uuid not null,
  path        text not null,
  version     int not null,
  score       int not null constraint site_seo_audits_score_range_check check (score between 0 and 100),
  checks      jsonb not null,
  audited_at  timestamptz not null default now(),
  foreign key (tenant_id, path, version) references public.site_page_versions (tenant_id, path, version) on delete cascade
);
comment on table public.site_seo_audits is 'SEO audit scores per page version, with their history (newest last).';
create index site_seo_audits_page_idx on public.site_seo_audits (tenant_id, path, audited_at);
-- written only by site_record_audit (SECURITY DEFINER)
select ops.attach_rails('public.site_seo_audits', 'domain.read', null, null, null, 'domain', 'none');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
create function app_private.site_tenant() returns uuid
language sql stable security definer set search_path = '' as $$
  select tenant_id from app_private.site_settings
$$;
comment on function app_private.site_tenant() is 'The tenant whose website the site function serves.';
grant execute on function app_private.site_tenant() to authenticated, service_role;

-- Point the page at a version (the one write both publish and rollback make), audited.
create function app_private.site_set_live(p_path text, p_version int, p_action text, p_reason text)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_from   int;
begin
  perform app_private.require_permission(v_tenant, 'site.publish');
  select published_version into v_from from public.site_pages where tenant_id = v_tenant and path = p_path for update;
  if not found then
    perform app_private.raise_error('site_page_not_found', format('no page %s', left(p_path, 200)));
  end if;
  if not exists (select 1 from public.site_page_versions where tenant_id = v_tenant and path = p_path and version = p_version) then
    perform app_private.raise_error('site_version_not_found', format('page %s has no version %s', p_path, p_version),
      jsonb_build_object('path', p_path, 'version', p_version));
  end if;
  update public.site_pages set published_version = p_version, updated_at = now() where tenant_id = v_tenant and path = p_path;
  perform app_private.audit_write(v_tenant, p_action, 'site_page', p_path,
    jsonb_build_object('version', v_from), jsonb_build_object('version', p_version), p_reason);
  perform app_private.outbox_publish('site_page', p_path, p_action,
    jsonb_build_object('path', p_path, 'from_version', v_from, 'to_version', p_version), '{}'::jsonb, v_tenant);
  return jsonb_build_object('path', p_path, 'from_version', v_from, 'to_version', p_version);
end $$;
comment on function app_private.site_set_live(text, int, text, text) is
  'Makes a page version live (publish / rollback): site.publish, audited, published to the outbox.';

-- A new page's first version is live at once (the seed's pages; a page is never without one).
create function app_private.site_first_version_live() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.site_pages set published_version = new.version
  where tenant_id = new.tenant_id and path = new.path and published_version is null;
  return null;
end $$;
comment on function app_private.site_first_version_live() is 'Makes a page''s first version live (AFTER INSERT on site_page_versions).';
create trigger site_first_version_live after insert on public.site_page_versions
  for each row execute function app_private.site_first_version_live();

-- Publish: a new version of the page's title, description and content, made live.
create function public.site_publish(p_path text, p_title text, p_description text, p_content jsonb, p_reason text)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.claim_tenant();
  v_version int;
begin
  perform app_private.require_permission(v_tenant, 'site.publish');
  select coalesce(max(version), 0) + 1 into v_version
  from public.site_page_versions where tenant_id = v_tenant and path = p_path;
  if not exists (select 1 from public.site_pages where tenant_id = v_tenant and path = p_path) then
    perform app_private.raise_error('site_page_not_found', format('no page %s', left(p_path, 200)));
  end if;
  insert into public.site_page_versions (tenant_id, path, version, title, description, content)
  values (v_tenant, p_path, v_version, p_title, p_description, p_content);
  return app_private.site_set_live(p_path, v_version, 'site.publish', p_reason);
end $$;
comment on function public.site_publish(text, text, text, jsonb, text) is
  'Publishes a new version of a page (site.publish; audited; the previous version stays for a rollback).';
grant execute on function public.site_publish(text, text, text, jsonb, text) to authenticated;

-- Roll back: an existing version made live again (site_version_not_found otherwise).
create function public.site_rollback(p_path text, p_version int, p_reason text)
returns jsonb
language sql security definer set search_path = '' as $$
  select app_private.site_set_live(p_path, p_version, 'site.rollback', p_reason)
$$;
comment on function public.site_rollback(text, int, text) is
  'Makes an earlier version of a page live again (site.publish; audited; itself reversible).';
grant execute on function public.site_rollback(text, int, text) to authenticated;

-- The SEO audit's result for a page's version (the audit is the site's TypeScript,
-- supabase/functions/site/seo.ts; `npm run site:export` records it for every page).
create function public.site_record_audit(p_path text, p_version int, p_score int, p_checks jsonb)
returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_id     bigint;
begin
  perform app_private.require_permission(v_tenant, 'domain.write');
  if not exists (select 1 from public.site_page_versions where tenant_id = v_tenant and path = p_path and version = p_version) then
    perform app_private.raise_error('site_version_not_found', format('page %s has no version %s', left(p_path, 200), p_version));
  end if;
  insert into public.site_seo_audits (tenant_id, path, version, score, checks)
  values (v_tenant, p_path, p_version, p_score, p_checks) returning id into v_id;
  return v_id;
end $$;
comment on function public.site_record_audit(text, int, int, jsonb) is
  'Records an SEO audit score of a page version (domain.write; history kept).';
grant execute on function public.site_record_audit(text, int, int, jsonb) to authenticated;

-- The website forms' per-visitor limit: 10 posts a minute per (hashed) IP, in the site's
-- tenant, taken before the CRM action runs (the action's own per-principal limit still applies).
create function app_private.site_form_take(p_ip_hash text)
returns table (allowed boolean, retry_after_seconds int)
language sql security definer set search_path = '' as $$
  select t.allowed, t.retry_after_seconds
  from app_private.rate_limit_take('site.forms', p_ip_hash, 10, 60, 1, app_private.claim_tenant()) t
$$;
comment on function app_private.site_form_take(text) is
  'Takes one website form post from the visitor IP''s allowance (10 a minute, hashed IP).';
grant execute on function app_private.site_form_take(text) to authenticated;
