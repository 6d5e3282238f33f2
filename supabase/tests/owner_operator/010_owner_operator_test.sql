-- Owner Operator SQL (supabase/migrations/*_owner_operator_portal.sql): a settlement with
-- deductions adds up to the cent and posts one balanced journal entry (the tenant's trial
-- balance is zero per currency, the fuel advance receivable back to zero); a load is settled
-- once (every door); party isolation (one owner operator reads none of another's
-- settlements); maintenance: an overdue interval, the dispatch guard behind its flag, the
-- unit block and its reversal.
begin;
select plan(31);

-- fixture: a tenant of this file, a finance manager, two owner operators (carrier users)
insert into public.tenants (id, slug, name) values ('f1900000-0000-4000-8000-000000000001', 'oo-pgtap', 'OO pgTAP');
insert into public.principals (id, kind, name, display_name) values
  ('f1900000-0000-4000-8000-0000000000a1', 'human', 'finance@oo-pgtap.test', 'Finance'),
  ('f1900000-0000-4000-8000-0000000000a2', 'human', 'ann@oo-pgtap.test', 'Ann'),
  ('f1900000-0000-4000-8000-0000000000a3', 'human', 'bob@oo-pgtap.test', 'Bob'),
  ('f1900000-0000-4000-8000-0000000000a4', 'human', 'ops@oo-pgtap.test', 'Ops');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('f1900000-0000-4000-8000-0000000000a1', 'finance_manager', 'f1900000-0000-4000-8000-000000000001'),
  ('f1900000-0000-4000-8000-0000000000a2', 'carrier_user', 'f1900000-0000-4000-8000-000000000001'),
  ('f1900000-0000-4000-8000-0000000000a3', 'carrier_user', 'f1900000-0000-4000-8000-000000000001'),
  ('f1900000-0000-4000-8000-0000000000a4', 'ops_manager', 'f1900000-0000-4000-8000-000000000001');
insert into public.parties (id, tenant_id, kind, name) values
  ('f1900000-0000-4000-8000-0000000000b1', 'f1900000-0000-4000-8000-000000000001', 'shipper', 'OO Shipper'),
  ('f1900000-0000-4000-8000-0000000000c1', 'f1900000-0000-4000-8000-000000000001', 'carrier', 'Ann Trucking'),
  ('f1900000-0000-4000-8000-0000000000c2', 'f1900000-0000-4000-8000-000000000001', 'carrier', 'Bob Hauling');
insert into public.party_members (tenant_id, principal_id, party_id) values
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-0000000000a2', 'f1900000-0000-4000-8000-0000000000c1'),
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-0000000000a3', 'f1900000-0000-4000-8000-0000000000c2');
insert into public.owner_operator_profiles (tenant_id, carrier_party_id, escrow_cents, lease_cents, insurance_cents) values
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-0000000000c1', 10000, 35000, 8333),
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-0000000000c2', 0, 0, 0);
insert into public.orders (id, tenant_id, reference, shipper_party_id) values
  ('f1900000-0000-4000-8000-0000000000d1', 'f1900000-0000-4000-8000-000000000001', 'OO-ORD', 'f1900000-0000-4000-8000-0000000000b1');
-- Ann: two delivered loads and one in transit; Bob: one delivered
insert into public.loads (id, tenant_id, order_id, reference, shipper_party_id, carrier_party_id, status)
select ('f1900000-0000-4000-8000-0000000001' || n)::uuid, 'f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-0000000000d1',
       'OO-' || n, 'f1900000-0000-4000-8000-0000000000b1', c::uuid, s
from (values ('01', 'f1900000-0000-4000-8000-0000000000c1', 'delivered'), ('02', 'f1900000-0000-4000-8000-0000000000c1', 'completed'),
             ('03', 'f1900000-0000-4000-8000-0000000000c1', 'in_transit'), ('04', 'f1900000-0000-4000-8000-0000000000c2', 'delivered')) v(n, c, s);
insert into public.charge_lines (tenant_id, load_id, side, party_id, kind, amount_cents) values
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-000000000101', 'buy', 'f1900000-0000-4000-8000-0000000000c1', 'linehaul', 230000),
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-000000000101', 'buy', 'f1900000-0000-4000-8000-0000000000c1', 'fuel', 20000),
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-000000000102', 'buy', 'f1900000-0000-4000-8000-0000000000c1', 'linehaul', 187550),
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-000000000103', 'buy', 'f1900000-0000-4000-8000-0000000000c1', 'linehaul', 99900),
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-000000000104', 'buy', 'f1900000-0000-4000-8000-0000000000c2', 'linehaul', 150000),
  ('f1900000-0000-4000-8000-000000000001', 'f1900000-0000-4000-8000-000000000101', 'sell', 'f1900000-0000-4000-8000-0000000000b1', 'linehaul', 310000);

create function pg_temp.t() returns uuid language sql as $$ select 'f1900000-0000-4000-8000-000000000001'::uuid $$;
create function pg_temp.ann() returns uuid language sql as $$ select 'f1900000-0000-4000-8000-0000000000c1'::uuid $$;
create function pg_temp.bob() returns uuid language sql as $$ select 'f1900000-0000-4000-8000-0000000000c2'::uuid $$;
create function pg_temp.load(n text) returns uuid language sql as $$ select ('f1900000-0000-4000-8000-0000000001' || n)::uuid $$;
grant execute on all functions in schema pg_temp to public;

-------------------------------------------------------------------------------------------
-- settlement
-------------------------------------------------------------------------------------------
select tests.act_as('finance@oo-pgtap.test', pg_temp.t(), '{"portal": "owner_operator"}');
select is((app_private.owner_operator_fuel_advance(pg_temp.ann(), 40000, 'Flying J')) ->> 'amount_cents', '40000', 'a fuel advance is paid');
select is((app_private.owner_operator_fuel_advance(pg_temp.ann(), 12525)) ->> 'amount_cents', '12525', 'and another');
select throws_ok($$select app_private.owner_operator_fuel_advance(pg_temp.ann(), 0)$$, 'SY114', null, 'a fuel advance of 0: bad_amount');
select throws_ok($$select app_private.owner_operator_settlement_create(pg_temp.ann(), array[pg_temp.load('01'), pg_temp.load('03')])$$, 'SY191', null,
  'a load not delivered is not settled: settlement_invalid');
select throws_ok($$select app_private.owner_operator_settlement_create(pg_temp.ann(), array[pg_temp.load('04')])$$, 'SY191', null,
  'another owner operator''s load: settlement_invalid');
select throws_ok($$select app_private.owner_operator_settlement_create(pg_temp.ann(), array[pg_temp.load('01')], '{"lease_cents": 1.5}')$$, 'SY114', null,
  'a deduction in fractional cents: bad_amount');
select throws_ok($$select app_private.owner_operator_settlement_create(pg_temp.ann(), array[pg_temp.load('01')], '{"lease_cents": 99999999}')$$, 'SY191', null,
  'deductions above the gross: settlement_invalid');

create temp table s as select app_private.owner_operator_settlement_create(pg_temp.ann(), array[pg_temp.load('01'), pg_temp.load('02')]) as r;
grant select on s to public;
-- 250000 + 187550 = 437550; 40000 + 12525 + 10000 + 35000 + 8333 = 105858; 437550 - 105858 = 331692
select is((select (r ->> 'gross_cents')::bigint from s), 437550::bigint, 'gross: the two loads'' buy lines (linehaul + fuel)');
select is((select r -> 'deductions' from s), '{"fuel_advance_cents": 52525, "escrow_cents": 10000, "lease_cents": 35000, "insurance_cents": 8333}'::jsonb,
  'deductions: both fuel advances and the profile''s escrow, lease and insurance');
select is((select (r ->> 'deductions_cents')::bigint from s), 105858::bigint, 'deductions total to the cent');
select is((select (r ->> 'net_cents')::bigint from s), 331692::bigint, 'net = gross - deductions, to the cent');
select tests.act_as_owner();
select is((select sum(case when kind = 'load' then amount_cents else -amount_cents end)::bigint from public.owner_operator_settlement_lines
           where settlement_id = (select (r ->> 'settlement_id')::uuid from s)), 331692::bigint, 'the statement''s lines add up to the net');
select is((select sum(l.amount_cents)::bigint from public.journal_lines l where l.entry_id = (select (r ->> 'journal_entry_id')::uuid from s)), 0::bigint,
  'the settlement''s journal entry balances');
select results_eq($$select a.code, l.amount_cents from public.journal_lines l join public.ledger_accounts a on a.id = l.account_id
                    where l.entry_id = (select (r ->> 'journal_entry_id')::uuid from s) order by l.amount_cents desc$$,
  $$values ('oo.linehaul_cost:USD', 437550::bigint), ('oo.insurance_recovery:USD', -8333::bigint), ('oo.escrow:f1900000-0000-4000-8000-0000000000c1', -10000::bigint),
           ('oo.lease_income:USD', -35000::bigint), ('oo.fuel_advance:f1900000-0000-4000-8000-0000000000c1', -52525::bigint),
           ('oo.payable:f1900000-0000-4000-8000-0000000000c1', -331692::bigint)$$,
  'Dr linehaul cost gross; Cr payable net, fuel advances, escrow, lease and insurance');
select results_eq($$select e.currency::text, sum(l.amount_cents)::bigint from public.journal_entries e join public.journal_lines l on l.entry_id = e.id
                    where e.tenant_id = pg_temp.t() group by e.currency$$, $$values ('USD', 0::bigint)$$,
  'trial balance: the tenant''s ledger sums to zero per currency');
select is(app_private.ledger_party_balance(pg_temp.ann(), 'receivable'), 0::bigint, 'the fuel advance receivable is recovered to zero');

-- once per load, from every door
select tests.act_as('finance@oo-pgtap.test', pg_temp.t(), '{"portal": "owner_operator"}');
select throws_ok($$select app_private.owner_operator_settlement_create(pg_temp.ann(), array[pg_temp.load('02')])$$, 'SY190', null,
  'the same load again: settlement_duplicate');
select tests.act_as_owner();
select throws_ok($$insert into public.owner_operator_settlement_lines (tenant_id, settlement_id, carrier_party_id, kind, load_id, amount_cents)
                   select pg_temp.t(), (r ->> 'settlement_id')::uuid, pg_temp.ann(), 'load', pg_temp.load('01'), 1 from s$$, '23505', null,
  'a raw insert of a settled load: the unique index refuses it too');

-------------------------------------------------------------------------------------------
-- party isolation
-------------------------------------------------------------------------------------------
select tests.act_as('finance@oo-pgtap.test', pg_temp.t(), '{"portal": "owner_operator"}');
select lives_ok($$select app_private.owner_operator_settlement_create(pg_temp.bob(), array[pg_temp.load('04')])$$, 'Bob is settled too');
select tests.act_as('ann@oo-pgtap.test', pg_temp.t(), '{"portal": "owner_operator"}');
select results_eq($$select carrier_party_id from public.owner_operator_settlements$$, $$values (pg_temp.ann())$$,
  'Ann reads her settlement only');
select is((select count(*)::int from public.owner_operator_settlement_lines where carrier_party_id = pg_temp.bob()), 0, 'and none of Bob''s lines');
select throws_ok($$select app_private.owner_operator_settlement_create(pg_temp.ann(), array[pg_temp.load('03')])$$, 'SY021', null,
  'an owner operator cannot settle itself (owner_operator.settle): forbidden');
select throws_ok($$select app_private.owner_operator_miles_record(pg_temp.load('04'), 800, 20)$$, 'SY021', null,
  'nor record miles of Bob''s load');

-------------------------------------------------------------------------------------------
-- maintenance
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
insert into public.equipment (id, tenant_id, carrier_party_id, unit_number, kind) values
  ('f1900000-0000-4000-8000-0000000000e1', pg_temp.t(), pg_temp.ann(), 'ANN-1', 'tractor');
select tests.act_as('ann@oo-pgtap.test', pg_temp.t(), '{"portal": "owner_operator"}');
select lives_ok($$select app_private.owner_operator_service_interval_set('f1900000-0000-4000-8000-0000000000e1', 'pm_a', 15000, 90)$$,
  'Ann sets a PM interval on her tractor');
select lives_ok($$select app_private.owner_operator_odometer_set('f1900000-0000-4000-8000-0000000000e1', 15200)$$, 'the odometer passes 15,000 miles');
select is((select overdue from public.owner_operator_service_status where unit_id = 'f1900000-0000-4000-8000-0000000000e1'), true,
  'overdue by miles');
select tests.act_as_owner();
insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
  values ('owner_operator.blockOverdueDispatch', 'tenant:' || pg_temp.t(), 'true', 'test', 'test');
select throws_ok($$update public.loads set tractor_id = 'f1900000-0000-4000-8000-0000000000e1' where id = pg_temp.load('03')$$, 'SY193', null,
  'flag on: assigning the overdue tractor is refused even to psql (unit_service_overdue)');
select tests.act_as('ann@oo-pgtap.test', pg_temp.t(), '{"portal": "owner_operator"}');
select lives_ok($$select app_private.owner_operator_service_record('f1900000-0000-4000-8000-0000000000e1',
                  '{"service_kind": "pm_a", "odometer_miles": 15210, "cost_cents": 48500}')$$, 'the PM is recorded');
select tests.act_as_owner();
select lives_ok($$update public.loads set tractor_id = 'f1900000-0000-4000-8000-0000000000e1' where id = pg_temp.load('03')$$,
  'serviced: the tractor is assigned');
-- the maintenance agent's block, and its reversal
select tests.act_as('ops@oo-pgtap.test', pg_temp.t(), '{"portal": "owner_operator"}');
create temp table b as select app_private.owner_operator_unit_block('f1900000-0000-4000-8000-0000000000e1', 'pm_a overdue') as r;
grant select on b to public;
select is((select status from public.equipment where id = 'f1900000-0000-4000-8000-0000000000e1'), 'blocked',
  'blocked: the core''s dispatch refuses the unit (asset_blocked)');
select app_private.owner_operator_unit_unblock((select (r ->> 'block_id')::uuid from b), 'serviced');
select is((select status || ':' || clear_reason from public.equipment e join public.owner_operator_unit_blocks k on k.unit_id = e.id
           where e.id = 'f1900000-0000-4000-8000-0000000000e1'), 'active:serviced', 'unblocked with its reason: active again');

select * from finish();
rollback;
