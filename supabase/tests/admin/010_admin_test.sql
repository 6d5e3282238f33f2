-- The Admin portal's rules in Postgres (20261202150000_admin_portal.sql), from psql as JWT
-- principals of a tenant of this file's own: invites (single-use, expiring, hashed), no
-- escalation (global roles, own roles), the MFA policy (aal2 for role and flag changes,
-- STOP with aal1), deactivation from the next statement, SSO policy, branding, secrets.
begin;
select plan(42);

-- fixtures: tenant T with an admin, an ops manager and a second admin
insert into public.tenants (id, slug, name) values ('a2600000-0000-4000-8000-000000000001', 'admin-test-t', 'Admin Test T');
insert into public.principals (id, kind, name) values
  ('a2600000-0000-4000-8000-0000000000a1', 'human', 'ada@admin-test.test'),
  ('a2600000-0000-4000-8000-0000000000a2', 'human', 'ben@admin-test.test'),
  ('a2600000-0000-4000-8000-0000000000a3', 'human', 'otto@admin-test.test');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('a2600000-0000-4000-8000-0000000000a1', 'tenant_admin', 'a2600000-0000-4000-8000-000000000001'),
  ('a2600000-0000-4000-8000-0000000000a2', 'tenant_admin', 'a2600000-0000-4000-8000-000000000001'),
  ('a2600000-0000-4000-8000-0000000000a3', 'ops_manager', 'a2600000-0000-4000-8000-000000000001');

create temp table t_invite (token text, principal_id uuid);
grant all on t_invite to authenticated;

-------------------------------------------------------------------------------------------
-- no escalation (pgTAP: the database refuses, whatever the door)
-------------------------------------------------------------------------------------------
select tests.act_as('ada@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select throws_ok($$select * from app_private.admin_invite('a2600000-0000-4000-8000-000000000001', 'mallory@admin-test.test', '{super_admin}')$$,
  'SY261', null, 'a tenant_admin cannot invite a super_admin: role_escalation');
select throws_ok($$select * from app_private.admin_invite('a2600000-0000-4000-8000-000000000001', 'bot@admin-test.test', '{agents}')$$,
  'SY261', null, 'nor hand out a machine role');
select throws_ok($$select app_private.admin_set_roles('a2600000-0000-4000-8000-000000000001', 'a2600000-0000-4000-8000-0000000000a3', '{super_admin}')$$,
  'SY261', null, 'nor turn a member into a super_admin');
select throws_ok($$select app_private.admin_set_roles('a2600000-0000-4000-8000-000000000001', 'a2600000-0000-4000-8000-0000000000a1', '{tenant_admin,finance_manager}')$$,
  'SY262', null, 'a role change to oneself: role_self_change');
select throws_ok($$insert into public.role_assignments (principal_id, role, tenant_id)
                  values ('a2600000-0000-4000-8000-0000000000a1', 'finance_manager', 'a2600000-0000-4000-8000-000000000001')$$,
  'SY262', null, 'a direct insert of an own role (RLS allows members.manage) is refused by the trigger');
select throws_ok($$delete from public.role_assignments where principal_id = 'a2600000-0000-4000-8000-0000000000a1'$$,
  'SY262', null, 'removing one''s own roles too');
select throws_ok($$select app_private.admin_deactivate('a2600000-0000-4000-8000-000000000001', 'a2600000-0000-4000-8000-0000000000a1', 'leaving')$$,
  'SY262', null, 'deactivating oneself too');
-- the escalation guard runs inside definer functions as well: the platform's invite_member
select throws_ok($$select app_private.invite_member('a2600000-0000-4000-8000-000000000001', 'x@admin-test.test', 'super_admin')$$,
  'SY014', null, 'invite_member with a global role: bad_role_scope before any grant');

-------------------------------------------------------------------------------------------
-- MFA policy: aal1 may not change roles or flags, may STOP
-------------------------------------------------------------------------------------------
select tests.act_as('ada@admin-test.test', 'a2600000-0000-4000-8000-000000000001', '{"aal": "aal1"}');
select throws_ok($$select app_private.admin_set_roles('a2600000-0000-4000-8000-000000000001', 'a2600000-0000-4000-8000-0000000000a3', '{dispatcher}')$$,
  'SY260', null, 'a role change with an aal1 token: mfa_required');
