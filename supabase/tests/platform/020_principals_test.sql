-- Tenancy and principals (charter §1): roles, the service accounts with hashed keys and
-- rotation, the permission matrix as data, identity from tables (never from claims), the
-- one permission helper, bad role input.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
-- The pg_temp helpers below are also called as API roles; no function is PUBLIC-executable by
-- default (migrations 20261125000000), so this transaction's own are (rolled back with it).
alter default privileges grant execute on functions to public;
select plan(68);

create function pg_temp.perms(p_role text) returns text[] language sql as $$
  select coalesce(array_agg(permission order by permission), '{}') from public.role_permissions where role = p_role
$$;

insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');
insert into public.principals (id, kind, name) values
  ('f0000000-0000-4000-8000-0000000000b1', 'human', 'dispatch@other-co.test');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('f0000000-0000-4000-8000-0000000000b1', 'dispatcher', 'b0000000-0000-4000-8000-00000000000b');

-------------------------------------------------------------------------------------------
-- Roles and service accounts
-------------------------------------------------------------------------------------------
select set_eq($$select role from roles where kind = 'human' and scope = 'tenant'$$,
  array['tenant_admin', 'ops_manager', 'dispatcher', 'finance_manager', 'analyst', 'developer', 'viewer',
        'shipper_user', 'carrier_user', 'driver'],
  'the seven staff roles of a tenant and its three outside-party roles (shipper_user, carrier_user, driver)');
select set_eq($$select role from roles where scope = 'global' and kind = 'human'$$, array['super_admin'], 'super_admin is global');
select set_eq($$select s.name from service_accounts s join principals p on p.id = s.principal_id
                join role_assignments ra on ra.principal_id = p.id and ra.role = s.name and ra.tenant_id is null
                where p.kind = 'machine'$$,
  array['autopilot', 'agents', 'dlq', 'ci', 'n8n', 'system', 'relay'],
  'seven machine service accounts (the charter''s six and relay@), each a machine principal with its global role');
select ok((select bool_and(rotation_days = 90) from service_accounts), 'service keys rotate every 90 days');

-- The matrix follows the charter's role descriptions.
select is(pg_temp.perms('super_admin'), (select array_agg(permission order by permission) from permissions),
          'super_admin holds every permission');
select ok(pg_temp.perms('tenant_admin') @> array['flags.portal.write', 'members.manage', 'finance.read', 'tenant.manage'],
          'tenant_admin: portal enable/disable, user invites, billing, entitlements');
select ok(pg_temp.perms('ops_manager') @> array['domain.write', 'dlq.replay.request', 'dlq.replay.approve'],
          'ops_manager: operations, DLQ dry-run, replay approve');
select ok(pg_temp.perms('dispatcher') @> array['domain.write', 'outbox.publish'] and not 'domain.delete' = any (pg_temp.perms('dispatcher')),
          'dispatcher: tender/assign/track, no deletes');
select ok(pg_temp.perms('finance_manager') @> array['finance.read', 'finance.write'], 'finance_manager: AR/AP, settlements');
select ok(pg_temp.perms('analyst') @> array['metrics.read', 'domain.read'] and not 'domain.write' = any (pg_temp.perms('analyst')),
          'analyst: analytics, read only');
select ok(pg_temp.perms('developer') @> array['traces.read', 'deploy.staging']
          and not pg_temp.perms('developer') && array['deploy.production', 'domain.read', 'domain.write'],
          'developer: traces and logs, staging deploys only, no operational data');
select is((select array_agg(p order by p) from unnest(pg_temp.perms('viewer')) p
           where p ~ '(write|manage|publish|deliver|charge|approve|request|execute|acquire|break_glass|delete)$'),
          null, 'viewer: nothing that writes');
select ok('flags.canary.write' = any (pg_temp.perms('autopilot')) and not 'flags.emergency_stop.write' = any (pg_temp.perms('autopilot')),
          'autopilot@: canary flags, not the kill switch');
select ok(pg_temp.perms('agents') @> array['domain.write', 'outbox.publish', 'telemetry.write'], 'agents@: execute tasks, publish outbox, spans');
select ok('dlq.replay.request' = any (pg_temp.perms('dlq')) and not 'dlq.replay.approve' = any (pg_temp.perms('dlq')),
          'dlq@: requests replays, cannot approve them');
