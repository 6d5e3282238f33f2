-- Switchboard (charter §3): feature_flags_v2.
--
-- value is text on purpose: the charter's fragments insert false, 'FULL' and 150 into the
-- one column in one statement, which jsonb would reject. A BEFORE trigger validates each
-- value against its key's definition (type, range, allowed values, budgets never negative)
-- and normalizes it ('t' -> 'true', '0150' -> '150'); reads come back typed (jsonb) through
-- public.flag_value(), public.flags_effective() and the view public.feature_flags_typed.
--
-- Scopes, most specific wins:  tenant:<uuid>:portal:<name>  >  tenant:<uuid>  >
-- portal:<name>  >  global  >  the definition's default.
--
-- Every change, by any path (API, edge, bare psql as the owner), lands in
-- public.feature_flag_history and in the audit log with who, when, old, new and reason.

-- Sections: tables; flags; functions; views; row level security.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- (the first segment is a portal or area name: portal names may have an underscore, load_board)
create table public.flag_definitions (
  key              text primary key constraint flag_definitions_key_format_check check (key ~ '^[a-z][A-Za-z0-9_]*(\.[a-z][A-Za-z0-9]*)+$'),
  value_type       text not null constraint flag_definitions_value_type_allowed_check check (value_type in ('boolean', 'integer', 'number', 'string')),
  min_value        numeric,
  max_value        numeric,
  allowed_values   text[],
  is_budget        boolean not null default false,   -- budgets can never be negative
  allowed_scopes   text[] not null default '{global}'
                   constraint flag_definitions_allowed_scopes_allowed_check check (cardinality(allowed_scopes) > 0
                          and allowed_scopes <@ array['global', 'tenant', 'portal', 'tenant_portal']),
  default_value    text not null,
  write_permission text not null references public.permissions (permission),
  description      text not null
);
comment on table public.flag_definitions is
  'The switchboard''s flags: type, range, allowed values and scopes, default, and the permission that writes each.';


create table public.feature_flags_v2 (
  id              uuid primary key default gen_random_uuid(),
  key             text not null references public.flag_definitions (key),
  scope           text not null default 'global',
  value           text not null,
  reason          text,
  owner_name      text,
  -- derived from scope by the validation trigger (whatever the writer sent)
  tenant_id       uuid references public.tenants (id) on delete cascade,
  portal          text references public.portals (name),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  updated_by      text,
  constraint feature_flags_v2_key_scope unique (key, scope)
);
comment on table public.feature_flags_v2 is
  'The switchboard (charter §3): flag values by scope (global, tenant, portal, tenant+portal), text validated per definition.';
create index feature_flags_v2_tenant_idx on public.feature_flags_v2 (tenant_id);
create index feature_flags_v2_key_idx on public.feature_flags_v2 (key, tenant_id, portal);

-- History (+ audit) of every change (written by the record_flag_change trigger only).
create table public.feature_flag_history (
  id               uuid primary key default gen_random_uuid(),
  flag_id          uuid,
  key              text not null,
  scope            text not null,
  tenant_id        uuid,
  portal           text,
  op               text not null constraint feature_flag_history_op_allowed_check check (op in ('insert', 'update', 'delete')),
  old_value        text,
  new_value        text,
  reason           text,
  changed_by       text not null,        -- principal name, else the database session user
  principal_id     uuid,
  db_user          text not null,        -- session_user (and role) of the connection
  application_name text,
  client_addr      inet,
  trace_id         text,
  changed_at       timestamptz not null default clock_timestamp()
);
comment on table public.feature_flag_history is
  'Every change of a flag, by any path, with who, when, old, new and reason.';
