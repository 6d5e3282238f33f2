-- The RLS matrix, generated from data so it stays complete:
--   every table in ops.rls_registry (every tenant table: see 001_rls_coverage_test)
--   x each tenant human role, super_admin and each of the service accounts
--   x own tenant vs another tenant
--   x select / insert / update / delete
-- is allowed or refused exactly as the permission matrix (public.role_permissions) says
-- for the permission the table's policy checks (ops.rls_registry; for feature_flags_v2 the
-- key's flag_definitions.write_permission). As in Postgres, an UPDATE or DELETE that reads
-- the row (every real one does: WHERE) also needs the row to pass the SELECT policy, so
-- those cells need the select permission as well.
--
-- Each cell really runs the statement as `authenticated` with the actor's JWT claims, in a
-- subtransaction that is always rolled back, against a fixture row of each tenant.
--
-- The party dimension (outside users: ops.rls_party_registry): the shipper_user,
-- carrier_user and driver actors belong to party A (a shipper, a carrier, a driver of that
-- carrier) of the own tenant, and every table with a party policy gets a second own-tenant
-- fixture that names party B. Such an actor reads exactly the rows whose party column
-- names its party (every row of its tenant where the column is null: the facility
-- directory, the load board), never party B's, never another tenant's, and writes nothing.
-- Samples name parties with $shipper / $carrier / $driver (party A for sample 1, B for 3,
-- C for the insert sample 2) and parent rows with $ref:<table> (that table's fixture of the same tenant and
-- party), so fixtures are inserted parents first.
-- Which tables get the party dimension is read from the catalog: every table with a party
-- column must have party policies or be named staff-only with its reason (one check, below).
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;

-------------------------------------------------------------------------------------------
-- Setup (as the owner)
-------------------------------------------------------------------------------------------
-- Own tenant: the demo tenant. Other tenant: created here.
create temp table m_tenants (label text primary key, id uuid not null);
insert into m_tenants values
  ('own',   'd0000000-0000-4000-8000-000000000001'),
  ('other', 'b0000000-0000-4000-8000-00000000000b');
insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'matrix-other', 'Matrix Other');

-- Actors: one human per tenant role (assigned in the own tenant), a global super_admin and
-- the service accounts; every JWT names the own tenant.
create temp table m_actors (label text primary key, role text not null, principal_id uuid not null);
insert into public.principals (kind, name)
select 'human', 'matrix-' || r.role || '@test' from public.roles r where r.kind = 'human';
insert into public.role_assignments (principal_id, role, tenant_id)
select p.id, r.role, case when r.scope = 'tenant' then 'd0000000-0000-4000-8000-000000000001'::uuid end
from public.roles r join public.principals p on p.name = 'matrix-' || r.role || '@test'
where r.kind = 'human';
insert into m_actors
select r.role, r.role, p.id from public.roles r join public.principals p on p.name = 'matrix-' || r.role || '@test'
where r.kind = 'human'
union all
select s.name || '@', s.name, s.principal_id from public.service_accounts s;

-- Spare principals for "$principal" in samples (one per sample number).
insert into public.principals (kind, name) values ('human', 'matrix-spare-1@test'), ('human', 'matrix-spare-2@test'),
  ('human', 'matrix-spare-3@test');

-- The parties samples name: in each tenant a shipper, a carrier and a driver of that
-- carrier, for party A (sample 1), party B (sample 3) and party C (sample 2, the insert
-- cells: a new row beside the fixture, also where a table allows one row per party).
create temp table m_parties (tenant_label text, letter text, shipper uuid, carrier uuid, driver uuid,
                             primary key (tenant_label, letter));
insert into m_parties
select t.label, l.letter, gen_random_uuid(), gen_random_uuid(), gen_random_uuid()
from m_tenants t cross join (values ('A'), ('B'), ('C')) l(letter);
insert into public.parties (id, tenant_id, kind, name)
select p.shipper, t.id, 'shipper', 'Matrix shipper ' || p.letter from m_parties p join m_tenants t on t.label = p.tenant_label
union all
select p.carrier, t.id, 'carrier', 'Matrix carrier ' || p.letter from m_parties p join m_tenants t on t.label = p.tenant_label;
insert into public.drivers (id, tenant_id, carrier_party_id, name)
select p.driver, t.id, p.carrier, 'Matrix driver ' || p.letter from m_parties p join m_tenants t on t.label = p.tenant_label;

