-- Audit log (charter §9: every admin/agent action produces audit rows + trace).
--
-- Append-only: UPDATE, DELETE and TRUNCATE raise audit_append_only for every role (the
-- triggers fire for service_role and superusers too), and no API role holds those
-- privileges. Tamper-evident: one hash chain per tenant (platform rows: the zero uuid
-- chain). hash = sha256(prev_hash || canonical row text); app_private.audit_verify()
-- recomputes the chain and names the first row that does not match.
--
-- PII: before, after and reason are redacted on insert (app_private.redact_pii, the
-- redactor's rules in SQL); the hash covers the redacted row.
--
-- Sections: tables; functions; triggers and partitions.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- The log
create table public.audit_log (
  id             uuid        not null default gen_random_uuid(),
  occurred_at    timestamptz not null default clock_timestamp(),
  chain_id       uuid        not null,        -- tenant_id, or the zero uuid for platform rows
  chain_seq      bigint      not null,
  tenant_id      uuid,                         -- no FK: audit outlives its tenant
  principal_id   uuid,
  principal_kind text,
  principal_name text,
  db_user        text        not null,
  action         text        not null constraint audit_log_action_not_empty_check check (length(action) > 0),
  target_type    text,
  target_id      text,
  before         jsonb,
  after          jsonb,
  reason         text,
  trace_id       text,
  span_id        text,
  ip             inet,
  prev_hash      bytea       not null,
  hash           bytea       not null,
  primary key (id, occurred_at)
) partition by range (occurred_at);

create index audit_log_chain_idx on public.audit_log (chain_id, chain_seq);
create index audit_log_trace_idx on public.audit_log (trace_id) where trace_id is not null;

comment on table public.audit_log is
  'Append-only, hash-chained audit trail. Verify with app_private.audit_verify().';

-- Head of each chain: serializes appends per tenant (row lock) and detects lost tail rows.
create table ops.audit_chain_heads (
  chain_id   uuid primary key,
  last_seq   bigint not null,
  last_hash  bytea  not null,
  updated_at timestamptz not null default now()
);
comment on table ops.audit_chain_heads is
  'Head of each audit hash chain (one per tenant): serializes appends and detects lost tail rows.';

-- Last row of each chain in a partition dropped by retention: the next retained row's
-- prev_hash must equal it.
create table ops.audit_anchors (
  chain_id       uuid   not null,
  chain_seq      bigint not null,
  hash           bytea  not null,
  partition_name text   not null,
  dropped_at     timestamptz not null default now(),
  primary key (chain_id, chain_seq)
);
comment on table ops.audit_anchors is
  'Last row of each chain in an audit partition dropped by retention: where the retained chain resumes.';

-- RLS: audit.read (tenant rows per tenant, platform rows with a global grant); nobody
-- writes through the API.
select ops.tenant_rls('public.audit_log', 'audit.read', null, null, null);
revoke all on public.audit_log from service_role;
grant select on public.audit_log to service_role;
select ops.set_rls_sample('public.audit_log',
  '{"tenant_id": "$tenant", "action": "matrix.sample", "db_user": "matrix"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- PII redaction (charter §9: email/name/URL masked): the same rules as the edge's redactor
-- (packages/shared/observability/redact.ts). The audit log (below) and spans
-- (20261125080000_platform_observability) redact every row they store with them.

-- Masks PII inside a string: URLs (scheme and host kept), query values of paths
-- (`/signup?email=...&token=...`: keys kept), JWTs, bearer tokens, `secret=...` pairs, email
-- addresses, phone numbers (E.164 or US with separators: dates and ids survive) and names a
-- cue introduces ("Attn: John Smith", "driver Maria Lopez").
create function app_private.redact_text(p text) returns text
language sql immutable set search_path = '' as $$
  select regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
         regexp_replace(regexp_replace(regexp_replace(p,
           '(https?://[^/\s?#]+)[^\s]*', '\1/[redacted]', 'gi'),
           '([?&][^=&#\s?]*=)[^&#\s]*', '\1[redacted]', 'g'),
           'eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*', '[redacted:token]', 'g'),
           '(bearer)\s+[A-Za-z0-9._~+/=-]{8,}', '\1 [redacted:token]', 'gi'),
           '((access_|refresh_|id_)?token|client_secret|secret|password|passwd|api[_-]?key|apikey|signature|authorization)("?\s*[:=]\s*"?)[^\s",;&]+',
           '\1\3[redacted]', 'gi'),
           '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '[redacted:email]', 'g'),
           '(?<![\w+])(\+\d{8,15}|(\+?1[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4})(?!\w)', '[redacted:phone]', 'g'),
           '(\m([Dd]river|[Cc]ontact|[Dd]ispatcher|[Cc]onsignee|[Nn]ame|[Aa]ttn|[Aa]ttention|[Ss]igned by|[Rr]eceived by|[Mm]r|[Mm]rs|[Mm]s|[Dd]r)\.?:?\s+)[A-Z][a-z''’-]+(\s+[A-Z]\.)?(\s+[A-Z][a-z''’-]+)+',
           '\1[redacted:name]', 'g')