create index feature_flag_history_key_idx on public.feature_flag_history (key, scope, changed_at);

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
-- The charter's switchboard (charter §3); portals add theirs in their own migration.
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('autonomy.emergencyStop',      'boolean', null, null, null, false, '{global}',
   'false', 'flags.emergency_stop.write', 'Global kill switch: true halts every write by a machine principal'),
  ('autonomy.mode',               'string',  null, null, '{FULL,DEGRADE,STEP-DOWN}', false, '{global}',
   'FULL', 'flags.autonomy.write', 'FULL | DEGRADE (DLQ replays paused) | STEP-DOWN (machines read-only, replays need approval)'),
  ('agents.autonomousEnabled',    'boolean', null, null, null, false, '{global,tenant}',
   'true', 'flags.autonomy.write', 'false stops the agents service account from writing'),
  ('obs.otelEnabled',             'boolean', null, null, null, false, '{global,tenant,portal,tenant_portal}',
   'true', 'flags.global.write', 'Tracing on/off'),
  ('budget.agents.maxConcurrent', 'integer', 0, 100000, null, true, '{global,tenant}',
   '150', 'flags.budget.write', 'Concurrency cap for agent leases (global pool; a tenant value caps that tenant)'),
  ('budget.replay.maxBatch',      'integer', 0, 10000, null, true, '{global,tenant}',
   '50', 'flags.budget.write', 'Max DLQ entries per replay request'),
  ('budget.replay.maxPayloadMB',  'number',  0, 1024, null, true, '{global,tenant}',
   '2', 'flags.budget.write', 'Max total payload per replay request, in MB'),
  ('rate.replay.per5m',           'integer', 0, 10000, null, true, '{global,tenant}',
   '3', 'flags.budget.write', 'Replay requests per 5 minutes, per tenant and per IP'),
  ('budget.cost.dailyUSD',        'number',  0, null, null, true, '{global,tenant}',
   '500', 'flags.budget.write', 'Per-tenant cost ceiling per UTC day'),
  ('budget.cost.monthlyUSD',      'number',  0, null, null, true, '{global,tenant}',
   '10000', 'flags.budget.write', 'Per-tenant cost ceiling per UTC month'),
  ('dlq.paused',                  'boolean', null, null, null, false, '{global,tenant}',
   'false', 'flags.autonomy.write', 'true pauses DLQ replays (DEGRADE)'),
  ('portal.enabled',              'boolean', null, null, null, false, '{global,tenant,portal,tenant_portal}',
   'true', 'flags.portal.write', 'false refuses writes made through the portal'),
  ('canary.percent',              'integer', 0, 100, null, false, '{global,portal,tenant_portal}',
   '0', 'flags.canary.write', 'Share of traffic routed to the canary');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Validation

create function app_private.flag_definition(p_key text) returns public.flag_definitions
language plpgsql stable security definer set search_path = '' as $$
declare
  d public.flag_definitions;
begin
  select * into d from public.flag_definitions f where f.key = p_key;
  if not found then
    perform app_private.raise_error('unknown_flag',
      format('no flag named "%s"; known flags: %s', p_key,
             (select string_agg(f.key, ', ' order by f.key) from public.flag_definitions f)));
  end if;
  return d;
end $$;

-- Parses a scope; raises bad_flag_scope with what is wrong.
create function app_private.parse_flag_scope(p_scope text,
  out scope text, out kind text, out tenant_id uuid, out portal text)
language plpgsql stable security definer set search_path = '' as $$
declare
  s text := btrim(coalesce(p_scope, ''));
  m text[];
  v_tenant text;
  v_portal text;
begin
  if s = 'global' then
    scope := 'global'; kind := 'global';
    return;
  end if;
  m := regexp_match(s, '^tenant:([^:]*)(?::portal:(.*))?$');
  if m is null then
    m := regexp_match(s, '^portal:(.*)$');
    if m is null then
      perform app_private.raise_error('bad_flag_scope',
        format('"%s" is not a scope; use global, tenant:<uuid>, portal:<name> or tenant:<uuid>:portal:<name>', s));
    end if;
    v_portal := m[1];
  else
    v_tenant := m[1];
    v_portal := m[2];
    if v_tenant = '' then
      perform app_private.raise_error('bad_flag_scope',
        format('scope "%s" names no tenant; use tenant:<uuid>', s));
    end if;
    if v_tenant !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
      perform app_private.raise_error('bad_flag_scope',
        format('scope "%s" does not name a tenant: "%s" is not a tenant uuid', s, v_tenant));
    end if;
    tenant_id := v_tenant::uuid;
    if not exists (select 1 from public.tenants t where t.id = tenant_id) then
      perform app_private.raise_error('bad_flag_scope',
        format('scope "%s" names no existing tenant', s));
    end if;
  end if;
  if v_portal is not null then
    if v_portal = '' then
      perform app_private.raise_error('bad_flag_scope', format('scope "%s" names no portal', s));
    end if;
    if not exists (select 1 from public.portals p where p.name = v_portal) then
      perform app_private.raise_error('bad_flag_scope',
        format('scope "%s" names unknown portal "%s"; portals: %s', s, v_portal,
               (select string_agg(p.name, ', ' order by p.position) from public.portals p)));
    end if;
    portal := v_portal;
  end if;
  kind := case when tenant_id is not null and portal is not null then 'tenant_portal'
               when tenant_id is not null then 'tenant' else 'portal' end;
  scope := case kind when 'tenant_portal' then 'tenant:' || tenant_id || ':portal:' || portal
                     when 'tenant' then 'tenant:' || tenant_id
                     else 'portal:' || portal end;
