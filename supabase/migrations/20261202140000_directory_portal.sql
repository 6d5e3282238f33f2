-- Directory portal (issue 17): who the tenant may do business with.
--
-- Sanctions: an OFAC-SDN-shaped list (sdn + aliases + addresses, joined on the entity
-- number) loaded per tenant from a file, all or nothing (a broken row: sanctions_file_invalid
-- with its file and line; the edge parses, this file re-checks the join). Screening scores
-- are computed at the edge with Jaro-Winkler (talisman, pinned) on normalized names and
-- aliases; the OUTCOME is decided here from the tenant's flags: score >= autoMatch is a
-- match (a party_blocks row, reason sanctions: no tender, no payment), score in the review
-- band [reviewBand, autoMatch) is a work item (outbox event directory.screening.review_requested),
-- below is clear. A sanctions block is cleared by a human only, with a reason (the core's
-- freight_party_block_clear). A newly loaded list leaves every party unscreened against it:
-- the directory agent rescreens them (detectors.ts).
-- Safety: FMCSA-shaped census rows applied to carrier_profiles in one transaction; the edge
-- refuses an HTML maintenance page or a malformed row (census_file_invalid) before any row.
-- KYC records and tenant watchlists.
--
-- Sections: permissions and grants; flags; tables; functions.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('sanctions_file_invalid', 'SY240', 400, 'Sanctions file invalid', 'A row of the SDN, alias or address file is broken (DETAIL: file and line); nothing was loaded.'),
  ('census_file_invalid',    'SY241', 400, 'Census file invalid',    'The carrier census file is not census data (an HTML page) or has a malformed row (DETAIL: line); nothing was applied.'),
  ('sanctions_clear_human',  'SY242', 403, 'Sanctions block needs a human', 'A sanctions block is cleared by a human principal with a reason, never by a machine.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('directory.read',            'Read the directory: sanctions lists, screenings, KYC, census, watchlists'),
  ('directory.manage',         'Create parties, load sanctions lists and screen parties'),
  ('directory.safety.import',   'Import FMCSA-shaped carrier census data'),
  ('directory.kyc.write',       'Maintain KYC records (legal name, EIN, address, W-9, beneficial owners)'),
  ('directory.watchlist.write', 'Maintain the tenant''s watchlists')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'directory.read'), ('super_admin', 'directory.manage'), ('super_admin', 'directory.safety.import'),
  ('super_admin', 'directory.kyc.write'), ('super_admin', 'directory.watchlist.write'),
  ('tenant_admin', 'directory.read'), ('tenant_admin', 'directory.manage'), ('tenant_admin', 'directory.safety.import'),
  ('tenant_admin', 'directory.kyc.write'), ('tenant_admin', 'directory.watchlist.write'),
  ('ops_manager', 'directory.read'), ('ops_manager', 'directory.manage'), ('ops_manager', 'directory.safety.import'),
  ('ops_manager', 'directory.kyc.write'), ('ops_manager', 'directory.watchlist.write'),
  ('finance_manager', 'directory.read'), ('finance_manager', 'directory.kyc.write'),
  ('dispatcher', 'directory.read'), ('analyst', 'directory.read'),
  -- the agents rescreen parties and block lapsed carriers
  ('agents', 'directory.read'), ('agents', 'directory.manage')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('directory.sanctions.autoMatch', 'number', 0.5, 1, null, false, '{global,tenant}', '0.93', 'flags.global.write',
   'Jaro-Winkler score at or above which a party matches a sanctions entry: blocked (no tender, no payment)'),
  ('directory.sanctions.reviewBand', 'number', 0.5, 1, null, false, '{global,tenant}', '0.85', 'flags.global.write',
   'Jaro-Winkler score at or above which (and below autoMatch) a screening is a work item for a human')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- One row per loaded list; the newest is the one parties are screened against.
