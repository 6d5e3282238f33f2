-- Generated: 1,000 random money operations (balanced posts in USD and EUR, reversals,
-- payments with short-pays and overpayments, credit memos, and refused bad input: floats,
-- unbalanced entries, negative amounts) leave every account's balance equal to the sum the
-- test's own model expects, and the trial balance zero per currency. Seeded (setseed):
-- the same sequence every run. Rolled back.
begin;
alter default privileges grant execute on functions to public;
select plan(5);
select setseed(0.15);

insert into public.documents (tenant_id, load_id, kind, file_name, size_bytes, sha256, storage_key) values
  ('d0000000-0000-4000-8000-000000000001', 'c7000000-0000-4000-8000-000000000007', 'pod', 'pod.pdf', 10, repeat('c', 64), 'fin-gen/pod.pdf');
insert into public.ledger_accounts (tenant_id, code, name, kind, currency) values
  ('d0000000-0000-4000-8000-000000000001', 'GEN-EUR-A', 'Gen EUR A', 'asset', 'EUR'),
  ('d0000000-0000-4000-8000-000000000001', 'GEN-EUR-B', 'Gen EUR B', 'revenue', 'EUR');
-- the model: what each account should hold after the run, and the refusals seen
create temp table model (code text primary key, cents bigint not null default 0);
create temp table refusals (sqlstate text);
create temp table posted (id uuid primary key, reversible boolean not null default true);
grant all on model, refusals, posted to public;
-- baseline: whatever the seed already holds
insert into model select a.code, coalesce(sum(l.amount_cents), 0) from public.ledger_accounts a
  left join public.journal_lines l on l.account_id = a.id where a.tenant_id = 'd0000000-0000-4000-8000-000000000001' group by a.code;

select tests.act_as('finance@demo-freight.test');
create temp table inv as select (app_private.financials_invoice_release('c7000000-0000-4000-8000-000000000007') ->> 'invoice_id')::uuid as id;
grant select on inv to public;
update model set cents = cents + 255000 where code = '1200';
update model set cents = cents - 255000 where code = '4000';

do $$
declare
  v_op int; v_amt bigint; v_id uuid; v_r jsonb; v_usd text[] := array['1000', '1200', '2000', '4000', '5000'];
  v_a text; v_b text; v_cur text; l record;
begin
  for i in 1..1000 loop
    v_op := floor(random() * 7)::int;
    v_amt := 1 + floor(random() * 500000)::bigint;
    begin
      if v_op <= 1 then   -- a balanced two-line post, USD or EUR
        if v_op = 0 then v_cur := 'USD'; v_a := v_usd[1 + floor(random() * 5)::int]; v_b := v_usd[1 + floor(random() * 5)::int];
        else v_cur := 'EUR'; v_a := 'GEN-EUR-A'; v_b := 'GEN-EUR-B'; end if;
        v_id := app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', v_cur,
          jsonb_build_array(jsonb_build_object('account', v_a, 'amount_cents', v_amt), jsonb_build_object('account', v_b, 'amount_cents', -v_amt)));
        insert into posted values (v_id);
        update model set cents = cents + v_amt where code = v_a;
        update model set cents = cents - v_amt where code = v_b;
      elsif v_op = 2 then   -- reverse a random entry of this run
        select id into v_id from posted where reversible order by random() limit 1;
        continue when v_id is null;
        for l in select a.code, jl.amount_cents from public.journal_lines jl join public.ledger_accounts a on a.id = jl.account_id where jl.entry_id = v_id loop
          update model set cents = cents - l.amount_cents where code = l.code;
        end loop;
        perform app_private.freight_ledger_reverse(v_id);
        update posted set reversible = false where id = v_id;
      elsif v_op = 3 then   -- a payment on the invoice: short, exact or over (the excess to 2100)
        v_r := app_private.financials_payment_apply((select id from inv), to_jsonb(v_amt / 10), 'manual', 'gen-' || i);
        update model set cents = cents + (v_amt / 10) where code = '1000';
        update model set cents = cents - (v_r ->> 'applied_cents')::bigint where code = '1200';
        insert into model values ('2100', 0) on conflict do nothing;
        update model set cents = cents - (v_r ->> 'credit_cents')::bigint where code = '2100';
      elsif v_op = 4 then   -- a float amount: refused
        perform app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
          jsonb_build_array(jsonb_build_object('account', '1000', 'amount_cents', v_amt + 0.5), jsonb_build_object('account', '4000', 'amount_cents', -v_amt - 0.5)));
      elsif v_op = 5 then   -- unbalanced by a cent: refused
        perform app_private.freight_ledger_post('d0000000-0000-4000-8000-000000000001', 'USD',
          jsonb_build_array(jsonb_build_object('account', '1000', 'amount_cents', v_amt), jsonb_build_object('account', '4000', 'amount_cents', 1 - v_amt)));
      else                  -- a negative payment: refused
        perform app_private.financials_payment_apply((select id from inv), to_jsonb(-v_amt), 'manual', 'neg-' || i);
      end if;
    exception when others then
      insert into refusals values (sqlstate);
    end;
  end loop;
end $$;

select is((select count(*)::int from refusals where sqlstate not in ('SY114', 'SY116')), 0, 'every refusal is bad_amount or ledger_unbalanced');
select ok((select count(*) from refusals) > 300, 'bad input was tried (floats, unbalanced, negative) and refused');
select ok((select count(*) from public.journal_entries where tenant_id = 'd0000000-0000-4000-8000-000000000001') > 400, 'hundreds of entries posted');
select is_empty($$select m.code, m.cents, coalesce(sum(l.amount_cents), 0) from model m
                  join public.ledger_accounts a on a.code = m.code and a.tenant_id = 'd0000000-0000-4000-8000-000000000001'
                  left join public.journal_lines l on l.account_id = a.id
                  group by m.code, m.cents having m.cents <> coalesce(sum(l.amount_cents), 0)$$,
  'every account''s balance (sum of its journal lines) equals the model');
select is_empty($$select * from public.financials_trial_balance where balance_cents <> 0$$, 'the trial balance is zero per currency');

select * from finish();
rollback;