-- The outside actors act for party A of the own tenant.
alter table m_actors add column audience text, add column party_id uuid;
update m_actors a set audience = x.audience, party_id = x.party_id
from (select 'shipper_user' as role, 'shipper' as audience, shipper as party_id from m_parties where tenant_label = 'own' and letter = 'A'
      union all select 'carrier_user', 'carrier', carrier from m_parties where tenant_label = 'own' and letter = 'A'
      union all select 'driver', 'driver', driver from m_parties where tenant_label = 'own' and letter = 'A') x
where a.role = x.role;
insert into public.party_members (tenant_id, principal_id, party_id, driver_id)
select 'd0000000-0000-4000-8000-000000000001', a.principal_id,
       case a.audience when 'shipper' then p.shipper else p.carrier end,
       case a.audience when 'driver' then p.driver end
from m_actors a cross join m_parties p
where a.audience is not null and p.tenant_label = 'own' and p.letter = 'A';

-- Samples for tables registered without one (tables of other migrations); a table with
-- neither gets a generated sample (type defaults, first value of `col = any(array[...])`).
create function pg_temp.fallback_sample(t regclass) returns jsonb language sql as $$
  select case (select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where c.oid = t)
    when 'public.rates_lane_history' then
      '{"tenant_id": "$tenant", "origin_zip3": "606", "destination_zip3": "752", "origin_region": "ENC",
        "destination_region": "WSC", "equipment": "van", "rate_per_mile": 2.5, "shipped_on": "2026-11-02"}'::jsonb
    when 'public.rates_index' then
      '{"tenant_id": "$tenant", "origin_zip3": "606", "destination_zip3": "752", "origin_region": "ENC",
        "destination_region": "WSC", "equipment": "van", "rate_per_mile": 2.5, "effective_date": "2026-11-02",
        "source": "matrix-$n"}'::jsonb
    when 'public.rates_contracts' then
      '{"tenant_id": "$tenant", "origin": "606", "destination": "752", "equipment": "van",
        "rate": {"kind": "flat", "amount": 1000}, "valid_from": "2026-01-01", "valid_to": "2026-12-31"}'::jsonb
  end
$$;

create function pg_temp.generated_sample(t regclass, tenant_col name) returns jsonb language plpgsql as $$
declare
  c record;
  v jsonb := '{}'::jsonb;
  m text[];
begin
  for c in
    select a.attname, format_type(a.atttypid, a.atttypmod) as typ, a.atttypid
    from pg_attribute a
    where a.attrelid = t and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      and ((a.attnotnull and not a.atthasdef) or a.attname = tenant_col)
  loop
    if c.attname = tenant_col then
      v := v || jsonb_build_object(c.attname, '$tenant');
      continue;
    end if;
    select regexp_match(pg_get_constraintdef(k.oid), '\(' || c.attname || ' = ANY \(ARRAY\[''([^'']*)''') into m
    from pg_constraint k where k.conrelid = t and k.contype = 'c'
      and pg_get_constraintdef(k.oid) ~ ('\(' || c.attname || ' = ANY')
    limit 1;
    v := v || jsonb_build_object(c.attname, case
      when m is not null then to_jsonb(m[1])
      when c.typ = 'uuid' then '"$uuid"'::jsonb
      when c.typ like '%[]' then '"{}"'::jsonb
      when c.typ in ('jsonb', 'json') then '{}'::jsonb
      when c.typ = 'boolean' then 'false'::jsonb
      when c.typ ~ '^(integer|bigint|smallint|numeric|double precision|real)' then '1'::jsonb
      when c.typ ~ '^(timestamp|date)' then '"$now"'::jsonb
      else '"matrix-$n"'::jsonb end);
  end loop;
  return v;
end $$;

-- A sample row of table t for a tenant, tokens replaced.
create function pg_temp.sample(t regclass, tenant uuid, n int) returns jsonb language plpgsql as $$
declare
  r   ops.rls_registry;
  s   text;
  p   record;
  ref text;