end $$;

-- Validates a value for its definition and returns it in canonical text form.
create function app_private.flag_normalize(d public.flag_definitions, p_value text)
returns text
language plpgsql stable set search_path = '' as $$
declare
  v text := btrim(p_value);
  n numeric;
begin
  if v is null or v = '' then
    perform app_private.raise_error('bad_flag_value', format('%s needs a value', d.key));
  end if;
  case d.value_type
    when 'boolean' then
      if lower(v) in ('true', 't', 'yes', 'on', '1') then return 'true'; end if;
      if lower(v) in ('false', 'f', 'no', 'off', '0') then return 'false'; end if;
      perform app_private.raise_error('bad_flag_value',
        format('%s is a boolean; "%s" is not true or false', d.key, p_value));
    when 'integer', 'number' then
      if d.value_type = 'integer' and v !~ '^[+-]?[0-9]+$' then
        perform app_private.raise_error('bad_flag_value',
          format('%s is an integer; "%s" is not one', d.key, p_value));
      end if;
      if v !~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$' then
        perform app_private.raise_error('bad_flag_value',
          format('%s is a number; "%s" is not one', d.key, p_value));
      end if;
      n := v::numeric;
      if d.is_budget and n < 0 then
        perform app_private.raise_error('bad_flag_value',
          format('%s is a budget and cannot be negative (got %s)', d.key, p_value));
      end if;
      if (d.min_value is not null and n < d.min_value) or (d.max_value is not null and n > d.max_value) then
        perform app_private.raise_error('bad_flag_value',
          format('%s must be between %s and %s (got %s)', d.key,
                 coalesce(d.min_value::text, '-inf'), coalesce(d.max_value::text, 'inf'), p_value));
      end if;
      return case when d.value_type = 'integer' then n::bigint::text else trim_scale(n)::text end;
    else
      if d.allowed_values is not null then
        -- case-insensitive match, returned in the definition's spelling
        if exists (select 1 from unnest(d.allowed_values) x where upper(x) = upper(v)) then
          return (select x from unnest(d.allowed_values) x where upper(x) = upper(v) limit 1);
        end if;
        perform app_private.raise_error('bad_flag_value',
          format('%s must be one of %s (got "%s")', d.key, array_to_string(d.allowed_values, ', '), p_value));
      end if;
      return v;
  end case;
  return v;
end $$;

-- canonical text -> jsonb of the right type
create function app_private.flag_typed(p_value_type text, p_value text)
returns jsonb
language sql immutable set search_path = '' as $$
  select case p_value_type
    when 'boolean' then to_jsonb(p_value::boolean)
    when 'integer' then to_jsonb(p_value::numeric)
    when 'number'  then to_jsonb(p_value::numeric)
    else to_jsonb(p_value) end
$$;

-- BEFORE INSERT/UPDATE: key known, scope valid and allowed for the key, value valid.
create function app_private.validate_flag() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  d  public.flag_definitions;
  sc record;
  a  record;
begin
  d := app_private.flag_definition(new.key);
  select * into sc from app_private.parse_flag_scope(coalesce(new.scope, 'global'));
  if not (sc.kind = any (d.allowed_scopes)) then
    perform app_private.raise_error('bad_flag_scope',
      format('%s can only be set at scope %s (got "%s")', d.key,
             array_to_string(d.allowed_scopes, ' / '), new.scope));
  end if;
  new.scope := sc.scope;
  new.tenant_id := sc.tenant_id;
  new.portal := sc.portal;
  new.value := app_private.flag_normalize(d, new.value);
  select * into a from app_private.actor();
  new.updated_at := now();
  new.updated_by := coalesce(a.principal_name, a.db_user);
  if tg_op = 'INSERT' then
    new.created_at := now();
  end if;
  return new;
end $$;

create trigger validate_flag before insert or update on public.feature_flags_v2
  for each row execute function app_private.validate_flag();

-- History (+ audit) for every change

create function app_private.record_flag_change() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  a        record;
  c        record;
  v_row    public.feature_flags_v2 := case when tg_op = 'DELETE' then old else new end;
  v_reason text;
