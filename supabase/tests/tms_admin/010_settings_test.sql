-- TMS Admin's rules in Postgres, from psql as the demo tenant's principals (every door
-- meets them: the portal's actions write these same rows under RLS):
--   the equipment catalogue decides which types lanes may name (SY150 / SY151);
--   EDI partners: an active shipper or carrier, an interchange id of their own, credentials
--   by Vault name only (SY152 / SY153 / SY154, the credential_ref CHECK);
--   the SLA policy flags: written by freight.settings.manage holders (tenant admin, ops
--   manager), within each flag's bounds (SY012), never by a dispatcher;
--   Rates' guards: a floor above its ceiling is refused by a CHECK;
--   writes by a dispatcher (no freight.settings.manage / tms_admin.manage) are refused by RLS.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
select plan(16);

select tests.act_as('ops@demo-freight.test');

-- equipment catalogue vs lanes
select lives_ok($$update public.tms_admin_equipment_types set active = false where code = 'step_deck'$$,
  'an ops manager retires an unused equipment type');
select throws_ok($$insert into public.lanes (tenant_id, name, origin_region, destination_region, equipment_type)
                  values ('d0000000-0000-4000-8000-000000000001', 'Step deck lane', 'IL', 'TX', 'step_deck')$$,
  'SY150', null, 'a lane naming a retired equipment type: equipment_type_inactive');
select throws_ok($$update public.tms_admin_equipment_types set active = false where code = 'van'$$,
  'SY151', null, 'van stays active while the Chicago - Dallas lane uses it: equipment_type_in_use');
select lives_ok($$insert into public.lanes (tenant_id, name, origin_region, destination_region, equipment_type, miles)
                  values ('d0000000-0000-4000-8000-000000000001', 'Denver - Dallas van', 'CO', 'TX', 'van', 790)$$,
  'a lane naming an active type');

-- EDI partners
select throws_ok($$insert into public.tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id)
                  values ('d0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000021', 'ZZ', 'CAPFACT', 'CAPFACT', 'ZZ', 'DEMOFREIGHT', 'DEMOFREIGHT')$$,
  'SY152', null, 'a factor is no EDI partner: edi_partner_not_eligible');
select throws_ok($$insert into public.tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id)
                  values ('d0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000011', 'ZZ', 'ACMEFOODS', 'PRHL', 'ZZ', 'DEMOFREIGHT', 'DEMOFREIGHT')$$,
  'SY153', null, 'Acme''s interchange id for Prairie Haulers: edi_interchange_taken');
select throws_ok($$insert into public.tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id, credential_ref)
                  values ('d0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000011', 'ZZ', 'PRHL', 'PRHL', 'ZZ', 'DEMOFREIGHT', 'DEMOFREIGHT',
                          'd0000000-0000-4000-8000-000000000001/no-such-secret')$$,
  'SY154', null, 'credential_ref naming no Vault secret: edi_credential_missing');
select throws_ok($$insert into public.tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id, credential_ref)
                  values ('d0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000011', 'ZZ', 'PRHL', 'PRHL', 'ZZ', 'DEMOFREIGHT', 'DEMOFREIGHT',
                          'password=correct-horse-battery-staple-and-more')$$,
  '23514', null, 'a secret in credential_ref (not a Vault name of the tenant) is refused by its CHECK');
select lives_ok($$insert into public.tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id, transaction_sets, usage)
                  values ('d0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000011', '02', 'PRHL', 'PRHL', 'ZZ', 'DEMOFREIGHT', 'DEMOFREIGHT', '{204,990}', 'production')$$,
  'a carrier partner in production');

-- Rates' guards
select throws_ok($$insert into public.rates_guards (tenant_id, label, floor_total, ceiling_total)
                  values ('d0000000-0000-4000-8000-000000000001', 'inverted', 2000, 1000)$$,
  '23514', null, 'a floor above its ceiling');

-- the SLA policy flags
select tests.act_as('admin@demo-freight.test');
select lives_ok($$insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
                  values ('freight.tenderSlaMinutes', 'tenant:d0000000-0000-4000-8000-000000000001', '45', 'pgTAP', 'tms_admin')$$,
  'a tenant admin sets the tender SLA for its tenant');
select is(public.flag_value('freight.tenderSlaMinutes', 'd0000000-0000-4000-8000-000000000001'), '45'::jsonb, 'and it is in effect');
select throws_ok($$insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
                  values ('broker.appointmentRiskMinutes', 'tenant:d0000000-0000-4000-8000-000000000001', '2881', 'pgTAP', 'tms_admin')$$,
  'SY012', null, 'above the flag''s bound (2880): bad_flag_value');
select throws_ok($$insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
                  values ('broker.appointmentRiskMinutes', 'global', '60', 'pgTAP', 'tms_admin')$$,
  '42501', null, 'the global default is not a tenant admin''s');

select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
                  values ('broker.checkCallMinutes', 'tenant:d0000000-0000-4000-8000-000000000001', '60', 'pgTAP', 'dispatcher')$$,
  '42501', null, 'a dispatcher cannot set the SLA policy');
select throws_ok($$insert into public.accessorials (tenant_id, code, name, default_rate_cents)
                  values ('d0000000-0000-4000-8000-000000000001', 'NOPE', 'Nope', 100)$$,
  '42501', null, 'nor edit the accessorial catalogue');

select tests.act_as_owner();
select * from finish();
rollback;
