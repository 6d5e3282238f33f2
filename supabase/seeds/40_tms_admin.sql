-- TMS Admin demo settings for the demo tenant (local and test stacks; insert-if-missing):
-- the equipment catalogue (every code the demo lanes and loads use) and one EDI partner in test (Acme Foods sends 204s and receives 990 / 214 / 210).
insert into public.tms_admin_equipment_types (tenant_id, code, name, length_ft, max_weight_lbs, temperature_controlled) values
  ('d0000000-0000-4000-8000-000000000001', 'van',        '53 ft dry van',      53, 45000, false),
  ('d0000000-0000-4000-8000-000000000001', 'reefer',     '53 ft reefer',       53, 43000, true),
  ('d0000000-0000-4000-8000-000000000001', 'flatbed',    '48 ft flatbed',      48, 48000, false),
  ('d0000000-0000-4000-8000-000000000001', 'step_deck',  '48 ft step deck',    48, 46000, false),
  ('d0000000-0000-4000-8000-000000000001', 'tanker',     'Liquid tanker',      42, 45000, false),
  ('d0000000-0000-4000-8000-000000000001', 'power_only', 'Power only',         null, null, false)
on conflict on constraint tms_admin_equipment_types_code_unique do nothing;

insert into public.tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id,
                                           transaction_sets, usage, transport)
values ('d0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000002', 'ZZ', 'ACMEFOODS', 'ACMEFOODS',
        'ZZ', 'DEMOFREIGHT', 'DEMOFREIGHT', '{204,990,214,210,997}', 'test', 'as2')
on conflict on constraint tms_admin_edi_partners_party_unique do nothing;