begin
  select * into r from ops.rls_registry where table_name = t;
  s := coalesce(r.sample, pg_temp.fallback_sample(t), pg_temp.generated_sample(t, r.tenant_column))::text;
  select mp.* into p from m_parties mp join m_tenants mt on mt.label = mp.tenant_label
  where mt.id = tenant and mp.letter = case n when 3 then 'B' when 2 then 'C' else 'A' end;
  s := replace(replace(replace(s, '$shipper', p.shipper::text), '$carrier', p.carrier::text), '$driver', p.driver::text);
  -- $ref:<table>: that table's fixture of this tenant and party (party A's when it has no B)
  for ref in select distinct m[1] from regexp_matches(s, '\$ref:([a-z_]+)', 'g') m loop
    s := replace(s, '$ref:' || ref, coalesce(
      (select f.row_json ->> 'id' from m_fixtures f where f.table_name = ('public.' || ref)::regclass and f.tenant_id = tenant
         and f.row_json is not null order by f.party_label = case when n = 3 then 'B' else 'A' end desc, f.party_label limit 1),
      'missing-' || ref));
  end loop;
  s := replace(s, '$principal', (select id::text from public.principals where name = 'matrix-spare-' || n || '@test'));
  s := replace(s, '$portal', (array['broker', 'carrier', 'shipper', 'driver'])[n]);
  s := replace(s, '$tenant', tenant::text);
  s := replace(s, '$minute', date_trunc('minute', now(), 'UTC')::text);
  s := replace(s, '$hex32', replace(gen_random_uuid()::text, '-', ''));
  s := replace(s, '$hex16', left(replace(gen_random_uuid()::text, '-', ''), 16));
  s := replace(s, '$uuid', gen_random_uuid()::text);
  s := replace(s, '$now', now()::text);
  s := replace(s, '$n', n::text);
  return s::jsonb;
end $$;

create function pg_temp.insert_sql(t regclass, sample jsonb) returns text language sql as $$
  select format('insert into %s (%s) select %2$s from jsonb_populate_record(null::%1$s, $1)',
                t, (select string_agg(quote_ident(k), ', ') from jsonb_object_keys(sample) k))
$$;

-- Fixture rows (one per tenant, sample 1; for tables with a party policy also one of the
-- own tenant naming party B, sample 3) and the insert samples (sample 2). A sample waiting
-- for a parent ($ref) is tried again after the others, until nothing moves.
create temp table m_fixtures (
  table_name regclass, tenant_label text, tenant_id uuid, party_label text,
  row_oid oid, row_ctid tid, row_json jsonb, insert_sample jsonb, error text
);
create temp table m_wanted as
  select r.table_name, tn.label as tenant_label, tn.id as tenant_id, x.party_label, x.n
  from ops.rls_registry r cross join m_tenants tn
  cross join (values ('A', 1), ('B', 3)) x(party_label, n)
  where x.party_label = 'A'
     or (tn.label = 'own' and exists (select 1 from ops.rls_party_registry pr where pr.table_name = r.table_name));
do $$
declare
  w  record;
  s  jsonb;
  v_oid oid; v_ctid tid; v_row jsonb;
  moved boolean := true;
  last_error text;
begin
  while moved loop
    moved := false;
    for w in select * from m_wanted m
             where not exists (select 1 from m_fixtures f where f.table_name = m.table_name
                                 and f.tenant_label = m.tenant_label and f.party_label = m.party_label)
             order by m.table_name::text, m.tenant_label, m.party_label loop
      s := pg_temp.sample(w.table_name, w.tenant_id, w.n);
      continue when s::text like '%"missing-%';
      begin
        execute replace(pg_temp.insert_sql(w.table_name, s), 'insert into ' || w.table_name::text || ' ',
                        'insert into ' || w.table_name::text || ' as x ') || ' returning tableoid, ctid, to_jsonb(x)'
          into v_oid, v_ctid, v_row using s;
        insert into m_fixtures values (w.table_name, w.tenant_label, w.tenant_id, w.party_label, v_oid, v_ctid, v_row,
                                       case when w.party_label = 'A' then pg_temp.sample(w.table_name, w.tenant_id, 2) end, null);
        moved := true;
      exception when others then
        insert into m_fixtures values (w.table_name, w.tenant_label, w.tenant_id, w.party_label, null, null, null, null,
          format('cannot insert a sample row (%s: %s); register one with ops.set_rls_sample(%L, ...)',
                 sqlstate, sqlerrm, w.table_name));
      end;
    end loop;
  end loop;
  -- what never found its parent
  insert into m_fixtures
  select m.table_name, m.tenant_label, m.tenant_id, m.party_label, null, null, null, null,
         format('its sample names a parent ($ref) that has no fixture: %s', pg_temp.sample(m.table_name, m.tenant_id, m.n))
  from m_wanted m
  where not exists (select 1 from m_fixtures f where f.table_name = m.table_name
                      and f.tenant_label = m.tenant_label and f.party_label = m.party_label);
end $$;



-------------------------------------------------------------------------------------------
-- Expected and actual
-------------------------------------------------------------------------------------------
-- The permission a table's policy checks for an operation.
create function pg_temp.required_permission(t regclass, op text, sample jsonb) returns text language sql as $$
  select case
    when r.policy_kind = 'custom' and t = 'public.feature_flags_v2'::regclass and op <> 'select' then
      (select d.write_permission from public.flag_definitions d where d.key = sample ->> 'key')
    when r.policy_kind = 'custom' and op <> 'select' then '?'  -- unknown custom table: fails below
    else case op when 'select' then r.select_perm when 'insert' then r.insert_perm
                 when 'update' then r.update_perm else r.delete_perm end
  end
  from ops.rls_registry r where r.table_name = t
