-- Financials + factoring in Postgres: the money path delivered -> invoiced -> paid -> carrier
-- bill matched -> approved -> paid (and factored: paid to the factor) with the trial balance
-- zero per currency after every step; the three-way match holds a bill beyond tolerance and a
-- duplicate; an approval reverts with a reversing entry; a payout to a carrier with an active
-- NOA is refused (trigger, every door) and allowed after the Letter of Release; payout runs
-- are idempotent; bad input refused with its code. Demo tenant, seed load 07 (delivered,
-- Eastline, sell 255000, buy 209000), rolled back.
begin;
alter default privileges grant execute on functions to public;
select plan(37);

-- the load's documents (POD and rate confirmation) and a factor party
insert into public.documents (tenant_id, load_id, kind, file_name, size_bytes, sha256, storage_key) values
  ('d0000000-0000-4000-8000-000000000001', 'c7000000-0000-4000-8000-000000000007', 'pod', 'pod.pdf', 10, repeat('a', 64), 'fin-test/pod.pdf'),
  ('d0000000-0000-4000-8000-000000000001', 'c7000000-0000-4000-8000-000000000007', 'rate_confirmation', 'rc.pdf', 10, repeat('b', 64), 'fin-test/rc.pdf');
insert into public.parties (id, tenant_id, kind, name) values
  ('c1000000-0000-4000-8000-0000000000f1', 'd0000000-0000-4000-8000-000000000001', 'factor', 'Fin Test Factor');
create temp view tb as select coalesce(bool_and(balance_cents = 0), true) as zero from public.financials_trial_balance;
grant select on tb to public;

select tests.act_as('finance@demo-freight.test');
select ok((select zero from tb), 'trial balance zero per currency before');

-- bad input on release
select throws_ok($$select app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000004')$$, 'SY200', null,
  'a load not delivered: invoice_not_ready');
select throws_ok($$select app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000007', '[{"kind": "linehaul", "amount_cents": 1000.5}]')$$,
  'SY114', null, 'a float amount: bad_amount');
select throws_ok($$select app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000007', '[{"kind": "linehaul", "amount_cents": "1000"}]')$$,
  'SY114', null, 'a string amount: bad_amount');
select throws_ok($$select app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000007', '[{"kind": "lumper", "amount_cents": -500}]')$$,
  'SY201', null, 'a negative line other than a credit: invoice_line_invalid');
select throws_ok($$select app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000007', '[{"kind": "credit", "amount_cents": 500}]')$$,
  'SY201', null, 'a positive credit line: invoice_line_invalid');

-- released: linehaul + fuel + detention after free time (300 min, 120 free, 6000/h = 18000) + lumper - credit
create temp table inv as select app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000007',
  '[{"kind": "linehaul", "amount_cents": 255000}, {"kind": "fuel", "amount_cents": 30000},
    {"kind": "detention", "minutes": 300, "rate_cents_per_hour": 6000}, {"kind": "detention", "minutes": 90, "rate_cents_per_hour": 6000},
    {"kind": "lumper", "amount_cents": 7500}, {"kind": "credit", "amount_cents": -500, "description": "goodwill"}]') as r;
grant select on inv to public;
select is((select (r ->> 'total_cents')::bigint from inv), 310000::bigint, 'invoice total: detention billed only after free time');
select is((select count(*)::int from public.financials_invoice_lines where invoice_id = (select (r ->> 'invoice_id')::uuid from inv)), 5,
  'detention inside free time bills no line');