select throws_ok($$select * from app_private.admin_invite('a2600000-0000-4000-8000-000000000001', 'new@admin-test.test', '{viewer}')$$,
  'SY260', null, 'an invite (it grants roles) with aal1: mfa_required');
select throws_ok($$insert into public.feature_flags_v2 (key, scope, value) values ('portal.enabled', 'tenant:a2600000-0000-4000-8000-000000000001:portal:broker', 'false')$$,
  'SY260', null, 'a portal flag change with aal1: mfa_required');
select tests.act_as('super@switchyard.test', null, '{"aal": "aal1"}');
select lives_ok($$update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global'$$,
  'STOP (the charter''s UPDATE) with an aal1 token: flags.emergency_stop.write is enough');
select throws_ok($$update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global'$$,
  'SY260', null, 'resume with aal1: mfa_required');
select throws_ok($$update feature_flags_v2 set value='DEGRADE' where key='autonomy.mode' and scope='global'$$,
  'SY260', null, 'a mode change with aal1: mfa_required');
select tests.act_as('super@switchyard.test', null, '{"aal": "aal2"}');
select lives_ok($$update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global'$$,
  'resume with aal2 works');
select is(public.flag_value('autonomy.emergencyStop'), 'false'::jsonb, 'the switch is off again');
select tests.act_as_owner();
select lives_ok($$update feature_flags_v2 set value=true where key='autonomy.emergencyStop' and scope='global'$$,
  'the owner over psql (the charter''s one-liners) is not asked for MFA');
update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';