begin
  if tg_op = 'UPDATE' and old.value = new.value and old.reason is not distinct from new.reason
     and old.owner_name is not distinct from new.owner_name then
    return null;  -- nothing changed
  end if;
  select * into a from app_private.actor();
  select * into c from app_private.request_context();
  v_reason := coalesce(
    nullif(current_setting('app.reason', true), ''),
    case when tg_op = 'INSERT' then new.reason
         when tg_op = 'UPDATE' and new.reason is distinct from old.reason then new.reason end);
  insert into public.feature_flag_history
    (flag_id, key, scope, tenant_id, portal, op, old_value, new_value, reason,
     changed_by, principal_id, db_user, application_name, client_addr, trace_id)
  values
    (v_row.id, v_row.key, v_row.scope, v_row.tenant_id, v_row.portal, lower(tg_op),
     case when tg_op <> 'INSERT' then old.value end,
     case when tg_op <> 'DELETE' then new.value end,
     v_reason, coalesce(a.principal_name, a.db_user), a.principal_id, a.db_user,
     nullif(current_setting('application_name', true), ''), inet_client_addr(), c.trace_id);
  perform app_private.audit_write(v_row.tenant_id, 'flag.' || lower(tg_op), 'feature_flag',
    v_row.key || '@' || v_row.scope,
    case when tg_op <> 'INSERT' then jsonb_build_object('value', old.value, 'reason', old.reason) end,
    case when tg_op <> 'DELETE' then jsonb_build_object('value', new.value, 'reason', new.reason) end,
    v_reason);
  return null;
end $$;

create trigger record_flag_change after insert or update or delete on public.feature_flags_v2
  for each row execute function app_private.record_flag_change();

-- Typed reads

-- Effective value for (key, tenant, portal): the most specific row, else the default. A
-- tenant's values need flags.read there; the platform's (no tenant) every principal reads.
create function app_private.flag_effective(p_key text, p_tenant_id uuid default null, p_portal text default null,
  out value jsonb, out raw text, out scope text, out value_type text)
language plpgsql stable security definer set search_path = '' as $$
declare
  d public.flag_definitions := app_private.flag_definition(p_key);
begin
  if p_tenant_id is not null then
    perform app_private.require_permission(p_tenant_id, 'flags.read');
  end if;
  select f.value, f.scope into raw, scope
  from public.feature_flags_v2 f
  where f.key = p_key
    and (f.tenant_id is null or f.tenant_id = p_tenant_id)
    and (f.portal is null or f.portal = p_portal)
  order by (f.tenant_id is not null)::int * 2 + (f.portal is not null)::int desc
  limit 1;
  if raw is null then
    raw := d.default_value;
    scope := 'default';
  end if;
  value_type := d.value_type;
  value := app_private.flag_typed(d.value_type, raw);
end $$;