$$;

-- Recursively redacts a jsonb document: values of person/secret keys are replaced, strings
-- elsewhere pass through redact_text. Keys: the last dotted segment decides, so
-- service.name or http.method stay, user.email, customer.name or http.url do not.
create function app_private.redact_pii(p jsonb) returns jsonb
language plpgsql immutable set search_path = '' as $$
declare
  v_out jsonb;
  k     text;
  v     jsonb;
begin
  if p is null then
    return null;
  end if;
  case jsonb_typeof(p)
    when 'object' then
      v_out := '{}'::jsonb;
      for k, v in select * from jsonb_each(p) loop
        if k ~* '(^|[._-])(email|e-?mail|phone|mobile|address|street|ssn|password|passwd|secret|token|api[_-]?key|authorization|cookie|set-cookie)$'
           or k ~* '(^|[._-])(user|customer|contact|person|driver|shipper|consignee|recipient|sender|first|last|full|display)[._-]?name$'
           or k ~* '^name$' then
          v_out := v_out || jsonb_build_object(k, '[redacted]');
        elsif k ~* '(^|[._-])(url|uri|href|referer|referrer)$' and jsonb_typeof(v) = 'string' then
          v_out := v_out || jsonb_build_object(k, app_private.redact_text(v #>> '{}'));
        else
          v_out := v_out || jsonb_build_object(k, app_private.redact_pii(v));
        end if;
      end loop;
      return v_out;
    when 'array' then
      select coalesce(jsonb_agg(app_private.redact_pii(e) order by i), '[]'::jsonb) into v_out
      from jsonb_array_elements(p) with ordinality as t(e, i);
      return v_out;
    when 'string' then
      return to_jsonb(app_private.redact_text(p #>> '{}'));
    else
      return p;
  end case;
end $$;

grant execute on function app_private.redact_text(text), app_private.redact_pii(jsonb) to authenticated, service_role;

-- Request context: actor and trace, read from what the edge sets per transaction

-- trace id / span id from the W3C traceparent header, client IP from x-forwarded-for
-- (PostgREST's request.headers; the edge sets the same GUC).
create function app_private.request_context(out trace_id text, out span_id text, out ip inet)
language plpgsql stable set search_path = '' as $$
declare
  h  jsonb;
  m  text[];
  v  text;
begin
  begin
    h := nullif(current_setting('request.headers', true), '')::jsonb;
  exception when others then
    h := null;
  end;
  m := regexp_match(coalesce(h ->> 'traceparent', ''),
                    '^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$');
  if m is not null then
    trace_id := m[1];
    span_id := m[2];
  end if;
  v := btrim(split_part(coalesce(h ->> 'x-forwarded-for', h ->> 'x-real-ip', h ->> 'cf-connecting-ip', ''), ',', 1));
  if v <> '' then
    begin
      ip := v::inet;
    exception when others then
      ip := null;
    end;
  end if;
end $$;

-- Who is acting: the JWT principal when it resolves, else the database session.
create function app_private.actor(out principal_id uuid, out principal_kind text,
                                  out principal_name text, out db_user text)
language plpgsql stable security definer set search_path = '' as $$
declare
  v_role text := nullif(current_setting('role', true), 'none');
begin
  select p.id, p.kind, p.name into principal_id, principal_kind, principal_name
  from public.principals p where p.id = auth.uid();
  db_user := session_user::text
             || case when v_role is not null and v_role <> session_user::text then ' as ' || v_role else '' end;
end $$;

grant execute on function app_private.request_context(), app_private.actor() to authenticated, service_role;

create function app_private.audit_genesis() returns bytea
language sql immutable set search_path = '' as $$
  select '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
$$;

-- Canonical text of a row (jsonb normalizes key order and spacing; the timestamp is
-- rendered in UTC so TimeZone settings cannot change it) hashed onto the previous hash.
create function app_private.audit_hash(p_prev bytea, r public.audit_log)
returns bytea
language sql stable set search_path = '' as $$
  select sha256(p_prev || convert_to(jsonb_build_array(
    r.id, r.chain_id, r.chain_seq, r.tenant_id, r.occurred_at at time zone 'UTC',
    r.principal_id, r.principal_kind, r.principal_name, r.db_user,
    r.action, r.target_type, r.target_id, r.before, r.after, r.reason,
    r.trace_id, r.span_id, r.ip::text)::text, 'UTF8'))
$$;

-- BEFORE INSERT: assigns chain position and hash under the chain head's row lock.
create function app_private.audit_chain() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_head ops.audit_chain_heads;
begin
  new.chain_id := coalesce(new.tenant_id, '00000000-0000-0000-0000-000000000000'::uuid);
  -- occurred_at keeps its clock_timestamp() default: a BEFORE trigger on a partitioned
  -- table must not move the row to another partition.
  new.db_user := coalesce(new.db_user, session_user::text);
  -- Every write path redacts (row triggers, audit_event, direct inserts): the log keeps what
  -- changed, never the PII it changed (charter §9). Before the hash, so the chain covers it.
  new.before := app_private.redact_pii(new.before);
  new.after := app_private.redact_pii(new.after);
  new.reason := app_private.redact_text(new.reason);
  insert into ops.audit_chain_heads (chain_id, last_seq, last_hash)
  values (new.chain_id, 0, app_private.audit_genesis())
  on conflict (chain_id) do nothing;
  select * into v_head from ops.audit_chain_heads h where h.chain_id = new.chain_id for update;
  new.chain_seq := v_head.last_seq + 1;
  new.prev_hash := v_head.last_hash;
  new.hash := app_private.audit_hash(new.prev_hash, new);
  update ops.audit_chain_heads
     set last_seq = new.chain_seq, last_hash = new.hash, updated_at = now()
   where chain_id = new.chain_id;
  return new;
end $$;

-- Append-only, for every role including service_role and superusers.
create function app_private.refuse_audit_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  -- (tg_table_name may be a partition's name; the message names the log itself)
  perform app_private.raise_error('audit_append_only',
    format('%s is not allowed; the audit log is append-only', tg_op));
  return null;
end $$;

-- Partitions: monthly, 3 months ahead, kept 400 days; before a partition is dropped its
-- chain ends are recorded as anchors.
create function ops.audit_before_drop(p_partition regclass) returns void
language plpgsql set search_path = '' as $$
begin
  execute format(
    'insert into ops.audit_anchors (chain_id, chain_seq, hash, partition_name)
     select distinct on (chain_id) chain_id, chain_seq, hash, %L from %s
     order by chain_id, chain_seq desc
     on conflict do nothing', p_partition::text, p_partition);
end $$;

-- Writers

-- Internal writer (triggers and definer functions): actor and trace from the context.
create function app_private.audit_write(
  p_tenant_id uuid, p_action text, p_target_type text, p_target_id text,
  p_before jsonb default null, p_after jsonb default null, p_reason text default null)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  a record;
  c record;
begin
  select * into a from app_private.actor();
  select * into c from app_private.request_context();
  insert into public.audit_log (tenant_id, principal_id, principal_kind, principal_name, db_user,
                                action, target_type, target_id, before, after, reason,
                                trace_id, span_id, ip, prev_hash, hash, chain_id, chain_seq)
  values (p_tenant_id, a.principal_id, a.principal_kind, a.principal_name, a.db_user,
          p_action, p_target_type, p_target_id, p_before, p_after,
          coalesce(p_reason, nullif(current_setting('app.reason', true), '')),
          c.trace_id, c.span_id, c.ip,
          -- placeholders; the audit_chain trigger sets them
          ''::bytea, ''::bytea, '00000000-0000-0000-0000-000000000000', 0);
end $$;

-- For the edge: audit an action of the calling principal (audit.write in the tenant).
create function app_private.audit_event(
  p_action text, p_target_type text default null, p_target_id text default null,
  p_before jsonb default null, p_after jsonb default null, p_reason text default null,
  p_tenant_id uuid default null)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := coalesce(p_tenant_id, app_private.claim_tenant());
begin
  if p_action is null or length(btrim(p_action)) = 0 then
    perform app_private.raise_error('bad_request', 'audit action is required');
  end if;
  perform app_private.require_permission(v_tenant, 'audit.write');
  perform app_private.audit_write(v_tenant, p_action, p_target_type, p_target_id, p_before, p_after, p_reason);
end $$;
comment on function app_private.audit_event(text, text, text, jsonb, jsonb, text, uuid) is
  'Audits an action of the calling principal (audit.write in the tenant).';
grant execute on function app_private.audit_event(text, text, text, jsonb, jsonb, text, uuid)
  to authenticated, service_role;

-- Row-change trigger for tables under audit: AFTER INSERT/UPDATE/DELETE FOR EACH ROW.
-- TG_ARGV[0]: tenant column (default tenant_id; '-' for platform tables);
-- TG_ARGV[1..]: columns left out of before/after (e.g. key hashes).
create function app_private.audit_row_change() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_old    jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) end;
  v_new    jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) end;
  v_col    text  := coalesce(tg_argv[0], 'tenant_id');
  v_tenant uuid;
  i        int;
begin
  if tg_nargs > 1 then
    for i in 1 .. tg_nargs - 1 loop
      v_old := v_old - tg_argv[i];
      v_new := v_new - tg_argv[i];
    end loop;
  end if;
  if tg_op = 'UPDATE' and v_old = v_new then
    return null;  -- no-op update: nothing happened
  end if;
  if v_col <> '-' then
    v_tenant := (coalesce(v_new, v_old) ->> v_col)::uuid;
  end if;
  perform app_private.audit_write(v_tenant, tg_table_name || '.' || lower(tg_op),
                                  tg_table_schema || '.' || tg_table_name,
                                  coalesce(v_new, v_old) ->> 'id', v_old, v_new);
  return null;
end $$;
comment on function app_private.audit_row_change() is
  'Row audit trigger of the tables under the rails (immediate or deferred to COMMIT).';

-- Verification

-- Recomputes each chain the caller may read (audit.read; trusted sessions: all) or just
-- p_chain_id (a tenant id, or the zero uuid for platform rows). ok=false names the first
-- problem: an altered row (hash mismatch), a broken link, a gap, or lost tail rows.
create function app_private.audit_verify(p_chain_id uuid default null)
returns table (chain_id uuid, rows_checked bigint, ok boolean, first_bad_seq bigint, problem text)
language plpgsql stable security definer set search_path = '' as $$
declare
  v_head     ops.audit_chain_heads;
  r          public.audit_log;
  v_prev     bytea;
  v_next_seq bigint;
  v_tenant   uuid;
begin
  for v_head in
    select * from ops.audit_chain_heads h
    where p_chain_id is null or h.chain_id = p_chain_id
    order by h.chain_id
  loop
    v_tenant := nullif(v_head.chain_id, '00000000-0000-0000-0000-000000000000'::uuid);
    if not app_private.is_trusted_session() and not app_private.has_permission(v_tenant, 'audit.read') then
      if p_chain_id is not null then
        perform app_private.require_permission(v_tenant, 'audit.read');
      end if;
      continue;
    end if;
    chain_id := v_head.chain_id;
    rows_checked := 0; ok := true; first_bad_seq := null; problem := null;
    v_prev := null; v_next_seq := null;
    for r in select * from public.audit_log a where a.chain_id = v_head.chain_id order by a.chain_seq loop
      rows_checked := rows_checked + 1;
      if v_next_seq is null then
        if r.chain_seq = 1 then
          v_prev := app_private.audit_genesis();
        else
          select x.hash into v_prev from ops.audit_anchors x
          where x.chain_id = r.chain_id and x.chain_seq = r.chain_seq - 1;
          if v_prev is null then
            ok := false; first_bad_seq := r.chain_seq;
            problem := format('rows before seq %s are missing and no retention anchor records them', r.chain_seq);
            exit;
          end if;
        end if;
      elsif r.chain_seq <> v_next_seq then
        ok := false; first_bad_seq := v_next_seq;
        problem := format('gap: seq %s is missing (next row is seq %s)', v_next_seq, r.chain_seq);
        exit;
      end if;
      if r.prev_hash is distinct from v_prev then
        ok := false; first_bad_seq := r.chain_seq;
        problem := format('seq %s does not link to the hash of seq %s', r.chain_seq, r.chain_seq - 1);
        exit;
      end if;
      if r.hash is distinct from app_private.audit_hash(r.prev_hash, r) then
        ok := false; first_bad_seq := r.chain_seq;
        problem := format('seq %s was altered: its content does not match its hash', r.chain_seq);
        exit;
      end if;
      v_prev := r.hash;
      v_next_seq := r.chain_seq + 1;
    end loop;
    if ok and rows_checked > 0 and (v_next_seq - 1 <> v_head.last_seq or v_prev <> v_head.last_hash) then
      ok := false; first_bad_seq := v_next_seq;
      problem := format('rows after seq %s are missing (chain head is at seq %s)', v_next_seq - 1, v_head.last_seq);
    end if;
    if ok and rows_checked = 0 and v_head.last_seq > 0
       and not exists (select 1 from ops.audit_anchors x where x.chain_id = v_head.chain_id
                       and x.chain_seq = v_head.last_seq) then
      ok := false; first_bad_seq := 1;
      problem := format('all %s rows are missing', v_head.last_seq);
    end if;
    return next;
  end loop;
end $$;
comment on function app_private.audit_verify(uuid) is
  'Recomputes the audit hash chains the caller may read and names the first row that does not match.';
grant execute on function app_private.audit_verify(uuid) to authenticated, service_role;

-------------------------------------------------------------------------------------------
-- triggers and partitions
-------------------------------------------------------------------------------------------
create trigger audit_chain before insert on public.audit_log
  for each row execute function app_private.audit_chain();

create trigger append_only before update or delete on public.audit_log
  for each row execute function app_private.refuse_audit_change();
create trigger append_only_truncate before truncate on public.audit_log
  for each statement execute function app_private.refuse_audit_change();

select ops.register_partitioned('public.audit_log', 'month', 3, interval '400 days',
                                null, 'ops.audit_before_drop'::regproc, true);

-- Audit the tables of the tenancy migration.
create trigger audit_row after insert or update or delete on public.tenants
  for each row execute function app_private.audit_row_change('id');
create trigger audit_row after insert or update or delete on public.principals
  for each row execute function app_private.audit_row_change('-');
create trigger audit_row after insert or update or delete on public.role_assignments
  for each row execute function app_private.audit_row_change('tenant_id');
create trigger audit_row after insert or update or delete on public.service_accounts
  for each row execute function app_private.audit_row_change('-');
create trigger audit_row after insert or update or delete on public.service_account_keys
  for each row execute function app_private.audit_row_change('-', 'key_hash');
create trigger audit_row after insert or update or delete on public.key_rotation_rehearsals
  for each row execute function app_private.audit_row_change('-');