select ok((select zero from tb), 'trial balance zero after invoicing');
select is((app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000007') ->> 'invoice_id'), (select r ->> 'invoice_id' from inv),
  'a second release answers the same invoice');

-- credit memo, short-pay, overpayment as explicit credit, dedup
select throws_ok($$select app_private.financials_credit_memo((select (r ->> 'invoice_id')::uuid from inv), '999999', 'too much')$$, 'SY202', null,
  'a credit above the open balance: invoice_state');
select is(app_private.financials_credit_memo((select (r ->> 'invoice_id')::uuid from inv), '10000', 'late delivery') ->> 'open_cents', '300000',
  'a credit memo lowers the open balance');
select is(app_private.financials_payment_apply((select (r ->> 'invoice_id')::uuid from inv), '250000', 'manual', 'chk-1') ->> 'invoice_status', 'short_paid',
  'a payment short of the open balance: short_paid');
select is(app_private.financials_payment_apply((select (r ->> 'invoice_id')::uuid from inv), '250000', 'manual', 'chk-1') ->> 'duplicate', 'true',
  'the same payment reference twice: deduplicated');
select results_eq($$select p ->> 'invoice_status', (p ->> 'applied_cents')::bigint, (p ->> 'credit_cents')::bigint
                    from (select app_private.financials_payment_apply((select (r ->> 'invoice_id')::uuid from inv), '60000', 'stripe', 'evt_test_1') p) x$$,
  $$values ('paid', 50000::bigint, 10000::bigint)$$, 'an overpayment pays the invoice and books the excess as a customer credit');
select is((select sum(l.amount_cents)::bigint from public.journal_lines l join public.ledger_accounts a on a.id = l.account_id
           where a.code = '2100' and a.tenant_id = 'd0000000-0000-4000-8000-000000000001'), -10000::bigint, 'the credit is on 2100');
select ok((select zero from tb), 'trial balance zero after payments');

-- AP: tolerance 2500 (default); the rate confirmation is 209000
select is((app_private.financials_bill_receive('c7000000-0000-4000-8000-000000000007', 'EL-900', '220000') ->> 'status'), 'held',
  'a bill 11000 over the rate confirmation is held');
select matches((select hold_reason from public.financials_bills where invoice_number = 'EL-900'), '^variance: billed 220000 vs rate confirmation 209000',
  'with the reason');
create temp table bill as select app_private.financials_bill_receive('c7000000-0000-4000-8000-000000000007', 'EL-901', '210000') as r;
grant select on bill to public;
select is((select r ->> 'status' from bill), 'matched', 'within tolerance (1000 over): matched');
select matches((app_private.financials_bill_receive('c7000000-0000-4000-8000-000000000007', 'EL-902', '210000') ->> 'hold_reason'), '^duplicate of bill',
  'the same carrier, load and amount under another number: held as a duplicate');
select throws_ok($$select app_private.financials_bill_approve((select id from public.financials_bills where invoice_number = 'EL-900'))$$, 'SY203', null,
  'a held bill is not approved without a human''s note');

-- approve, revert (reversing entry), approve again
select is(app_private.financials_bill_approve((select (r ->> 'bill_id')::uuid from bill)) ->> 'status', 'approved', 'the agent approves a matched bill');
select is(app_private.financials_bill_unapprove((select (r ->> 'bill_id')::uuid from bill)) ->> 'status', 'matched', 'revert: back to matched');
select is((select count(*)::int from public.journal_entries e where e.source_id = (select (r ->> 'bill_id')::uuid from bill)), 2,
  'the accrual and its reversing entry');
select ok((select zero from tb), 'trial balance zero after approve and revert');
select lives_ok($$select app_private.financials_bill_approve((select (r ->> 'bill_id')::uuid from bill))$$, 'approved again');

-- NOA: the payout to the carrier is refused, to the factor allowed; after release, the carrier
create temp table noa as select app_private.factoring_noa_record('c1000000-0000-4000-8000-000000000012', 'c1000000-0000-4000-8000-0000000000f1') as r;
grant select on noa to public;
select throws_ok($$select app_private.financials_pay_bill((select (r ->> 'bill_id')::uuid from bill), 'c1000000-0000-4000-8000-000000000012')$$,
  'SY204', null, 'paying the carrier directly while its NOA is active: noa_active');
select tests.act_as_owner();
select throws_ok($$insert into public.financials_payouts (tenant_id, bill_id, payee_party_id, amount_cents, currency, entry_id)
                   select tenant_id, id, carrier_party_id, amount_cents, currency, approval_entry_id from public.financials_bills
                   where invoice_number = 'EL-901'$$, 'SY204', null, 'even a raw insert by the owner');
select tests.act_as('finance@demo-freight.test');
-- factored: the held bill approved by a human with a note, paid by a run while the NOA is active
select is(app_private.financials_bill_approve((select id from public.financials_bills where invoice_number = 'EL-900'),
  'detention agreed by phone') ->> 'status', 'approved', 'a human approves the held bill with a note');
select is(app_private.financials_payout_run('d0000000-0000-4000-8000-000000000001', 'run-0',
  array[(select id from public.financials_bills where invoice_number = 'EL-900')]) ->> 'paid', '1', 'a run pays it');
select is((select payee_party_id from public.financials_payouts p join public.financials_bills b on b.id = p.bill_id where b.invoice_number = 'EL-900'),
  'c1000000-0000-4000-8000-0000000000f1'::uuid, 'to the factor of the active NOA');
select lives_ok($$select app_private.factoring_noa_release((select (r ->> 'noa_id')::uuid from noa), 'factoring agreement ended')$$,
  'the Letter of Release');
select is(app_private.financials_payout_run('d0000000-0000-4000-8000-000000000001', 'run-1') ->> 'paid', '1', 'the payout run pays the bill');
select is((select payee_party_id from public.financials_payouts where bill_id = (select (r ->> 'bill_id')::uuid from bill)),
  'c1000000-0000-4000-8000-000000000012'::uuid, 'to the carrier, after the release');
select is(app_private.financials_payout_run('d0000000-0000-4000-8000-000000000001', 'run-1') ->> 'replayed', 'true',
  'the same run again pays nothing twice');
select ok((select zero from tb), 'trial balance zero after the payout');

select * from finish();
rollback;
