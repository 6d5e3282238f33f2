-- The ledger: an entry balances at COMMIT (the deferred constraint trigger, forced here with
-- SET CONSTRAINTS ... IMMEDIATE as COMMIT would), posted rows never change (the owner
-- included), corrections are reversing entries, currencies match, a post is idempotent by
-- external_key, and only finance.write posts.
begin;
alter default privileges grant execute on functions to public;
select plan(17);

insert into public.ledger_accounts (tenant_id, code, name, kind, currency) values
  ('d0000000-0000-4000-8000-000000000001', 'EUR-CASH', 'Cash (EUR)', 'asset', 'EUR');

select throws_ok($$truncate public.journal_lines$$, 'SY117', null, 'the ledger is never truncated (the owner neither)');

select tests.act_as('finance@demo-freight.test');
create temp table e1 as select app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
  '[{"account": "1200:ACME", "amount_cents": 265000}, {"account": "4000", "amount_cents": -265000}]',
  'invoice DEMO', 'invoice', null, 'inv-demo-1') as id;
grant select on e1 to public;
select ok((select id from e1) is not null, 'a balanced entry posts');
select is(app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
  '[{"account": "1200:ACME", "amount_cents": 265000}, {"account": "4000", "amount_cents": -265000}]', null, null, null, 'inv-demo-1'),
  (select id from e1), 'the same external_key answers the same entry (idempotent)');
select throws_ok($$select app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
  '[{"account": "1000", "amount_cents": 100}, {"account": "4000", "amount_cents": -99}]')$$, 'SY116', null,
  'lines summing to 1 cent: ledger_unbalanced');
select throws_ok($$select app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
  '[{"account": "1000", "amount_cents": 100}]')$$, 'SY116', null, 'a single line: ledger_unbalanced');
select throws_ok($$select app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
  '[{"account": "1000", "amount_cents": 10.5}, {"account": "4000", "amount_cents": -10.5}]')$$, 'SY114', null,
  'fractional cents: bad_amount');
select throws_ok($$select app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
  '[{"account": "EUR-CASH", "amount_cents": 100}, {"account": "4000", "amount_cents": -100}]')$$, 'SY118', null,
  'a EUR account in a USD entry: currency_mismatch');
select tests.act_as('dispatch@demo-freight.test');
select throws_ok($$select app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
  '[{"account": "1000", "amount_cents": 100}, {"account": "4000", "amount_cents": -100}]')$$, 'SY021', null,
  'a dispatcher may not post (finance.write)');
select is((select count(*)::int from public.journal_lines), 0, 'and reads no line (finance.read)');
select tests.act_as_owner();
select results_eq($$select (app_private.freight_credit_exposure('c1000000-0000-4000-8000-000000000002') -
                           (select coalesce(sum(c.amount_cents), 0) from public.charge_lines c join public.loads l on l.id = c.load_id
                            where c.party_id = 'c1000000-0000-4000-8000-000000000002' and c.side = 'sell'
                              and l.status not in ('completed', 'cancelled', 'tonu')))::bigint$$,
  $$values (265000::bigint)$$, 'Acme''s receivable counts toward its credit exposure');

-- immutability, for everyone (the owner too)
select throws_ok($$update public.journal_lines set amount_cents = 1 where entry_id = (select id from e1)$$, 'SY117', null,
  'posted lines never change');
select throws_ok($$delete from public.journal_entries where id = (select id from e1)$$, 'SY117', null, 'nor are entries deleted');
-- the deferred check: an entry written by hand, line by line, unbalanced, fails at COMMIT
select lives_ok($$with e as (insert into public.journal_entries (tenant_id, currency) values ('d0000000-0000-4000-8000-000000000001', 'USD') returning id)
                 insert into public.journal_lines (tenant_id, entry_id, account_id, amount_cents)
                 select 'd0000000-0000-4000-8000-000000000001', e.id, a.id, 500 from e, public.ledger_accounts a
                 where a.code = '1000' and a.tenant_id = 'd0000000-0000-4000-8000-000000000001'$$,
  'an unbalanced entry can be written inside its transaction');
select throws_ok($$set constraints all immediate$$, 'SY116', null, 'but never commits: ledger_unbalanced at COMMIT');

-- the correction
select tests.act_as('finance@demo-freight.test');
create temp table r1 as select app_private.freight_ledger_reverse((select id from e1), 'invoice voided') as id;
grant select on r1 to public;
select results_eq($$select a.code, l.amount_cents from public.journal_lines l join public.ledger_accounts a on a.id = l.account_id
                    where l.entry_id = (select id from r1) order by a.code$$,
  $$values ('1200:ACME', -265000::bigint), ('4000', 265000::bigint)$$, 'a reversal negates every line in a new entry');
select throws_ok($$select app_private.freight_ledger_reverse((select id from e1))$$, 'SY117', null, 'an entry is reversed once');
select tests.act_as_owner();
select results_eq($$select o.event_type from public.outbox_events o where o.aggregate_type = 'journal_entry' order by o.seq$$,
  $$values ('freight.journal_entry.posted'), ('freight.journal_entry.reversed')$$, 'each post is an event');

select * from finish();
rollback;
