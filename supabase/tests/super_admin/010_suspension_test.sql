-- Super Admin: a suspended tenant refuses every write, from every door, in Postgres; its
-- data is kept and readable; another tenant is unaffected; resumed, writes work again.
-- Doors: a human's direct SQL under RLS (insert, update, delete), a human through a freight
-- definer function, the action pipeline's rails (action_begin), agents@ through a definer
-- function and the outbox, a service key's machine request. Only super_admin suspends.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
select plan(17);

insert into public.tenants (id, slug, name) values ('b1700000-0000-4000-8000-000000000001', 'suspend-me', 'Suspend Me');
insert into public.principals (id, kind, name, display_name) values
  ('f1700000-0000-4000-8000-000000000001', 'human', 'ops@suspend-me.test', 'Ops'),
  ('f1700000-0000-4000-8000-000000000002', 'human', 'admin@suspend-me.test', 'Admin');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('f1700000-0000-4000-8000-000000000001', 'ops_manager', 'b1700000-0000-4000-8000-000000000001'),
  ('f1700000-0000-4000-8000-000000000002', 'tenant_admin', 'b1700000-0000-4000-8000-000000000001');
insert into public.parties (id, tenant_id, kind, name) values
  ('c1700000-0000-4000-8000-000000000001', 'b1700000-0000-4000-8000-000000000001', 'carrier', 'Kept Carrier');

create function pg_temp.t() returns uuid language sql as $$ select 'b1700000-0000-4000-8000-000000000001'::uuid $$;
grant execute on function pg_temp.t() to public;

-- only super_admin suspends
select tests.act_as('admin@suspend-me.test', pg_temp.t());
select throws_ok($$select app_private.super_admin_tenant_suspend(pg_temp.t(), true, 'unpaid invoices')$$, 'SY021', null,
  'a tenant admin cannot suspend (even its own tenant): forbidden');
select tests.act_as('super@switchyard.test');
select throws_ok($$select app_private.super_admin_tenant_suspend(pg_temp.t(), true, 'x')$$, 'SY017', null, 'a suspension needs a reason');
select is(app_private.super_admin_tenant_suspend(pg_temp.t(), true, 'unpaid invoices'), 'suspended',
  'super_admin (acting from its home tenant) suspends the tenant');

-- every door refuses writes in it
select tests.act_as('ops@suspend-me.test', pg_temp.t());
select throws_ok($$insert into public.parties (tenant_id, kind, name) values (pg_temp.t(), 'shipper', 'New Shipper')$$, 'SY050', null,
  'a human''s INSERT under RLS: tenant_suspended');
select throws_ok($$update public.parties set name = 'Renamed' where tenant_id = pg_temp.t()$$, 'SY050', null, 'an UPDATE: tenant_suspended');
select throws_ok($$delete from public.parties where tenant_id = pg_temp.t()$$, 'SY050', null, 'a DELETE: tenant_suspended');
select throws_ok($$select app_private.freight_party_block_set('c1700000-0000-4000-8000-000000000001', 'manual', 'x')$$, 'SY120', null,
  'a freight definer function (block set): refused, the suspended tenant''s rows read as absent to its members (freight_not_found)');
select throws_ok($$select app_private.action_begin('domain.write')$$, 'SY050', null,
  'the action pipeline''s rails (every portal, every human and machine request): tenant_suspended');
select throws_ok($$select app_private.directory_party_create('{"kind": "carrier", "name": "Another"}')$$, 'SY050', null,
  'the directory''s definer function: tenant_suspended');
select tests.act_as('agents', pg_temp.t());
select throws_ok($$select app_private.freight_party_block_set('c1700000-0000-4000-8000-000000000001', 'insurance', 'x')$$, 'SY050', null,
  'agents@ through a definer function: tenant_suspended');
select throws_ok($$select app_private.outbox_publish('party', 'c1', 'freight.party.touched', '{}', '{}', pg_temp.t())$$, 'SY050', null,
  'agents@ publishing to the outbox: tenant_suspended');
select tests.act_as_owner();
select tests.act_as('n8n', pg_temp.t(), jsonb_build_object('key_id', (select key_id from ops.issue_service_key('n8n', 30, 'service', array[pg_temp.t()]))));
select throws_ok($$select app_private.action_begin('freight.order.book')$$, 'SY050', null,
  'a signed n8n request with a key serving the tenant: tenant_suspended');

-- data kept and readable; another tenant unaffected
select tests.act_as('super@switchyard.test', null);
select is((select count(*)::int from public.parties where tenant_id = pg_temp.t()), 1,
  'its data is kept (super_admin reads it; its members hold nothing while it is suspended)');
select tests.act_as('ops@demo-freight.test');
select lives_ok($$insert into public.parties (tenant_id, kind, name) values ('d0000000-0000-4000-8000-000000000001', 'shipper', 'Unaffected Shipper')$$,
  'another tenant writes as before');

-- resumed: writes work again
select tests.act_as('super@switchyard.test');
select is(app_private.super_admin_tenant_suspend(pg_temp.t(), false, 'invoices paid'), 'active', 'super_admin resumes it');
select tests.act_as('ops@suspend-me.test', pg_temp.t());
select lives_ok($$insert into public.parties (tenant_id, kind, name) values (pg_temp.t(), 'shipper', 'New Shipper')$$, 'resumed: a human writes again');
select tests.act_as_owner();
select results_eq($$select action, reason from public.audit_log where target_id = 'b1700000-0000-4000-8000-000000000001'
                    and action like 'super_admin.tenant.%' order by chain_seq$$,
  $$values ('super_admin.tenant.suspended', 'unpaid invoices'), ('super_admin.tenant.resumed', 'invoices paid')$$,
  'suspension and resumption are audited with their reasons');

select * from finish();
rollback;