select ok('flags.autonomy.write' = any (pg_temp.perms('ci')) and 'deploy.production' = any (pg_temp.perms('ci')),
          'ci@: rollback gates can disable agents');
select ok(pg_temp.perms('n8n') @> array['domain.write', 'outbox.publish'], 'n8n@: inbound/outbound jobs');
select is((select array_agg(p order by p) from unnest(pg_temp.perms('system')) p where p not in ('flags.read', 'audit.write')),
          array['dr.execute', 'flags.emergency_stop.write', 'rails.break_glass'], 'system@: DR and emergencyStop only');
select is(pg_temp.perms('relay'), array['outbox.deliver'], 'relay@: outbox.deliver only (claim, ack, deliveries log, DLQ)');
select ok(not 'outbox.deliver' = any (pg_temp.perms('agents')), 'agents@ publishes events; relay@ delivers them');
select results_eq($$select name from service_accounts where not autonomous$$, $$values ('relay')$$,
  'relay@ is the one non-autonomous account');

-------------------------------------------------------------------------------------------
-- Bad role input
-------------------------------------------------------------------------------------------
select throws_ok($$insert into role_assignments (principal_id, role, tenant_id) values
  ('e0000000-0000-4000-8000-000000000008', 'overlord', 'd0000000-0000-4000-8000-000000000001')$$,
  'SY013', null, 'an unknown role is refused');
select throws_like($$insert into role_assignments (principal_id, role, tenant_id) values
  ('e0000000-0000-4000-8000-000000000008', 'overlord', 'd0000000-0000-4000-8000-000000000001')$$,
  'unknown_role: "overlord" is not a role; known roles: %', 'and named in the error');
select throws_ok($$insert into role_assignments (principal_id, role, tenant_id) values
  ('e0000000-0000-4000-8000-000000000008', 'super_admin', 'd0000000-0000-4000-8000-000000000001')$$,
  'SY014', 'bad_role_scope: super_admin is a global role; tenant_id must be null', 'super_admin takes no tenant');
select throws_ok($$insert into role_assignments (principal_id, role) values ('e0000000-0000-4000-8000-000000000008', 'dispatcher')$$,
  'SY014', 'bad_role_scope: dispatcher is a tenant role; it needs a tenant_id', 'a tenant role needs a tenant');
select throws_ok($$insert into role_assignments (principal_id, role) values ('e0000000-0000-4000-8000-000000000008', 'agents')$$,
  'SY014', 'bad_role_scope: agents is a machine role; principal e0000000-0000-4000-8000-000000000008 is human',
  'machine roles are for machine principals');
select throws_ok($$select app_private.has_permission('d0000000-0000-4000-8000-000000000001', 'domain.fly')$$,
  'SY015', 'unknown_permission: "domain.fly" is not a permission', 'an unknown permission is an error, not false');

-------------------------------------------------------------------------------------------
-- The permission helper: identity and roles come from tables
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@demo-freight.test');
select ok(app_private.has_permission('d0000000-0000-4000-8000-000000000001', 'domain.write'), 'dispatcher writes in its tenant');
select ok(not app_private.has_permission('b0000000-0000-4000-8000-00000000000b', 'domain.write'), 'not in another tenant');
select ok(not app_private.has_permission(null, 'domain.write'), 'and holds no global grant');
select results_eq($$select principal_id, kind, name, tenant_id, roles from app_private.current_principal()$$,
  $$values ('e0000000-0000-4000-8000-000000000004'::uuid, 'human', 'dispatch@demo-freight.test',
            'd0000000-0000-4000-8000-000000000001'::uuid, array['dispatcher'])$$,
  'current_principal resolves the caller in one call');
select ok((select permissions from app_private.current_principal()) = pg_temp.perms('dispatcher'),
          'with the permissions of its roles');
select is(app_private.permitted_tenants('domain.read'), array['d0000000-0000-4000-8000-000000000001'::uuid],
          'permitted_tenants is the set form');
-- Lying claims change nothing: the role / kind / name in the JWT are not trusted.
select tests.act_as('dispatch@demo-freight.test', 'd0000000-0000-4000-8000-000000000001',
                      '{"role": "authenticated", "app_role": "super_admin", "principal_kind": "machine", "principal_name": "system"}');