-- The rails read flags through these, with no caching: every call reads the table.
-- flag_raw reads the winning row's raw text (or the default) in one query: the same
-- precedence as flag_effective (tenant+portal > tenant > portal > global > default) and the
-- same unknown_flag error, without building the typed value the rails throw away.
create function app_private.flag_raw(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  v text;
begin
  select f.value into v
  from public.feature_flags_v2 f
  where f.key = p_key
    and (f.tenant_id is null or f.tenant_id = p_tenant_id)
    and (f.portal is null or f.portal = p_portal)
  order by (f.tenant_id is not null)::int * 2 + (f.portal is not null)::int desc
  limit 1;
  if v is null then
    select d.default_value into v from public.flag_definitions d where d.key = p_key;
    if not found then
      perform app_private.flag_definition(p_key);  -- raises unknown_flag
    end if;
  end if;
  return v;
end $$;
comment on function app_private.flag_raw(text, uuid, text) is
  'A flag''s winning raw value for (tenant, portal), or its default; raises unknown_flag.';
revoke execute on function app_private.flag_raw(text, uuid, text) from public;

create function app_private.flag_bool(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return app_private.flag_raw(p_key, p_tenant_id, p_portal)::boolean;
end $$;
create function app_private.flag_number(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns numeric
language plpgsql stable security definer set search_path = '' as $$
begin
  return app_private.flag_raw(p_key, p_tenant_id, p_portal)::numeric;
end $$;
create function app_private.flag_text(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns text
language plpgsql stable security definer set search_path = '' as $$
begin
  return app_private.flag_raw(p_key, p_tenant_id, p_portal);
end $$;

-- Public typed read. A JWT caller may read a tenant's values only with flags.read there.
create function public.flag_value(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns jsonb
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_tenant_id is not null then
    perform app_private.require_permission(p_tenant_id, 'flags.read');
  end if;
  return (app_private.flag_effective(p_key, p_tenant_id, p_portal)).value;
end $$;
comment on function public.flag_value(text, uuid, text) is
  'A flag''s effective typed value for a context (flags.read in the tenant).';

-- Every flag's effective value for a context, in one round trip.
create function public.flags_effective(p_tenant_id uuid default null, p_portal text default null)
returns table (key text, value jsonb, value_type text, scope text)
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_tenant_id is not null then
    perform app_private.require_permission(p_tenant_id, 'flags.read');
  end if;
  return query
    select d.key, e.value, e.value_type, e.scope
    from public.flag_definitions d,
         lateral app_private.flag_effective(d.key, p_tenant_id, p_portal) e
    order by d.key;
end $$;
comment on function public.flags_effective(uuid, text) is
  'Every flag''s effective typed value for a context, in one round trip.';

-- The write permission a flag row needs (used by the policies).
create function app_private.flag_write_permission(p_key text) returns text
language sql stable security definer set search_path = '' as $$
  select f.write_permission from public.flag_definitions f where f.key = p_key
$$;

-- (anon too: hosted Supabase's default privileges grant new public functions to anon)
revoke execute on function public.flag_value(text, uuid, text), public.flags_effective(uuid, text) from public, anon;
grant execute on function public.flag_value(text, uuid, text), public.flags_effective(uuid, text)
  to authenticated, service_role;
grant execute on function app_private.flag_typed(text, text), app_private.flag_write_permission(text),
  app_private.flag_effective(text, uuid, text)
  to authenticated, service_role;

-------------------------------------------------------------------------------------------
-- views
-------------------------------------------------------------------------------------------
-- Rows as stored, with the value typed. security_invoker: RLS of the caller applies.
create view public.feature_flags_typed with (security_invoker = true) as
  select f.id, f.key, f.scope, f.tenant_id, f.portal, d.value_type,
         app_private.flag_typed(d.value_type, f.value) as value,
         f.value as raw_value, f.reason, f.owner_name, f.updated_at, f.updated_by
  from public.feature_flags_v2 f
  join public.flag_definitions d on d.key = f.key;
revoke all on public.feature_flags_typed from anon, authenticated;
grant select on public.feature_flags_typed to authenticated, service_role;

-------------------------------------------------------------------------------------------
-- row level security
-------------------------------------------------------------------------------------------
alter table public.flag_definitions enable row level security;
revoke all on public.flag_definitions from anon, authenticated;
grant select on public.flag_definitions to authenticated, service_role;
create policy reference_read on public.flag_definitions for select to authenticated using (true);

-- Flags: global rows are readable by every enabled principal; tenant rows need flags.read
-- there. Writing a row needs the key's write_permission in the row's tenant (global rows:
-- a global grant), so tenant_admin toggles portals of its own tenant only, autopilot flips
-- canary flags, system flips only the emergency stop.
alter table public.feature_flags_v2 enable row level security;
revoke all on public.feature_flags_v2 from anon, authenticated;
grant select, insert, update, delete on public.feature_flags_v2 to authenticated, service_role;
create policy flags_select on public.feature_flags_v2 for select to authenticated
  using ((tenant_id is null and (select app_private.principal_id()) is not null)
         or tenant_id = any ((select app_private.permitted_tenants('flags.read'))::uuid[]));
create policy flags_insert on public.feature_flags_v2 for insert to authenticated
  with check (app_private.has_permission(tenant_id, app_private.flag_write_permission(key)));
create policy flags_update on public.feature_flags_v2 for update to authenticated
  using (app_private.has_permission(tenant_id, app_private.flag_write_permission(key)))
  with check (app_private.has_permission(tenant_id, app_private.flag_write_permission(key)));
create policy flags_delete on public.feature_flags_v2 for delete to authenticated
  using (app_private.has_permission(tenant_id, app_private.flag_write_permission(key)));
insert into ops.rls_registry (table_name, select_perm, policy_kind)
values ('public.feature_flags_v2', 'flags.read', 'custom');
select ops.set_rls_sample('public.feature_flags_v2',
  '{"key": "portal.enabled", "scope": "tenant:$tenant:portal:$portal", "value": "false"}');

-- History: flags.read (tenant rows) / global flags.read (platform rows); written by trigger only.
select ops.tenant_rls('public.feature_flag_history', 'flags.read', null, null, null);
revoke insert, update, delete, truncate on public.feature_flag_history from service_role;
select ops.set_rls_sample('public.feature_flag_history',
  '{"key": "portal.enabled", "scope": "tenant:$tenant", "tenant_id": "$tenant", "op": "update",
    "old_value": "true", "new_value": "false", "changed_by": "matrix", "db_user": "matrix"}');
