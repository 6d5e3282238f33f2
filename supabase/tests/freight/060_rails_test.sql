-- The rails hold inside the freight functions: they write tables under the rails guard with
-- the caller's claims, so the kill switch stops the agents' re-tendering while humans still
-- tender, STEP-DOWN makes machines read-only, and a disabled portal refuses its door.
begin;
alter default privileges grant execute on functions to public;
select plan(7);

-- the seeded open load DEMO-1002, Prairie Haulers eligible; the seeded tender of DEMO-1003 past its deadline
update public.tenders set sla_deadline = now() - interval '1 minute' where id = 'c9000000-0000-4000-8000-000000000003';
update feature_flags_v2 set value = true where key = 'autonomy.emergencyStop' and scope = 'global';
select tests.act_as('agents');
select throws_ok($$select app_private.freight_tender_offer('c7000000-0000-4000-8000-000000000002', 'c1000000-0000-4000-8000-000000000011', 190000)$$,
  'SY001', null, 'kill switch on: the agents'' tender is refused (autonomy_halted)');
select throws_ok($$select app_private.freight_tender_expire('c9000000-0000-4000-8000-000000000003')$$, 'SY001', null,
  'and so is their SLA sweep');
select tests.act_as('dispatch@demo-freight.test');
select lives_ok($$select app_private.freight_tender_offer('c7000000-0000-4000-8000-000000000002', 'c1000000-0000-4000-8000-000000000011', 190000)$$,
  'a human still tenders');
select tests.act_as_owner();
update feature_flags_v2 set value = false where key = 'autonomy.emergencyStop' and scope = 'global';

insert into feature_flags_v2 (key, scope, value, reason, owner_name) values ('autonomy.mode', 'global', 'STEP-DOWN', 'test', 'test')
on conflict (key, scope) do update set value = excluded.value;
select tests.act_as('n8n');
select throws_ok($$select app_private.freight_load_event_record('c7000000-0000-4000-8000-000000000005',
                     '{"source_event_id": "edi-214-1", "status_code": "X3", "stop_sequence": 1}')$$,
  'SY002', null, 'STEP-DOWN: an EDI 214 from n8n@ is refused (machines read-only)');
select tests.act_as_owner();
update feature_flags_v2 set value = 'FULL' where key = 'autonomy.mode' and scope = 'global';
select tests.act_as('n8n');
select lives_ok($$select app_private.freight_load_event_record('c7000000-0000-4000-8000-000000000005',
                     '{"source_event_id": "edi-214-1", "status_code": "X3", "stop_sequence": 1, "source": "edi_214"}')$$,
  'FULL: the same 214 is recorded');

select tests.act_as_owner();
update public.tenders set sla_deadline = now() + interval '1 hour' where id = 'c9000000-0000-4000-8000-000000000003';
insert into feature_flags_v2 (key, scope, value, reason, owner_name)
values ('portal.enabled', 'tenant:d0000000-0000-4000-8000-000000000001:portal:carrier', 'false', 'test', 'test');
select tests.act_as('dispatch@prairie-haulers.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "carrier"}');
select throws_ok($$select app_private.freight_tender_accept('c9000000-0000-4000-8000-000000000003')$$, 'SY004', null,
  'the carrier portal disabled: its door refuses the accept (portal_disabled)');
select tests.act_as('dispatch@prairie-haulers.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
select is(app_private.freight_tender_accept('c9000000-0000-4000-8000-000000000003') ->> 'load_status', 'covered',
  'through another door the same user accepts');
select tests.act_as_owner();

select * from finish();
rollback;