$$;

-- Runs one operation as the actor and reports allowed / refused (or the unexpected error).
-- Everything it did is rolled back (the sentinel exception).
create function pg_temp.try_op(t regclass, op text, claims jsonb, row_oid oid, row_ctid tid,
                               sample jsonb, tenant_col name)
returns text language plpgsql as $$
declare
  n bigint;
begin
  if row_oid is null then
    return 'no fixture';
  end if;
  begin
    perform set_config('role', 'authenticated', true);
    perform set_config('request.jwt.claims', claims::text, true);
    if op = 'select' then
      execute format('select count(*) from %s where tableoid = $1 and ctid = $2', t) into n using row_oid, row_ctid;
    elsif op = 'insert' then
      execute pg_temp.insert_sql(t, sample) using sample;
      get diagnostics n = row_count;
    elsif op = 'update' then
      execute format('update %s set %I = %2$I where tableoid = $1 and ctid = $2', t, tenant_col) using row_oid, row_ctid;
      get diagnostics n = row_count;
    else
      execute format('delete from %s where tableoid = $1 and ctid = $2', t) using row_oid, row_ctid;
      get diagnostics n = row_count;
    end if;
    raise exception using errcode = 'P0M01', message = n::text;
  exception
    when sqlstate 'P0M01' then
      return case when sqlerrm::bigint > 0 then 'allowed' else 'refused' end;
    when insufficient_privilege then   -- no grant, or a WITH CHECK violation
      return 'refused';
    when foreign_key_violation then    -- the policy let the delete through; the fixture is still referenced
      return 'allowed';
    when others then
      return 'error ' || sqlstate || ': ' || sqlerrm;
  end;
end $$;

create temp table m_cells as
select f.table_name, a.label as actor, a.role, f.tenant_label, f.party_label, op.op,
       -- the party dimension: an outside actor reads the row when its party policy names the actor's party
       (op.op = 'select' and f.tenant_label = 'own' and a.audience is not null
        and exists (select 1 from ops.rls_party_registry pr
                    where pr.table_name = f.table_name and pr.audience = a.audience
                      and (pr.party_column is null or f.row_json ->> pr.party_column = a.party_id::text))
        and exists (select 1 from public.role_permissions rp where rp.role = a.role
                      and rp.permission = 'freight.' || a.audience || '.read')) as party_read,
       exists (select 1 from ops.rls_party_registry pr where pr.table_name = f.table_name and pr.audience = a.audience) as party_cell,
       jsonb_build_object('sub', a.principal_id, 'role', 'authenticated',
                          'tenant_id', 'd0000000-0000-4000-8000-000000000001',
                          'principal_kind', case when a.label like '%@' then 'machine' else 'human' end,
                          'principal_name', a.label,
                          -- an MFA session: role and flag changes need aal2 (20261202150000_admin_portal)
                          'aal', 'aal2') as claims,
       f.row_oid, f.row_ctid,
       case when op.op = 'insert'
            then (select s.insert_sample from m_fixtures s where s.table_name = f.table_name and s.tenant_label = f.tenant_label
                    and s.party_label = 'A')
       end as sample,
       r.tenant_column,
       pg_temp.required_permission(f.table_name, 'select', '{}'::jsonb) as select_perm,
       pg_temp.required_permission(f.table_name, op.op,
         coalesce(f.insert_sample, '{}'::jsonb)) as perm