create table public.sanctions_lists (
  id         uuid primary key default gen_random_uuid(),
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  source     text not null constraint sanctions_lists_source_length_check check (length(source) between 1 and 200),
  sha256     text not null constraint sanctions_lists_sha256_format_check check (sha256 ~ '^[0-9a-f]{64}$'),
  entries    int not null constraint sanctions_lists_entries_positive_check check (entries > 0),
  aliases    int not null default 0,
  addresses  int not null default 0,
  loaded_by  uuid default auth.uid(),
  loaded_at  timestamptz not null default now(),
  constraint sanctions_lists_tenant_id_unique unique (tenant_id, id)
);
comment on table public.sanctions_lists is 'Sanctions lists (OFAC SDN shape) loaded by a tenant; the newest is current.';
create index sanctions_lists_current_idx on public.sanctions_lists (tenant_id, loaded_at desc);
select ops.attach_rails('public.sanctions_lists', 'directory.read', null, null, null);
select ops.set_rls_sample('public.sanctions_lists', '{"tenant_id": "$tenant", "source": "sdn", "sha256": "$hex32$hex32", "entries": 1}');

-- The names screened against: the SDN name (kind sdn) and each alias (kind alias), per
-- entity number; addresses beside them.
create table public.sanctions_names (
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  list_id    uuid not null,
  ent_num    int not null,
  kind       text not null constraint sanctions_names_kind_allowed_check check (kind in ('sdn', 'alias')),
  seq        int not null default 0,
  name       text not null constraint sanctions_names_name_not_blank_check check (length(btrim(name)) > 0),
  sdn_type   text,
  program    text,
  -- list_id: written only by directory_sanctions_load with its own list (no FK: the RLS
  -- matrix builds rows of its own)
  primary key (list_id, ent_num, kind, seq)
);
comment on table public.sanctions_names is 'SDN names and aliases of a sanctions list, per entity number.';
select ops.attach_rails('public.sanctions_names', 'directory.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.sanctions_names', '{"tenant_id": "$tenant", "list_id": "$uuid", "ent_num": 1, "kind": "sdn", "name": "X"}');

create table public.sanctions_addresses (
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  list_id    uuid not null,
  ent_num    int not null,
  add_num    int not null,
  address    text,
  city       text,
  country    text,
  primary key (list_id, ent_num, add_num)
);
comment on table public.sanctions_addresses is 'Addresses of sanctions list entities (add.csv shape).';
select ops.attach_rails('public.sanctions_addresses', 'directory.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.sanctions_addresses', '{"tenant_id": "$tenant", "list_id": "$uuid", "ent_num": 1, "add_num": 1}');