select ok(not app_private.has_permission(null, 'flags.emergency_stop.write') and
          (select kind from app_private.current_principal()) = 'human', 'role, kind and name claims are not trusted');
-- A tenant claim the principal is not a member of gives nothing.
select tests.act_as('dispatch@demo-freight.test', 'b0000000-0000-4000-8000-00000000000b');
select is(app_private.permitted_tenants('domain.read'), '{}'::uuid[], 'a tenant claim without membership grants nothing');
-- An unknown sub is nobody.
select tests.act_as_owner();
select set_config('role', 'authenticated', true),
       set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000000ff", "role": "authenticated", "tenant_id": "d0000000-0000-4000-8000-000000000001"}', true);
select ok(not app_private.has_permission('d0000000-0000-4000-8000-000000000001', 'tenant.read')
          and not exists (select 1 from app_private.current_principal()), 'an unknown sub has no permission');
select is((select count(*)::int from parties), 0, 'and reads nothing');
-- super_admin: every tenant, unless the request is narrowed to one.
select tests.act_as('super@switchyard.test', null);
select ok(app_private.has_permission('b0000000-0000-4000-8000-00000000000b', 'domain.read')
          and app_private.has_permission(null, 'flags.global.write'), 'super_admin acts in any tenant and globally');
select tests.act_as('super@switchyard.test', 'd0000000-0000-4000-8000-000000000001');
select ok(not app_private.has_permission('b0000000-0000-4000-8000-00000000000b', 'domain.read'),
          'a tenant_id claim narrows even super_admin to that tenant');
-- Machines: global accounts, narrowed by the claim.
select tests.act_as('agents', 'b0000000-0000-4000-8000-00000000000b');
select ok(app_private.has_permission('b0000000-0000-4000-8000-00000000000b', 'domain.write')
          and not app_private.has_permission('d0000000-0000-4000-8000-000000000001', 'domain.write'),
          'a service account acts in the tenant its request names');
-- Disabled principals and suspended tenants.
select tests.act_as_owner();
update principals set disabled_at = now() where name = 'dispatch@demo-freight.test';
select tests.act_as('dispatch@demo-freight.test');
select ok(not app_private.has_permission('d0000000-0000-4000-8000-000000000001', 'domain.read'), 'a disabled principal has no permission');
select tests.act_as_owner();
update principals set disabled_at = null where name = 'dispatch@demo-freight.test';
update tenants set status = 'suspended' where id = 'b0000000-0000-4000-8000-00000000000b';
select tests.act_as('dispatch@other-co.test', 'b0000000-0000-4000-8000-00000000000b');
select ok(not app_private.has_permission('b0000000-0000-4000-8000-00000000000b', 'domain.read'),
          'members of a suspended tenant lose access');
select tests.act_as('super@switchyard.test', null);
select ok(app_private.has_permission('b0000000-0000-4000-8000-00000000000b', 'tenant.read'), 'super_admin keeps it');
select tests.act_as_owner();
update tenants set status = 'active' where id = 'b0000000-0000-4000-8000-00000000000b';

-------------------------------------------------------------------------------------------
-- Tenants, principals and memberships under RLS
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@demo-freight.test');
select set_eq($$select slug from tenants$$, array['demo-freight'], 'a member sees its own tenant only');
select tests.act_as('admin@demo-freight.test');
update tenants set name = 'Demo Freight Company' where true;
select tests.act_as_owner();
select set_eq($$select name from tenants where id in ('d0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-00000000000b')$$,
  array['Demo Freight Company', 'Other Co'], 'tenant_admin edits its own tenant and no other');
select tests.act_as('admin@demo-freight.test');
select throws_ok($$insert into tenants (slug, name) values ('sneaky', 'Sneaky')$$, '42501', null, 'tenant_admin cannot provision tenants');
select tests.act_as('super@switchyard.test', null);
select lives_ok($$insert into tenants (slug, name) values ('new-co', 'New Co')$$, 'super_admin provisions tenants');

select tests.act_as('viewer@demo-freight.test');
select set_eq($$select name from principals$$, array['viewer@demo-freight.test'], 'a viewer sees only itself');
select tests.act_as('admin@demo-freight.test');
select ok((select count(*) from principals where name like '%@demo-freight.test') = 7
          and not exists (select 1 from principals where name = 'dispatch@other-co.test'),
          'tenant_admin sees the members of its tenant, not others''');