-------------------------------------------------------------------------------------------
-- invites: single-use, expiring, stored hashed
-------------------------------------------------------------------------------------------
select tests.act_as('ada@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
insert into t_invite select token, principal_id from app_private.admin_invite('a2600000-0000-4000-8000-000000000001', 'Dana@Admin-Test.test', '{dispatcher,viewer}');
select tests.act_as_owner();
select is((select count(*)::int from public.admin_invites i, t_invite t where i.token_hash = extensions.digest(t.token, 'sha256')), 1,
  'the invite row holds the sha256 of the token');
select is((select count(*)::int from public.admin_invites i, t_invite t where position(convert_to(t.token, 'UTF8') in i.token_hash) > 0
           or i.roles::text like '%' || t.token || '%'), 0, 'and never the token itself');
select is((select count(*)::int from public.role_assignments ra, t_invite t where ra.principal_id = t.principal_id), 0,
  'no role before acceptance');
select tests.act_as('ben@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select throws_ok($$select * from public.admin_accept_invite((select token from t_invite))$$,
  'SY021', null, 'someone else cannot accept the invite');
select tests.act_as('dana@admin-test.test', 'a2600000-0000-4000-8000-000000000001', '{"aal": "aal1"}');
select results_eq($$select roles from public.admin_accept_invite((select token from t_invite))$$,
  $$values ('{dispatcher,viewer}'::text[])$$, 'the invitee accepts (aal1 suffices: the admin granted the roles) and gets exactly them');
select throws_ok($$select * from public.admin_accept_invite((select token from t_invite))$$,
  'SY263', null, 'the same invite reused: invite_used');
select throws_ok($$select * from public.admin_accept_invite(repeat('0', 64))$$, 'SY263', null, 'an unknown token: invite_used');
select tests.act_as_owner();
update public.admin_invites set accepted_at = null, created_at = now() - interval '4 days', expires_at = now() - interval '1 day'
where principal_id = (select principal_id from t_invite);
delete from public.role_assignments where principal_id = (select principal_id from t_invite);
select tests.act_as('dana@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select throws_ok($$select * from public.admin_accept_invite((select token from t_invite))$$,
  'SY264', null, 'an expired invite: invite_expired');
select tests.act_as_owner();
insert into public.role_assignments (principal_id, role, tenant_id)
select principal_id, 'dispatcher', 'a2600000-0000-4000-8000-000000000001' from t_invite;

-------------------------------------------------------------------------------------------
-- deactivate (refused from the next statement), reactivate
-------------------------------------------------------------------------------------------
select tests.act_as('ada@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select is(app_private.admin_deactivate('a2600000-0000-4000-8000-000000000001', (select principal_id from t_invite), 'left the company'),
  '{dispatcher}'::text[], 'deactivation takes the member''s roles away (and keeps them)');
select tests.act_as('dana@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select throws_ok($$select app_private.action_begin('domain.read', null, null, null, null, null, 'none')$$,
  'SY021', null, 'the deactivated member''s next request is refused');
select tests.act_as('ada@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select is(app_private.admin_reactivate('a2600000-0000-4000-8000-000000000001', (select principal_id from t_invite)),
  '{dispatcher}'::text[], 'reactivation restores the roles');
select tests.act_as('dana@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select lives_ok($$select app_private.action_begin('domain.read', null, null, null, null, null, 'none')$$, 'and the member works again');

-------------------------------------------------------------------------------------------
-- SSO policy, branding, secrets
-------------------------------------------------------------------------------------------
select tests.act_as('ada@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select throws_ok($$select app_private.admin_sso_set('a2600000-0000-4000-8000-000000000001', true,
                   '{"protocol": "saml", "entity_id": "urn:idp", "metadata_url": "http://idp.example.com/meta"}')$$,
  'SY017', null, 'provider metadata over http is refused');
select lives_ok($$select app_private.admin_sso_set('a2600000-0000-4000-8000-000000000001', true,
                   '{"protocol": "saml", "entity_id": "urn:idp", "metadata_url": "https://idp.example.com/meta", "domains": ["admin-test.test"]}')$$,
  'the tenant requires SSO');
select tests.act_as('otto@admin-test.test', 'a2600000-0000-4000-8000-000000000001', '{"amr": [{"method": "password", "timestamp": 1}]}');
select throws_ok($$select app_private.action_begin('domain.read', null, null, null, null, null, 'none')$$,
  'SY265', null, 'a password token in an SSO tenant: sso_required');
select tests.act_as('otto@admin-test.test', 'a2600000-0000-4000-8000-000000000001', '{"amr": [{"method": "sso/saml", "timestamp": 1}]}');
select lives_ok($$select app_private.action_begin('domain.read', null, null, null, null, null, 'none')$$, 'an SSO token passes');

select tests.act_as('ada@admin-test.test', 'a2600000-0000-4000-8000-000000000001');
select throws_ok($$select app_private.admin_branding_set('a2600000-0000-4000-8000-000000000001', 'T', 'javascript:alert(1)', '#112233', '#445566')$$,
  'SY266', null, 'a javascript: logo URL: bad_branding');
select throws_ok($$select app_private.admin_branding_set('a2600000-0000-4000-8000-000000000001', '<script>x</script>', null, '#112233', null)$$,
  'SY266', null, 'markup in the name: bad_branding');
select throws_ok($$select app_private.admin_branding_set('a2600000-0000-4000-8000-000000000001', 'T', null, 'red;background:url(x)', null)$$,
  'SY266', null, 'a colour that is not #rrggbb: bad_branding');
select lives_ok($$select app_private.admin_branding_set('a2600000-0000-4000-8000-000000000001', 'Admin Test', 'https://cdn.example.com/logo.svg', '#112233', '#445566')$$,
  'https logo and hex colours are kept');

select is(app_private.admin_secret_put('a2600000-0000-4000-8000-000000000001', 'stripe.key', 'sk_test_first_value'), 1, 'a secret goes into Vault as version 1');
select is(app_private.admin_secret_put('a2600000-0000-4000-8000-000000000001', 'stripe.key', 'sk_test_second_value', interval '1 hour'), 2, 'rotation writes version 2');
select throws_ok($$select * from vault.decrypted_secrets$$, '42501', null, 'no API role reads Vault');
select throws_ok($$select * from app_private.admin_secret_values('a2600000-0000-4000-8000-000000000001', 'stripe.key')$$,
  '42501', null, 'nor the values function (the edge''s own session only)');
select tests.act_as_owner();
select results_eq($$select version, secret from app_private.admin_secret_values('a2600000-0000-4000-8000-000000000001', 'stripe.key')$$,
  $$values (2, 'sk_test_second_value'), (1, 'sk_test_first_value')$$, 'during the overlap both versions are valid, newest first');

select * from finish();
rollback;
