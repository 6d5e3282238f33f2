-- Documents: who may record one, and who may read it (its kind decides: a rate
-- confirmation is the carrier's, an invoice the shipper's, BOL and POD both sides' and the
-- driver's). The bytes and their hash check live in packages/shared/storage (unit tests).
begin;
alter default privileges grant execute on functions to public;
select plan(11);

create function pg_temp.doc(p_kind text, p_load text default 'c7000000-0000-4000-8000-000000000005') returns jsonb language sql as $$
  select jsonb_build_object('load_id', p_load, 'kind', p_kind, 'file_name', p_kind || '.pdf', 'size_bytes', 2048,
                            'sha256', repeat('ab', 32), 'storage_key', 'd0000000-0000-4000-8000-000000000001/' || gen_random_uuid() || '/' || p_kind || '.pdf')
$$;

select tests.act_as('driver@prairie-haulers.test');
select lives_ok($$select app_private.freight_document_record(pg_temp.doc('pod'))$$, 'the driver records the POD of its load');
select throws_ok($$select app_private.freight_document_record(pg_temp.doc('rate_confirmation'))$$, 'SY021', null,
  'but not a rate confirmation');
select throws_ok($$select app_private.freight_document_record(pg_temp.doc('pod', 'c7000000-0000-4000-8000-000000000004'))$$, 'SY021', null,
  'nor a POD of another carrier''s load');
select tests.act_as('shipper@acme-foods.test');
select throws_ok($$select app_private.freight_document_record(pg_temp.doc('pod'))$$, 'SY021', null, 'a shipper records no POD');
select tests.act_as('dispatch@demo-freight.test');
select lives_ok($$select app_private.freight_document_record(pg_temp.doc('rate_confirmation'))$$, 'the broker records the rate confirmation');
select lives_ok($$select app_private.freight_document_record(pg_temp.doc('invoice'))$$, 'and the invoice');
select throws_ok($$select app_private.freight_document_record(pg_temp.doc('pod') || '{"sha256": "not-a-hash"}')$$, '23514', null,
  'a malformed sha256 is refused by the table');

select tests.act_as('shipper@acme-foods.test');
select set_eq($$select kind from public.documents where load_id = 'c7000000-0000-4000-8000-000000000005'$$,
  array['pod', 'invoice'], 'the shipper reads the POD and its invoice, not the rate confirmation');
select tests.act_as('dispatch@prairie-haulers.test');
select set_eq($$select kind from public.documents where load_id = 'c7000000-0000-4000-8000-000000000005'$$,
  array['pod', 'rate_confirmation'], 'the carrier reads the POD and its rate confirmation, not the invoice');
select tests.act_as('dispatch@eastline-freight.test');
select is((select count(*)::int from public.documents where load_id = 'c7000000-0000-4000-8000-000000000005'), 0,
  'another carrier reads none');
select tests.act_as_owner();
select results_eq($$select count(*)::int from public.outbox_events where event_type = 'freight.document.recorded'$$,
  $$values (3)$$, 'each recording is an event');

select * from finish();
rollback;