select lives_ok($$select app_private.invite_member('d0000000-0000-4000-8000-000000000001', 'New.Hire@Demo-Freight.test', 'analyst')$$,
  'tenant_admin invites a user with a role');
select tests.act_as_owner();
select results_eq($$select p.kind, ra.role from principals p join role_assignments ra on ra.principal_id = p.id
                   where p.name = 'new.hire@demo-freight.test'$$,
  $$values ('human', 'analyst')$$, 'the invitee is a human principal with the analyst role');
select tests.act_as('admin@demo-freight.test');
select throws_ok($$select app_private.invite_member('d0000000-0000-4000-8000-000000000001', 'x@demo-freight.test', 'overlord')$$,
  'SY013', null, 'inviting with an unknown role fails with unknown_role');
select throws_ok($$select app_private.invite_member('d0000000-0000-4000-8000-000000000001', 'not-an-email', 'viewer')$$,
  'SY017', 'bad_request: the invitee is not an email address', 'a bad email is refused');
select throws_ok($$insert into role_assignments (principal_id, role) values ('e0000000-0000-4000-8000-000000000008', 'super_admin')$$,
  '42501', null, 'tenant_admin cannot grant super_admin');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.invite_member('d0000000-0000-4000-8000-000000000001', 'y@demo-freight.test', 'viewer')$$,
  'SY021', null, 'a dispatcher cannot invite');

-------------------------------------------------------------------------------------------
-- Service account keys: hashed, 90-day rotation, rehearsals
-------------------------------------------------------------------------------------------
select tests.act_as_owner();
create temp table k1 as select * from ops.issue_service_key('agents');
select is(app_private.verify_service_key((select key_id from k1), (select secret from k1)),
          'a0000000-0000-4000-8000-000000000002'::uuid, 'an issued key verifies to the agents principal');
select is(app_private.verify_service_key((select key_id from k1), 'wrong'), null, 'a wrong secret does not');
select is((select key_hash from service_account_keys where key_id = (select key_id from k1)),
          encode(sha256(convert_to(encode(sha256(convert_to((select secret from k1), 'UTF8')), 'hex'), 'UTF8')), 'hex'),
          'only a fingerprint of the signing key is stored (the signing key is in Vault)');
select ok((select expires_at from service_account_keys where key_id = (select key_id from k1))
          between now() + interval '89 days' and now() + interval '90 days', 'keys expire after 90 days');
select throws_ok($$select * from ops.issue_service_key('agents', 120)$$, 'SY017',
  'bad_request: keys for agents are valid 1..90 days (got 120)', 'a key cannot outlive the rotation period');
create temp table k2 as select * from ops.rotate_service_key('agents');
select ok((select rotated_at is not null and expires_at <= now() + interval '24 hours'
           from service_account_keys where key_id = (select key_id from k1)),
          'rotation supersedes the old key, which stays valid for a grace period only');
select is(app_private.verify_service_key((select key_id from k2), (select secret from k2)),
          'a0000000-0000-4000-8000-000000000002'::uuid, 'the new key verifies');
select ok(ops.revoke_service_key((select key_id from k2))
          and app_private.verify_service_key((select key_id from k2), (select secret from k2)) is null, 'a revoked key does not');
select is((ops.rehearse_key_rotation('n8n')).outcome, 'passed', 'the rotation rehearsal passes');
select is((select count(*)::int from key_rotation_rehearsals k join service_accounts s using (principal_id)
           where s.name = 'n8n' and k.outcome = 'passed'), 1, 'and is recorded');
create temp table k3 as select * from ops.issue_service_key('ci', 10);
select ok(exists (select 1 from ops.service_keys_due() where key_id = (select key_id from k3)), 'keys close to expiry are reported');
select ok(not has_column_privilege('authenticated', 'service_account_keys', 'key_hash', 'select'),
          'the API cannot read key hashes');
select ok((select after ? 'key_hash' from audit_log where action = 'service_account_keys.insert' order by chain_seq desc limit 1) = false,
          'key issuance is audited without the hash');

select * from finish();
rollback;
