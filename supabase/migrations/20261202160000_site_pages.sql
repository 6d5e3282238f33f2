-- The website (charter §5, issue 18): the page registry the `site` function serves. A page
-- is a path and a kind; its content lives in numbered versions, and the page points at the
-- version that is live (published_version). Publishing a new version and rolling back to an
-- earlier one are the only ways to change what is live: each is one function, checked
-- (site.publish in the site's tenant), audited (audit_log: site.publish / site.rollback with
-- from/to versions) and reversible (a rollback is itself undone by another rollback).
-- The SEO audit's scores are kept per page and version, with their history.
--
-- The site belongs to one tenant (ops.site_settings: the company whose website it
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
create table ops.site_settings (
  singleton boolean primary key default true constraint site_settings_one_row_check check (singleton),
  tenant_id uuid not null references public.tenants (id) on delete cascade
);
comment on table ops.site_settings is 'The tenant whose website the site function serves (its CRM gets the leads).';

create table public.site_pages (
  id                uuid not null default gen_random_uuid() constraint site_pages_id_key unique,
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
select ops.set_rls_sample('public.site_pages', '{"id": "$uuid", "tenant_id": "$tenant", "path": "/matrix-$n", "kind": "page"}');

create table public.site_page_versions (
  page_id     uuid not null references public.site_pages (id) on delete cascade,
  tenant_id   uuid not null,
  version     int not null constraint site_page_versions_version_positive_check check (version >= 1),
  title       text not null constraint site_page_versions_title_length_check check (length(btrim(title)) between 1 and 200),
  description text not null constraint site_page_versions_description_length_check check (length(btrim(description)) between 1 and 400),
  -- the page's structured content (h1, lead, sections, faq, plans, job, post, form, image):
  -- the site function's zod schema (supabase/functions/site/content.ts) reads it
  content     jsonb not null constraint site_page_versions_content_object_check check (jsonb_typeof(content) = 'object'),
  created_at  timestamptz not null default now(),
  primary key (page_id, version)
);
comment on table public.site_page_versions is 'Every version of every page (append-only: a change is a new version).';
-- written only by site_publish (SECURITY DEFINER): no write through the API
select ops.attach_rails('public.site_page_versions', 'domain.read', null, null, null, 'domain', 'none');
select ops.set_rls_sample('public.site_page_versions',
  '{"page_id": "$ref:site_pages", "tenant_id": "$tenant", "version": "1$n", "title": "Matrix $n", "description": "Matrix page $n", "content": {}}');

alter table public.site_pages add constraint site_pages_published_version_fkey
  foreign key (id, published_version) references public.site_page_versions (page_id, version);

create table public.site_seo_audits (
  id          bigint generated by default as identity primary key,
  page_id     uuid not null references public.site_pages (id) on delete cascade,
  tenant_id   uuid not null,
  version     int not null,
  score       int not null constraint site_seo_audits_score_range_check check (score between 0 and 100),
  checks      jsonb not null,
  audited_at  timestamptz not null default now()
);
comment on table public.site_seo_audits is 'SEO audit scores per page version, with their history (newest last).';
create index site_seo_audits_page_idx on public.site_seo_audits (page_id, audited_at);
-- written only by site_record_audit (SECURITY DEFINER)
select ops.attach_rails('public.site_seo_audits', 'domain.read', null, null, null, 'domain', 'none');
select ops.set_rls_sample('public.site_seo_audits', '{"page_id": "$ref:site_pages", "tenant_id": "$tenant", "version": 1, "score": 50, "checks": []}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
create function app_private.site_tenant() returns uuid
language sql stable security definer set search_path = '' as $$
  select tenant_id from ops.site_settings
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
  v_page   uuid;
begin
  perform app_private.require_permission(v_tenant, 'site.publish');
  select id, published_version into v_page, v_from from public.site_pages where tenant_id = v_tenant and path = p_path for update;
  if not found then
    perform app_private.raise_error('site_page_not_found', format('no page %s', left(p_path, 200)));
  end if;
  if not exists (select 1 from public.site_page_versions where page_id = v_page and version = p_version) then
    perform app_private.raise_error('site_version_not_found', format('page %s has no version %s', p_path, p_version),
      jsonb_build_object('path', p_path, 'version', p_version));
  end if;
  update public.site_pages set published_version = p_version, updated_at = now() where id = v_page;
  perform app_private.audit_write(v_tenant, p_action, 'site_page', p_path,
    jsonb_build_object('version', v_from), jsonb_build_object('version', p_version), p_reason);
  perform app_private.outbox_publish('site_page', p_path, p_action,
    jsonb_build_object('path', p_path, 'from_version', v_from, 'to_version', p_version), '{}'::jsonb, v_tenant);
  return jsonb_build_object('path', p_path, 'from_version', v_from, 'to_version', p_version);
end $$;
comment on function app_private.site_set_live(text, int, text, text) is
  'Makes a page version live (publish / rollback): site.publish, audited, published to the outbox.';

-- A page's version 1 is live at once (the seed's pages; a page is never without one).
create function app_private.site_first_version_live() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.site_pages set published_version = new.version
  where id = new.page_id and published_version is null and new.version = 1;
  return null;
end $$;
comment on function app_private.site_first_version_live() is 'Makes a page''s version 1 live (AFTER INSERT on site_page_versions).';
create trigger site_first_version_live after insert on public.site_page_versions
  for each row execute function app_private.site_first_version_live();

-- Publish: a new version of the page's title, description and content, made live.
create function public.site_publish(p_path text, p_title text, p_description text, p_content jsonb, p_reason text)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.claim_tenant();
  v_version int;
  v_page    uuid;
begin
  perform app_private.require_permission(v_tenant, 'site.publish');
  select id into v_page from public.site_pages where tenant_id = v_tenant and path = p_path for update;
  if v_page is null then
    perform app_private.raise_error('site_page_not_found', format('no page %s', left(p_path, 200)));
  end if;
  select coalesce(max(version), 0) + 1 into v_version from public.site_page_versions where page_id = v_page;
  insert into public.site_page_versions (page_id, tenant_id, version, title, description, content)
  values (v_page, v_tenant, v_version, p_title, p_description, p_content);
  return app_private.site_set_live(p_path, v_version, 'site.publish', p_reason);
end $$;
comment on function public.site_publish(text, text, text, jsonb, text) is
  'Publishes a new version of a page (site.publish; audited; the previous version stays for a rollback).';
revoke execute on function public.site_publish(text, text, text, jsonb, text) from public, anon;
grant execute on function public.site_publish(text, text, text, jsonb, text) to authenticated;

-- Roll back: an existing version made live again (site_version_not_found otherwise).
create function public.site_rollback(p_path text, p_version int, p_reason text)
returns jsonb
language sql security definer set search_path = '' as $$
  select app_private.site_set_live(p_path, p_version, 'site.rollback', p_reason)
$$;
comment on function public.site_rollback(text, int, text) is
  'Makes an earlier version of a page live again (site.publish; audited; itself reversible).';
revoke execute on function public.site_rollback(text, int, text) from public, anon;
grant execute on function public.site_rollback(text, int, text) to authenticated;

-- The SEO audit's result for a page's version (the audit is the site's TypeScript,
-- supabase/functions/site/seo.ts; `npm run site:export` records it for every page).
create function public.site_record_audit(p_path text, p_version int, p_score int, p_checks jsonb)
returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_id     bigint;
  v_page   uuid;
begin
  perform app_private.require_permission(v_tenant, 'domain.write');
  select v.page_id into v_page from public.site_pages p join public.site_page_versions v on v.page_id = p.id
  where p.tenant_id = v_tenant and p.path = p_path and v.version = p_version;
  if v_page is null then
    perform app_private.raise_error('site_version_not_found', format('page %s has no version %s', left(p_path, 200), p_version));
  end if;
  insert into public.site_seo_audits (page_id, tenant_id, version, score, checks)
  values (v_page, v_tenant, p_version, p_score, p_checks) returning id into v_id;
  return v_id;
end $$;
comment on function public.site_record_audit(text, int, int, jsonb) is
  'Records an SEO audit score of a page version (domain.write; history kept).';
revoke execute on function public.site_record_audit(text, int, int, jsonb) from public, anon;
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
