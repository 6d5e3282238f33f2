-- Rates: every rates table is under the rails with the audit mode its migration chose
-- (ops.attach_rails p_audit): quotes and contracts deferred to COMMIT, the bulk evidence
-- tables without row audit, guards immediate; the deferred audit still writes its rows.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;
select plan(9);

create function pg_temp.audit_mode(t regclass) returns text language sql as $$
  select coalesce((select case when tg.tgdeferrable and tg.tginitdeferred then 'deferred' else 'immediate' end
                   from pg_trigger tg where tg.tgrelid = t and tg.tgname = 'audit_row'), 'none')
$$;

select is(pg_temp.audit_mode('public.rates_quotes'), 'deferred', 'rates_quotes: row audit deferred to COMMIT');
select is(pg_temp.audit_mode('public.rates_contracts'), 'deferred', 'rates_contracts: row audit deferred to COMMIT');
select is(pg_temp.audit_mode('public.rates_guards'), 'immediate', 'rates_guards: row audit immediate');
select is(pg_temp.audit_mode('public.rates_lane_history'), 'none', 'rates_lane_history: no row audit (bulk)');
select is(pg_temp.audit_mode('public.rates_index'), 'none', 'rates_index: no row audit (the ingest audits itself)');
select is((select count(*)::int from pg_trigger tg
           where tg.tgname = 'rails_guard'
             and tg.tgrelid in ('public.rates_quotes'::regclass, 'public.rates_contracts'::regclass,
                                'public.rates_guards'::regclass, 'public.rates_lane_history'::regclass,
                                'public.rates_index'::regclass)), 5,
          'every rates tenant table has the kill-switch guard');

select throws_ok($$select ops.attach_rails('public.rates_guards', p_audit => 'sometimes')$$, 'P0001',
                 'ops.attach_rails: audit mode must be immediate, deferred or none (got sometimes)',
                 'attach_rails refuses an unknown audit mode');

-- A deferred audit row appears at COMMIT time: after `set constraints all immediate` here.
select tests.act_as('ops@demo-freight.test');
insert into public.rates_quotes (id, tenant_id, request, quote, total, status)
values ('f9000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', '{}', '{}', 100, 'priced');
select tests.act_as_owner();
select is((select count(*)::int from public.audit_log where action = 'rates_quotes.insert'
           and target_id = 'f9000000-0000-4000-8000-000000000001'), 0, 'no audit row before the commit point');
select tests.act_as('ops@demo-freight.test');   -- the deferred trigger runs under the claims in force then
set constraints all immediate;
select tests.act_as_owner();
select is((select principal_name from public.audit_log where action = 'rates_quotes.insert'
           and target_id = 'f9000000-0000-4000-8000-000000000001'), 'ops@demo-freight.test',
          'the deferred audit row names the principal that wrote the quote');

select * from finish();
rollback;
