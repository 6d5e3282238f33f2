-- Carrier portal SQL (supabase/migrations/*_carrier_portal.sql and the core edits it needed):
-- capacity by lane and day (own party only, no past days), insurance certificates that
-- reference the carrier's own uploaded document, the tender guard that refuses a blocked
-- carrier even to a raw INSERT, the gravest block named, and a counter of 0 cents refused.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
select plan(24);

create function pg_temp.id(p text) returns uuid language sql as $$
  select case p when 'tenant' then 'd0000000-0000-4000-8000-000000000001'
                when 'prairie' then 'c1000000-0000-4000-8000-000000000011'
                when 'eastline' then 'c1000000-0000-4000-8000-000000000012' end::uuid
$$;
grant execute on function pg_temp.id(text) to public;

-------------------------------------------------------------------------------------------
-- capacity
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "carrier"}');
select is((app_private.carrier_capacity_set(pg_temp.id('prairie'), 'IL', 'TX', 'van', current_date + 10, 4)) ->> 'trucks', '4',
  'a carrier user sets its trucks on a lane and day');
select is((app_private.carrier_capacity_set(pg_temp.id('prairie'), 'IL', 'TX', 'van', current_date + 10, 6)) ->> 'trucks', '6',
  'setting the same lane and day again replaces the figure');
select is((select trucks from public.carrier_capacity where carrier_party_id = pg_temp.id('prairie') and available_on = current_date + 10
             and origin_region = 'IL' and destination_region = 'TX' and equipment_type = 'van'), 6, 'one row per lane and day');
select tests.act_as_owner();
select results_eq($$select event_type, payload ->> 'source_portal', payload ->> 'trucks' from public.outbox_events
                    where aggregate_id = pg_temp.id('prairie')::text and event_type = 'carrier.capacity.updated' order by created_at, payload ->> 'trucks'$$,
  $$values ('carrier.capacity.updated', 'carrier', '4'), ('carrier.capacity.updated', 'carrier', '6')$$,
  'each change is evented carrier.capacity.updated, door carrier, no names');
select tests.act_as('dispatch@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "carrier"}');
select throws_ok($$select app_private.carrier_capacity_set(pg_temp.id('eastline'), 'GA', 'NJ', 'reefer', current_date + 1, 2)$$, 'SY021', null,
  'a carrier user cannot set another carrier''s capacity: forbidden');
select throws_ok($$select app_private.carrier_capacity_set(pg_temp.id('prairie'), 'IL', 'TX', 'van', current_date - 1, 2)$$, 'SY131', null,
  'a day in the past: capacity_date_past');
select throws_ok($$select app_private.carrier_capacity_set(pg_temp.id('prairie'), 'Illinois', 'TX', 'van', current_date + 1, 2)$$, '23514', null,
  'a region is a two-letter code (CHECK)');
select tests.act_as('dispatch@eastline-freight.test');
select is((select count(*)::int from public.carrier_capacity where carrier_party_id = pg_temp.id('prairie')), 0,
  'party RLS: another carrier reads none of it');
select tests.act_as('viewer@demo-freight.test');
select throws_ok($$select app_private.carrier_capacity_set(pg_temp.id('prairie'), 'IL', 'TX', 'van', current_date + 1, 2)$$, 'SY021', null,
  'without carrier.capacity.write: forbidden');
select tests.act_as('dispatch@prairie-haulers.test', pg_temp.id('tenant'), '{"portal": "carrier"}');
select lives_ok($$select app_private.carrier_capacity_set(pg_temp.id('prairie'), 'IL', 'TX', 'van', current_date + 10, 0)$$, '0 trucks removes it');
select is((select count(*)::int from public.carrier_capacity where carrier_party_id = pg_temp.id('prairie') and available_on = current_date + 10), 0,
  'and the row is gone');

-------------------------------------------------------------------------------------------
-- insurance certificates
-------------------------------------------------------------------------------------------
create temp table coi as select app_private.freight_document_record(jsonb_build_object(
  'party_id', pg_temp.id('prairie'), 'kind', 'insurance_certificate', 'file_name', 'coi.pdf', 'size_bytes', 2048,
  'sha256', repeat('ab', 32), 'storage_key', 'matrix/coi-' || gen_random_uuid() || '.pdf')) as id;
grant select on coi to public;
select isnt((select id from coi), null, 'a carrier user records its own insurance certificate document (the documents function''s call)');
select throws_ok($$select app_private.freight_document_record(jsonb_build_object(
  'party_id', pg_temp.id('eastline'), 'kind', 'insurance_certificate', 'file_name', 'coi.pdf', 'size_bytes', 2048,
  'sha256', repeat('cd', 32), 'storage_key', 'matrix/coi-x.pdf'))$$, 'SY021', null, 'but not another carrier''s');
select throws_ok($$select app_private.freight_document_record(jsonb_build_object(
  'party_id', pg_temp.id('prairie'), 'kind', 'invoice', 'file_name', 'inv.pdf', 'size_bytes', 2048,
  'sha256', repeat('cd', 32), 'storage_key', 'matrix/inv-x.pdf'))$$, 'SY021', null, 'nor another kind of party document');
create temp table ins as select app_private.carrier_insurance_submit(pg_temp.id('prairie'), jsonb_build_object(
  'kind', 'cargo', 'insurer', 'Demo Mutual', 'amount_cents', 25000000, 'effective_on', current_date, 'expires_on', current_date + 365,
  'document_id', (select id from coi))) as r;
grant select on ins to public;
select is((select (r ->> 'amount_cents')::bigint from ins), 25000000::bigint, 'the certificate is recorded with its amount in cents');
select tests.act_as_owner();
select results_eq($$select kind, amount_cents, document_id from public.carrier_insurance where id = (select (r ->> 'insurance_id')::uuid from ins)$$,
  $$select 'cargo'::text, 25000000::bigint, (select id from coi)$$, 'carrier_insurance references the document');
select results_eq($$select payload ->> 'carrier_party_id', payload ? 'insurer' from public.outbox_events
                    where event_type = 'freight.insurance.recorded' and aggregate_id = (select r ->> 'insurance_id' from ins)$$,
  $$values (pg_temp.id('prairie')::text, false)$$, 'event freight.insurance.recorded without the insurer');
select tests.act_as('dispatch@prairie-haulers.test');
select throws_ok($$select app_private.carrier_insurance_submit(pg_temp.id('prairie'), jsonb_build_object(
  'kind', 'cargo', 'amount_cents', 25000000, 'effective_on', current_date, 'expires_on', current_date + 365,
  'document_id', 'c9000000-0000-4000-8000-000000000003'))$$, 'SY130', null, 'a document id that is no certificate of the carrier: insurance_document_invalid');
select throws_ok($$select app_private.carrier_insurance_submit(pg_temp.id('prairie'), jsonb_build_object(
  'kind', 'cargo', 'amount_cents', 250.5, 'effective_on', current_date, 'expires_on', current_date + 365, 'document_id', (select id from coi)))$$,
  'SY114', null, 'a float amount: bad_amount');
select tests.act_as('dispatch@eastline-freight.test');
select throws_ok($$select app_private.carrier_insurance_submit(pg_temp.id('prairie'), jsonb_build_object(
  'kind', 'cargo', 'amount_cents', 25000000, 'effective_on', current_date, 'expires_on', current_date + 365, 'document_id', (select id from coi)))$$,
  'SY021', null, 'another carrier''s user cannot submit for it');

-------------------------------------------------------------------------------------------
-- tenders: a counter is positive; a blocked carrier is not tendered, from any door
-------------------------------------------------------------------------------------------
select tests.act_as('dispatch@prairie-haulers.test');
select throws_ok($$select app_private.freight_tender_counter('c9000000-0000-4000-8000-000000000003', 0)$$, 'SY114', null,
  'a counter of 0 cents: bad_amount');
select tests.act_as_owner();
insert into public.party_blocks (tenant_id, party_id, reason) values (pg_temp.id('tenant'), pg_temp.id('eastline'), 'manual');
insert into public.party_blocks (tenant_id, party_id, reason) values (pg_temp.id('tenant'), pg_temp.id('eastline'), 'sanctions');
select throws_ok($$insert into public.tenders (tenant_id, load_id, carrier_party_id, offered_rate_cents, sla_deadline)
                   values (pg_temp.id('tenant'), 'c7000000-0000-4000-8000-000000000002', pg_temp.id('eastline'), 150000, now() + interval '1 hour')$$,
  'SY105', format('party_blocked: party %s: sanctions', pg_temp.id('eastline')),
  'a raw INSERT of an offer to a blocked carrier (psql): party_blocked, naming the gravest block');
select lives_ok($$insert into public.tenders (tenant_id, load_id, carrier_party_id, offered_rate_cents, sla_deadline, status)
                  values (pg_temp.id('tenant'), 'c7000000-0000-4000-8000-000000000002', pg_temp.id('eastline'), 150000, now() - interval '9 days', 'declined')$$,
  'an imported past (declined) tender is history, not an offer');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_tender_offer('c7000000-0000-4000-8000-000000000002', pg_temp.id('eastline'), 150000)$$,
  'SY105', format('party_blocked: party %s: sanctions', pg_temp.id('eastline')), 'the tender function refuses it too');

select * from finish();
rollback;