-- One screening of a party against a list: the best score, what it matched and the outcome.
create table public.party_screenings (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  party_id     uuid not null,
  list_id      uuid not null,
  score        numeric(5, 4) not null constraint party_screenings_score_range_check check (score between 0 and 1),
  outcome      text not null constraint party_screenings_outcome_allowed_check check (outcome in ('clear', 'review', 'match')),
  ent_num      int,
  matched_name text,
  matched_kind text constraint party_screenings_matched_kind_allowed_check check (matched_kind in ('sdn', 'alias')),
  block_id     uuid,
  screened_by  uuid default auth.uid(),
  screened_at  timestamptz not null default now(),
  trace_id     text,
  constraint party_screenings_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.party_screenings is 'Sanctions screenings of parties: score (Jaro-Winkler), matched name, outcome (clear, review, match) and the block it set.';
create index party_screenings_party_idx on public.party_screenings (party_id, screened_at desc);
create index party_screenings_list_idx on public.party_screenings (list_id, party_id);
select ops.attach_rails('public.party_screenings', 'directory.read', null, null, null);
select ops.set_rls_sample('public.party_screenings', '{"tenant_id": "$tenant", "party_id": "$carrier", "list_id": "$uuid", "score": 0.5, "outcome": "clear"}');

-- FMCSA-shaped census of a carrier, as last imported (the carrier profile follows it).
create table public.carrier_census (
  tenant_id                uuid not null references public.tenants (id) on delete cascade,
  party_id                 uuid not null,
  dot_number               text not null constraint carrier_census_dot_number_format_check check (dot_number ~ '^[0-9]{1,8}$'),
  mc_number                text constraint carrier_census_mc_number_format_check check (mc_number ~ '^[0-9]{1,8}$'),
  allowed_to_operate       boolean not null,
  authority_status         text not null constraint carrier_census_authority_status_allowed_check
                           check (authority_status in ('active', 'pending', 'inactive', 'revoked')),
  insurance_on_file_cents  bigint not null constraint carrier_census_on_file_nonnegative_check check (insurance_on_file_cents >= 0),
  insurance_required_cents bigint not null constraint carrier_census_required_nonnegative_check check (insurance_required_cents >= 0),
  safety_rating            text not null constraint carrier_census_safety_rating_allowed_check
                           check (safety_rating in ('satisfactory', 'conditional', 'unsatisfactory', 'unrated')),
  out_of_service_date      date,
  import_id                uuid not null,
  imported_at              timestamptz not null default now(),
  primary key (tenant_id, party_id),
  constraint carrier_census_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.carrier_census is 'FMCSA-shaped census per carrier (DOT, MC, allowed to operate, authority, insurance on file vs required in cents, rating, OOS date).';
create index carrier_census_party_idx on public.carrier_census (party_id);
select ops.attach_rails('public.carrier_census', 'directory.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.carrier_census',
  '{"tenant_id": "$tenant", "party_id": "$carrier", "dot_number": "1", "allowed_to_operate": true, "authority_status": "active",
    "insurance_on_file_cents": 0, "insurance_required_cents": 0, "safety_rating": "unrated", "import_id": "$uuid"}');

create table public.kyc_records (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null references public.tenants (id) on delete cascade,
  party_id          uuid not null,
  legal_name        text not null constraint kyc_records_legal_name_not_blank_check check (length(btrim(legal_name)) > 0),
  ein               text not null constraint kyc_records_ein_format_check check (ein ~ '^[0-9]{2}-[0-9]{7}$'),
  address_line      text not null constraint kyc_records_address_not_blank_check check (length(btrim(address_line)) > 0),
  city              text not null,
  region            text not null,
  postal_code       text not null,
  country           char(2) not null default 'US' constraint kyc_records_country_format_check check (country ~ '^[A-Z]{2}$'),
  w9_document_id    uuid,
  -- [{"name": "...", "ownership_pct": 25}], each 0 < pct <= 100, summing to at most 100
  beneficial_owners jsonb not null default '[]' constraint kyc_records_owners_array_check check (jsonb_typeof(beneficial_owners) = 'array'),
  updated_at        timestamptz not null default now(),
  constraint kyc_records_party_unique unique (tenant_id, party_id),
  constraint kyc_records_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.kyc_records is 'KYC of a party: legal name, EIN, address, W-9 document, beneficial owners (PII: never in events).';
select ops.attach_rails('public.kyc_records', 'directory.read', null, null, null);
select ops.set_rls_sample('public.kyc_records',
  '{"tenant_id": "$tenant", "party_id": "$carrier", "legal_name": "M", "ein": "12-3456789", "address_line": "1 Main", "city": "C", "region": "IL", "postal_code": "60601"}');

create table public.watchlist_entries (
  id         uuid primary key default gen_random_uuid(),
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  list_name  text not null constraint watchlist_entries_list_name_format_check check (list_name ~ '^[a-z][a-z0-9_]{1,39}$'),
  party_id   uuid not null,
  note       text constraint watchlist_entries_note_length_check check (length(note) <= 500),
  added_by   uuid default auth.uid(),
  added_at   timestamptz not null default now(),
  constraint watchlist_entries_unique unique (tenant_id, list_name, party_id),
  constraint watchlist_entries_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.watchlist_entries is 'The tenant''s own watchlists: parties to keep an eye on (a note, who added them).';
create index watchlist_entries_party_idx on public.watchlist_entries (party_id);
select ops.attach_rails('public.watchlist_entries', 'directory.read', 'directory.watchlist.write', 'directory.watchlist.write', 'directory.watchlist.write');
select ops.set_rls_sample('public.watchlist_entries', '{"tenant_id": "$tenant", "list_name": "watch", "party_id": "$carrier"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Loads a list in one transaction: p_list {source, sha256, sdn: [{ent_num, name, sdn_type,
-- program}], aliases: [{ent_num, alt_num, name, line}], addresses: [{ent_num, add_num,
-- address, city, country, line}]}. An alias or address naming no SDN entity refuses the
-- whole list (sanctions_file_invalid, its file and line). Returns the list id.
create function app_private.directory_sanctions_load(p_list jsonb) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_id     uuid;
  v_bad    record;
  n_sdn    int;
  n_alt    int;
  n_add    int;
begin
  perform app_private.require_permission(v_tenant, 'directory.manage');
  n_sdn := jsonb_array_length(coalesce(p_list -> 'sdn', '[]'));
  if n_sdn = 0 then
    perform app_private.raise_error('sanctions_file_invalid', 'the SDN file has no entries', jsonb_build_object('file', 'sdn', 'line', 1));
  end if;
  for v_bad in
    select f.file, (e ->> 'line')::int as line, e ->> 'ent_num' as ent
    from (select 'alt' as file, e from jsonb_array_elements(coalesce(p_list -> 'aliases', '[]')) e
          union all select 'add', e from jsonb_array_elements(coalesce(p_list -> 'addresses', '[]')) e) f(file, e)
    where not exists (select 1 from jsonb_array_elements(p_list -> 'sdn') s where (s ->> 'ent_num') = (f.e ->> 'ent_num'))
    order by 1, 2 limit 1
  loop
    perform app_private.raise_error('sanctions_file_invalid',
      format('%s.csv line %s: ent_num %s is not in the SDN file', v_bad.file, v_bad.line, v_bad.ent),
      jsonb_build_object('file', v_bad.file, 'line', v_bad.line));
  end loop;
  n_alt := jsonb_array_length(coalesce(p_list -> 'aliases', '[]'));
  n_add := jsonb_array_length(coalesce(p_list -> 'addresses', '[]'));
  insert into public.sanctions_lists (tenant_id, source, sha256, entries, aliases, addresses)
  values (v_tenant, p_list ->> 'source', p_list ->> 'sha256', n_sdn, n_alt, n_add)
  returning id into v_id;
  insert into public.sanctions_names (tenant_id, list_id, ent_num, kind, seq, name, sdn_type, program)
  select v_tenant, v_id, s.ent_num, 'sdn', 0, s.name, s.sdn_type, s.program
  from jsonb_to_recordset(p_list -> 'sdn') as s(ent_num int, name text, sdn_type text, program text)
  union all
  select v_tenant, v_id, a.ent_num, 'alias', a.alt_num, a.name, null, null
  from jsonb_to_recordset(coalesce(p_list -> 'aliases', '[]')) as a(ent_num int, alt_num int, name text);
  insert into public.sanctions_addresses (tenant_id, list_id, ent_num, add_num, address, city, country)
  select v_tenant, v_id, a.ent_num, a.add_num, a.address, a.city, a.country
  from jsonb_to_recordset(coalesce(p_list -> 'addresses', '[]')) as a(ent_num int, add_num int, address text, city text, country text);
  perform app_private.audit_write(v_tenant, 'directory.sanctions.loaded', 'sanctions_list', v_id::text, null,
    jsonb_build_object('source', p_list ->> 'source', 'sha256', p_list ->> 'sha256', 'entries', n_sdn, 'aliases', n_alt, 'addresses', n_add));
  return v_id;
end $$;
comment on function app_private.directory_sanctions_load(jsonb) is
  'Loads an SDN-shaped list (sdn + aliases + addresses joined on ent_num) in one transaction (directory.manage).';
grant execute on function app_private.directory_sanctions_load(jsonb) to authenticated;

-- Creates a party of the directory (directory.manage); the portal screens it in the same
-- transaction. Event freight.party.created (ids and kind only).
create function app_private.directory_party_create(p jsonb) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_id     uuid;
begin
  perform app_private.require_permission(v_tenant, 'directory.manage');
  insert into public.parties (tenant_id, kind, name, legal_name, dot_number, mc_number, scac)
  values (v_tenant, p ->> 'kind', p ->> 'name', p ->> 'legal_name', p ->> 'dot_number', p ->> 'mc_number', p ->> 'scac')
  returning id into v_id;
  perform app_private.freight_publish(v_tenant, 'party', v_id, 'created', jsonb_build_object('kind', p ->> 'kind'));
  return v_id;
end $$;
comment on function app_private.directory_party_create(jsonb) is
  'Creates a party (directory.manage), evented freight.party.created; the directory portal screens it in the same transaction.';
grant execute on function app_private.directory_party_create(jsonb) to authenticated;

-- Records a screening of a party against a list, deciding the outcome from the tenant's
-- flags: match -> a sanctions block (the core's freight_party_block_set, evented and
-- audited), review -> the work item event directory.screening.review_requested, clear ->
-- nothing else. p_hit {score, ent_num, name, kind}. Returns {screening_id, outcome, block_id}.
create function app_private.directory_screening_record(p_party_id uuid, p_list_id uuid, p_hit jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.parties', p_party_id, 'directory.manage');
  v_score  numeric := (p_hit ->> 'score')::numeric;
  v_auto   numeric := app_private.flag_number('directory.sanctions.autoMatch', v_tenant);
  v_review numeric := least(app_private.flag_number('directory.sanctions.reviewBand', v_tenant), v_auto);
  v_out    text;
  v_block  uuid;
  v_id     uuid;
begin
  if not exists (select 1 from public.sanctions_lists l where l.id = p_list_id and l.tenant_id = v_tenant) then
    perform app_private.raise_error('freight_not_found', format('no sanctions list %s', p_list_id));
  end if;
  if v_score is null or v_score < 0 or v_score > 1 then
    perform app_private.raise_error('bad_request', 'score is a number between 0 and 1');
  end if;
  v_out := case when v_score >= v_auto then 'match' when v_score >= v_review then 'review' else 'clear' end;
  if v_out = 'match' then
    v_block := app_private.freight_party_block_set(p_party_id, 'sanctions',
      format('Sanctions match: entity %s (%s, score %s)', p_hit ->> 'ent_num', p_hit ->> 'kind', round(v_score, 4)));
  end if;
  insert into public.party_screenings (tenant_id, party_id, list_id, score, outcome, ent_num, matched_name, matched_kind, block_id, trace_id)
  values (v_tenant, p_party_id, p_list_id, round(v_score, 4), v_out,
          case when v_out <> 'clear' then (p_hit ->> 'ent_num')::int end,
          case when v_out <> 'clear' then p_hit ->> 'name' end,
          case when v_out <> 'clear' then p_hit ->> 'kind' end,
          v_block, (app_private.request_context()).trace_id)
  returning id into v_id;
  if v_out = 'review' then
    -- the work item: ids and figures only (no names)
    insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
    values (v_tenant, 'party', p_party_id::text, 'directory.screening.review_requested',
            jsonb_build_object('party_id', p_party_id, 'screening_id', v_id, 'list_id', p_list_id,
                               'ent_num', (p_hit ->> 'ent_num')::int, 'score', round(v_score, 4)));
  end if;
  return jsonb_build_object('screening_id', v_id, 'outcome', v_out, 'block_id', v_block, 'score', round(v_score, 4));
end $$;
comment on function app_private.directory_screening_record(uuid, uuid, jsonb) is
  'Records a sanctions screening; the outcome (match: block, review: work item, clear) comes from the tenant''s flags.';
grant execute on function app_private.directory_screening_record(uuid, uuid, jsonb) to authenticated;

-- Applies census rows {dot_number, mc_number, allowed_to_operate, authority_status,
-- insurance_on_file_cents, insurance_required_cents, safety_rating, out_of_service_date} to
-- the tenant's carriers found by DOT number, in one transaction; the carrier profile follows
-- (authority, allowed to operate, rating, out of service). Rows naming no carrier of the
-- tenant are counted, not applied. Returns {import_id, applied, unknown}.
create function app_private.directory_census_apply(p_rows jsonb, p_sha256 text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_import uuid := gen_random_uuid();
  v_applied int;
  v_total   int := jsonb_array_length(coalesce(p_rows, '[]'));
begin
  perform app_private.require_permission(v_tenant, 'directory.safety.import');
  with rows as (
    select p.id as party_id, e as r from jsonb_array_elements(coalesce(p_rows, '[]')) e
    join public.parties p on p.tenant_id = v_tenant and p.kind = 'carrier' and p.dot_number = e ->> 'dot_number'
  ), census as (
    insert into public.carrier_census as c (tenant_id, party_id, dot_number, mc_number, allowed_to_operate, authority_status,
                                            insurance_on_file_cents, insurance_required_cents, safety_rating, out_of_service_date, import_id)
    select v_tenant, t.party_id, t.r ->> 'dot_number', t.r ->> 'mc_number', (t.r ->> 'allowed_to_operate')::boolean,
           t.r ->> 'authority_status', (t.r ->> 'insurance_on_file_cents')::bigint, (t.r ->> 'insurance_required_cents')::bigint,
           t.r ->> 'safety_rating', (t.r ->> 'out_of_service_date')::date, v_import
    from rows t
    on conflict (tenant_id, party_id) do update set
      dot_number = excluded.dot_number, mc_number = excluded.mc_number, allowed_to_operate = excluded.allowed_to_operate,
      authority_status = excluded.authority_status, insurance_on_file_cents = excluded.insurance_on_file_cents,
      insurance_required_cents = excluded.insurance_required_cents, safety_rating = excluded.safety_rating,
      out_of_service_date = excluded.out_of_service_date, import_id = excluded.import_id, imported_at = now()
    returning 1
  ), profiles as (
    insert into public.carrier_profiles as cp (tenant_id, party_id, authority_status, allowed_to_operate, safety_rating,
                                               out_of_service, out_of_service_since, checked_at)
    select v_tenant, t.party_id, t.r ->> 'authority_status', (t.r ->> 'allowed_to_operate')::boolean, t.r ->> 'safety_rating',
           (t.r ->> 'out_of_service_date') is not null, (t.r ->> 'out_of_service_date')::date, now()
    from rows t
    on conflict (tenant_id, party_id) do update set
      authority_status = excluded.authority_status, allowed_to_operate = excluded.allowed_to_operate,
      safety_rating = excluded.safety_rating, out_of_service = excluded.out_of_service,
      out_of_service_since = excluded.out_of_service_since, checked_at = now(), updated_at = now()
    returning 1
  )
  select (select count(*) from census) into v_applied;
  perform app_private.audit_write(v_tenant, 'directory.census.imported', 'census_import', v_import::text, null,
    jsonb_build_object('sha256', p_sha256, 'rows', v_total, 'applied', v_applied));
  return jsonb_build_object('import_id', v_import, 'rows', v_total, 'applied', v_applied, 'unknown', v_total - v_applied);
end $$;
comment on function app_private.directory_census_apply(jsonb, text) is
  'Applies FMCSA-shaped census rows to the tenant''s carriers (by DOT) and their profiles in one transaction (directory.safety.import).';
grant execute on function app_private.directory_census_apply(jsonb, text) to authenticated;

-- Writes a party's KYC record (directory.kyc.write): the W-9 must be a w9 document of that
-- party; beneficial owners each own (0, 100] percent, together at most 100.
create function app_private.directory_kyc_upsert(p_party_id uuid, p_kyc jsonb) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.parties', p_party_id, 'directory.kyc.write');
  v_w9     uuid := (p_kyc ->> 'w9_document_id')::uuid;
  v_owners jsonb := coalesce(p_kyc -> 'beneficial_owners', '[]');
  v_id     uuid;
begin
  if v_w9 is not null and not exists (select 1 from public.documents d where d.id = v_w9 and d.party_id = p_party_id and d.kind = 'w9') then
    perform app_private.raise_error('bad_request', format('document %s is not a W-9 of party %s', v_w9, p_party_id));
  end if;
  if jsonb_typeof(v_owners) <> 'array'
     or exists (select 1 from jsonb_array_elements(v_owners) o
                where coalesce(length(btrim(o ->> 'name')), 0) = 0 or jsonb_typeof(o -> 'ownership_pct') <> 'number'
                   or (o ->> 'ownership_pct')::numeric <= 0 or (o ->> 'ownership_pct')::numeric > 100)
     or (select coalesce(sum((o ->> 'ownership_pct')::numeric), 0) from jsonb_array_elements(v_owners) o) > 100 then
    perform app_private.raise_error('bad_request', 'beneficial owners: each a name and 0 < ownership_pct <= 100, together at most 100');
  end if;
  insert into public.kyc_records as k (tenant_id, party_id, legal_name, ein, address_line, city, region, postal_code, country,
                                       w9_document_id, beneficial_owners)
  values (v_tenant, p_party_id, p_kyc ->> 'legal_name', p_kyc ->> 'ein', p_kyc ->> 'address_line', p_kyc ->> 'city',
          p_kyc ->> 'region', p_kyc ->> 'postal_code', coalesce(p_kyc ->> 'country', 'US'), v_w9, v_owners)
  on conflict (tenant_id, party_id) do update set
    legal_name = excluded.legal_name, ein = excluded.ein, address_line = excluded.address_line, city = excluded.city,
    region = excluded.region, postal_code = excluded.postal_code, country = excluded.country,
    w9_document_id = excluded.w9_document_id, beneficial_owners = excluded.beneficial_owners, updated_at = now()
  returning id into v_id;
  return v_id;
end $$;
comment on function app_private.directory_kyc_upsert(uuid, jsonb) is
  'Writes a party''s KYC record (directory.kyc.write), checking the W-9 document and the beneficial owners.';
grant execute on function app_private.directory_kyc_upsert(uuid, jsonb) to authenticated;
