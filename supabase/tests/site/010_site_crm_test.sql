-- The website's page versions and the CRM's rules in Postgres (issue 18), as the demo
-- tenant's principals (tests.act_as: supabase/tests/_helpers.sql):
--   publish makes a new version live and rollback an earlier one; both are audited
--   (site.publish / site.rollback with from/to versions) and published to the outbox;
--   a rollback to a version that does not exist is site_version_not_found (SY280), to a page
--   that does not exist site_page_not_found (SY281); a viewer cannot publish (forbidden);
--   a lead converts (an ops manager: domain.write) into account + contact + opportunity once (again: the same three);
--   stages move forward, won makes the account a customer and emits crm.account.won, and
--   won is final (SY282); an unknown lead is crm_lead_not_found (SY283);
--   a lead untouched for 24 h gets one follow-up task on the sales queue (crm.task.created).
begin;
select plan(23);

select tests.act_as('admin@demo-freight.test');
select is((public.site_publish('/changelog', 'Changelog — what is new in Switchyard (v2)', 'The changelog, second version: what we shipped to every tenant this month, with dates.',
            '{"h1": "What we shipped", "lead": "Second version.", "sections": []}', 'pgTAP publish') ->> 'to_version')::int,
          2, 'publish: the page''s version 2 is live');
select is((select published_version from public.site_pages where path = '/changelog'), 2, 'site_pages points at version 2');
select is((select (before ->> 'version') || '->' || (after ->> 'version') from public.audit_log
           where action = 'site.publish' and target_id = '/changelog' order by id desc limit 1), '1->2', 'the publish is audited with from/to versions');
select is((public.site_rollback('/changelog', 1, 'pgTAP rollback') ->> 'to_version')::int, 1, 'rollback to version 1');
select is((select published_version from public.site_pages where path = '/changelog'), 1, 'version 1 is live again');
select is((select reason from public.audit_log where action = 'site.rollback' and target_id = '/changelog' order by id desc limit 1),
          'pgTAP rollback', 'the rollback is audited with its reason');
select is((public.site_rollback('/changelog', 2, 'undo the rollback') ->> 'to_version')::int, 2, 'a rollback is itself reversible (forward to 2)');
select throws_ok($$select public.site_rollback('/changelog', 99, 'no such version')$$, 'SY280', null,
  'rollback to a version that does not exist: site_version_not_found');
select throws_ok($$select public.site_rollback('/no-such-page', 1, 'no such page')$$, 'SY281', null,
  'rollback of a page that does not exist: site_page_not_found');
select tests.act_as('viewer@demo-freight.test');
select throws_ok($$select public.site_rollback('/changelog', 1, 'viewer')$$, 'SY021', null, 'a viewer cannot roll back (forbidden)');

-- CRM
select tests.act_as_owner();
select ok(exists (select 1 from public.outbox_events where event_type = 'site.rollback' and aggregate_id = '/changelog'), 'site.rollback reaches the outbox');
insert into public.crm_leads (id, tenant_id, email, email_sha256, name, company, stage, updated_at)
values ('f1800000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'pat@reefer.example', 'sha-pgtap-1', 'Pat', 'Reefer Co', 'demo_requested', now() - interval '25 hours'),
       ('f1800000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000001', 'sam@fresh.example', 'sha-pgtap-2', 'Sam', null, 'new', now() - interval '1 hour');
select ok(exists (select 1 from public.outbox_events where event_type = 'crm.lead.created' and aggregate_id = 'f1800000-0000-4000-8000-000000000001'),
          'a new lead publishes crm.lead.created');
select ok((select payload::text from public.outbox_events where event_type = 'crm.lead.created' and aggregate_id = 'f1800000-0000-4000-8000-000000000001') !~ 'pat@',
          'crm.lead.created carries no email');

select tests.act_as('agents');
select is(app_private.crm_stale_lead_tasks(), 1, 'the agent: the lead untouched for 25 h gets a follow-up task, the 1 h old one none');
select is(app_private.crm_stale_lead_tasks(), 0, 'running it again creates none');
select tests.act_as_owner();
select is(ops.crm_follow_up_stale_leads(), 0, 'the hourly run (every tenant, as agents@) finds nothing more to do');
select tests.act_as('agents');
select is((select queue || '/' || kind from public.crm_tasks where lead_id = 'f1800000-0000-4000-8000-000000000001'), 'sales/follow_up_lead', 'on the sales queue');

select tests.act_as('ops@demo-freight.test');
create temp table conv on commit drop as select public.crm_convert_lead('f1800000-0000-4000-8000-000000000001', 480000) as r;
select is((select r ->> 'converted' from conv), 'true', 'the lead converts');
select is((select (a.name, c.email, o.stage, o.amount_cents)::text from conv
           join public.crm_accounts a on a.id = (r ->> 'account_id')::uuid
           join public.crm_contacts c on c.id = (r ->> 'contact_id')::uuid
           join public.crm_opportunities o on o.id = (r ->> 'opportunity_id')::uuid),
          '("Reefer Co",pat@reefer.example,demo,480000)', 'into account (its company), contact (its email) and opportunity (demo stage: it asked for one)');
select is((select public.crm_convert_lead('f1800000-0000-4000-8000-000000000001') ->> 'opportunity_id' from conv), (select r ->> 'opportunity_id' from conv),
          'converting again returns the same opportunity');
select lives_ok($$select public.crm_opportunity_set_stage((select (r ->> 'opportunity_id')::uuid from conv), 'won')$$, 'demo -> won');
select is((select status from public.crm_accounts where id = (select (r ->> 'account_id')::uuid from conv)), 'customer', 'won: the account is a customer, crm.account.won published')
  where exists (select 1 from public.outbox_events where event_type = 'crm.account.won');
select throws_ok($$select public.crm_opportunity_set_stage((select (r ->> 'opportunity_id')::uuid from conv), 'proposal')$$, 'SY282', null,
  'won is final: crm_stage_invalid');

select * from finish();
rollback;