from m_fixtures f
join ops.rls_registry r on r.table_name = f.table_name
cross join m_actors a
cross join (values (1, 'select'), (2, 'insert'), (3, 'update'), (4, 'delete')) as op(ord, op)
order by f.table_name::text, a.label, f.tenant_label, f.party_label, op.ord;
-- (the insert cells run once per tenant: with party A's fixture)
delete from m_cells where op = 'insert' and party_label = 'B';

-- The party dimension comes from the catalog, not a hand-kept list: every table under RLS
-- with a party column (a foreign key to public.parties or public.drivers, or a column named
-- party_id / shipper_party_id / carrier_party_id / driver_id) has party policies
-- (ops.rls_party_registry, so its cells above are generated per party A / B), or is
-- staff-only on purpose, named here with the reason.
create temp table m_party_tables as
select distinct a.attrelid::regclass as table_name
from pg_attribute a join ops.rls_registry r on r.table_name = a.attrelid
where a.attnum > 0 and not a.attisdropped
  and (a.attname in ('party_id', 'shipper_party_id', 'carrier_party_id', 'driver_id')
       or exists (select 1 from pg_constraint c where c.conrelid = a.attrelid and c.contype = 'f' and a.attnum = any (c.conkey)
                    and c.confrelid in ('public.parties'::regclass, 'public.drivers'::regclass) and a.attname <> 'tenant_id'));
create temp table m_staff_only (table_name regclass primary key, why text not null);
insert into m_staff_only values
  ('public.ledger_accounts', 'the tenant''s books: outside parties see balances through their portals, never the chart of accounts'),
  ('public.party_members', 'who belongs to which party: tenant admins manage it, party RLS reads it through app_private.party_ids()'),
  ('public.rates_quotes', 'holds the cost side: a shipper gets its quote''s sell side in the answer of rates/price_one'),
  ('public.tms_admin_edi_partners', 'EDI partner configuration is the brokerage''s'),
  ('public.party_screenings', 'sanctions screening results are the brokerage''s compliance record (the directory portal, staff only)'),
  ('public.kyc_records', 'KYC (EIN, beneficial owners) is PII the brokerage keeps about a party, not shown to it'),
  ('public.carrier_census', 'the FMCSA census as the brokerage imported it; the carrier sees its authority in its compliance view'),
  ('public.watchlist_entries', 'the tenant''s own watchlists are about parties, never shown to them'),
  ('public.financials_invoices', 'AR is read by finance roles only (finance.read); a shipper gets its invoice documents through the shipper portal'),
  ('public.financials_bills', 'AP (holds, variances, the rate con) is read by finance roles only (finance.read)'),
  ('public.financials_payouts', 'payouts are read by finance roles only (finance.read)'),
  ('public.factoring_noas', 'Notices of Assignment are read by finance roles only (finance.read)');

select plan(((select count(*) from m_fixtures) + (select count(*) from m_cells))::int + 1);
select diag(format('party dimension from the catalog: %s tables with a party column: %s with party policies, %s staff-only',
  (select count(*) from m_party_tables),
  (select count(*) from m_party_tables t where exists (select 1 from ops.rls_party_registry pr where pr.table_name = t.table_name)),
  (select count(*) from m_party_tables t where t.table_name in (select table_name from m_staff_only))));
select is(
  (select coalesce(array_agg(t.table_name::text order by t.table_name::text), '{}') from m_party_tables t
   where not exists (select 1 from ops.rls_party_registry pr where pr.table_name = t.table_name)
     and t.table_name not in (select table_name from m_staff_only)),
  '{}'::text[],
  'every table with a party column has party policies (or is staff-only, with its reason)');
select diag(format('RLS matrix: %s tables x %s principals x own/other tenant x 4 operations, and %s tables x party A/B '
                   'for the shipper_user, carrier_user and driver actors: %s cells (%s on the party dimension) + %s fixtures',
  (select count(*) from ops.rls_registry), (select count(*) from m_actors),
  (select count(distinct table_name) from ops.rls_party_registry),
  (select count(*) from m_cells), (select count(*) from m_cells where party_cell), (select count(*) from m_fixtures)));

select ok(f.error is null, format('%s: fixture row for the %s tenant, party %s%s', f.table_name, f.tenant_label,
                                  f.party_label, coalesce(' -- ' || f.error, '')))
from m_fixtures f order by f.table_name::text, f.tenant_label, f.party_label;

select is(
  pg_temp.try_op(c.table_name, c.op, c.claims, c.row_oid, c.row_ctid, c.sample, c.tenant_column),
  case when c.party_read then 'allowed'
       when c.tenant_label = 'own' and c.perm is not null
         and exists (select 1 from public.role_permissions rp where rp.role = c.role and rp.permission = c.perm)
         and (c.op not in ('update', 'delete') or exists (
               select 1 from public.role_permissions rp where rp.role = c.role and rp.permission = c.select_perm))
       then 'allowed' else 'refused' end,
  format('%s: %s %s %s-tenant row%s (needs %s)', c.table_name, c.actor, c.op, c.tenant_label,
         case when c.party_cell then ' of party ' || c.party_label else '' end,
         case when c.perm is null then 'nobody via the API'
              when c.op in ('update', 'delete') and c.select_perm is distinct from c.perm
                then c.perm || ' + ' || coalesce(c.select_perm, 'select')
              else c.perm end)
)
from m_cells c
order by c.table_name::text, c.actor, c.tenant_label, c.party_label, c.op;

select * from finish();
rollback;
