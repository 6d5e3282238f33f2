-- Financials (issue 15): AR invoices released from delivered loads with a POD, credit memos,
-- payments and short-pays (an overpayment becomes an explicit customer credit), AP carrier
-- bills with a three-way match (rate confirmation vs carrier invoice vs POD) and a variance
-- tolerance, and payouts in idempotent batches. Every function here posts its journal entry
-- (app_private.ledger_post_internal of the freight core's ledger: deferred balance check,
-- immutability, reversing entries and currency are the core's) in the same transaction as its
-- domain rows, its outbox event (financials.<entity>.<verb>) and its audit row.
-- The factoring migration (20261202120100) adds the Notice of Assignment rule: a payout to a
-- carrier while an active NOA names a factor is refused by a trigger on financials_payouts.
--
-- Chart of accounts used (created per tenant and currency on first use; USD codes are bare,
-- other currencies get a suffix, e.g. 1200.EUR): 1000 cash, 1200 receivable, 2000 payable,
-- 2100 customer credits (overpayments), 4000 revenue, 5000 carrier cost.
--
-- Sections: permissions and grants (error codes); flags; tables; functions; views.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('invoice_not_ready', 'SY200', 422, 'Invoice not ready',
   'An invoice is released only for a delivered (or completed) load with a POD document on file.'),
  ('invoice_line_invalid', 'SY201', 422, 'Invoice line invalid',
   'Invoice lines are positive integer cents of kind linehaul, fuel, detention, tonu, lumper or accessorial; only a credit line is negative; the total is positive.'),
  ('invoice_state', 'SY202', 409, 'Invoice state does not allow this',
   'The invoice is not open (paid, credited or void), or the credit exceeds its open balance.'),
  ('bill_state', 'SY203', 409, 'Carrier bill state does not allow this',
   'The carrier bill is not in a state for this step (approve: matched or held; unapprove: approved; pay: approved).'),
  ('noa_active', 'SY204', 409, 'Notice of Assignment in force',
   'An active Notice of Assignment names a factor for this carrier: pay the factor, or record a Letter of Release first.'),
  ('noa_conflict', 'SY205', 409, 'Notice of Assignment conflict',
   'A carrier has at most one active Notice of Assignment; a release applies to an active one.'),
  ('payee_invalid', 'SY206', 422, 'Payee invalid',
   'A carrier bill is paid to its carrier or to the factor of the carrier''s active Notice of Assignment.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('financials.billVarianceToleranceCents', 'integer', 0, 1000000, null, false, '{global,tenant}', '2500', 'flags.global.write',
   'A carrier bill whose amount differs from its rate confirmation by more than this many cents is held for a human')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- AR: invoices (and credit memos against them) to the load's shipper. Written only through
-- the functions below (no insert/update grant); open = total - paid - credited.
create table public.financials_invoices (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null references public.tenants (id),
  load_id           uuid not null,
  shipper_party_id  uuid not null,
  reference         text not null,
  currency          char(3) not null constraint financials_invoices_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  total_cents       bigint not null constraint financials_invoices_total_positive_check check (total_cents > 0),
  paid_cents        bigint not null default 0,
  credited_cents    bigint not null default 0,
  status            text not null default 'invoiced' constraint financials_invoices_status_allowed_check
                    check (status in ('invoiced', 'short_paid', 'paid', 'credited', 'factored')),
  due_on            date not null,
  entry_id          uuid not null,
  created_at        timestamptz not null default now(),
  trace_id          text,
  constraint financials_invoices_applied_range_check check (paid_cents >= 0 and credited_cents >= 0 and paid_cents + credited_cents <= total_cents),
  constraint financials_invoices_tenant_id_unique unique (tenant_id, id),
  constraint financials_invoices_reference_unique unique (tenant_id, reference),
  -- one invoice per load (a correction is a credit memo)
  constraint financials_invoices_load_unique unique (tenant_id, load_id),
  constraint financials_invoices_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id),
  constraint financials_invoices_shipper_fk foreign key (tenant_id, shipper_party_id) references public.parties (tenant_id, id),
  constraint financials_invoices_entry_fk foreign key (tenant_id, entry_id) references public.journal_entries (tenant_id, id)
);
comment on table public.financials_invoices is
  'AR invoices (one per delivered load with POD), integer cents; open = total - paid - credited; written by app_private.financials_* only.';
create index financials_invoices_open_idx on public.financials_invoices (tenant_id, due_on) where status in ('invoiced', 'short_paid');
select ops.attach_rails('public.financials_invoices', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.financials_invoices',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "shipper_party_id": "$shipper", "reference": "INV-M$n", "currency": "USD",
    "total_cents": 100, "due_on": "2030-01-01", "entry_id": "$ref:journal_entries"}');

create table public.financials_invoice_lines (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id),
  invoice_id   uuid not null,
  kind         text not null constraint financials_invoice_lines_kind_allowed_check
               check (kind in ('linehaul', 'fuel', 'detention', 'tonu', 'lumper', 'accessorial', 'credit')),
  description  text,
  amount_cents bigint not null,
  -- only a credit is negative
  constraint financials_invoice_lines_amount_sign_check check ((kind = 'credit') = (amount_cents < 0) and amount_cents <> 0),
  constraint financials_invoice_lines_invoice_fk foreign key (tenant_id, invoice_id) references public.financials_invoices (tenant_id, id)
);
comment on table public.financials_invoice_lines is 'Invoice lines in integer cents; only kind credit is negative.';
create index financials_invoice_lines_invoice_idx on public.financials_invoice_lines (invoice_id);
select ops.attach_rails('public.financials_invoice_lines', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.financials_invoice_lines',
  '{"tenant_id": "$tenant", "invoice_id": "$ref:financials_invoices", "kind": "linehaul", "amount_cents": 100}');

-- Credit memos and payments against an invoice. A payment is deduplicated by (source,
-- external_ref): a Stripe event id, a remittance line, a check number.
create table public.financials_credit_memos (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id),
  invoice_id   uuid not null,
  amount_cents bigint not null constraint financials_credit_memos_amount_positive_check check (amount_cents > 0),
  reason       text not null constraint financials_credit_memos_reason_not_blank_check check (length(btrim(reason)) > 0),
  entry_id     uuid not null,
  created_at   timestamptz not null default now(),
  constraint financials_credit_memos_invoice_fk foreign key (tenant_id, invoice_id) references public.financials_invoices (tenant_id, id),
  constraint financials_credit_memos_entry_fk foreign key (tenant_id, entry_id) references public.journal_entries (tenant_id, id)
);
comment on table public.financials_credit_memos is 'Credit memos reducing an invoice''s open balance (revenue debited, receivable credited).';
create index financials_credit_memos_invoice_idx on public.financials_credit_memos (invoice_id);
select ops.attach_rails('public.financials_credit_memos', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.financials_credit_memos',
  '{"tenant_id": "$tenant", "invoice_id": "$ref:financials_invoices", "amount_cents": 1, "reason": "m", "entry_id": "$ref:journal_entries"}');

create table public.financials_payments (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null references public.tenants (id),
  invoice_id     uuid not null,
  source         text not null constraint financials_payments_source_allowed_check check (source in ('manual', 'stripe', 'remittance')),
  external_ref   text not null constraint financials_payments_external_ref_length_check check (length(external_ref) between 1 and 200),
  amount_cents   bigint not null constraint financials_payments_amount_positive_check check (amount_cents > 0),
  applied_cents  bigint not null,
  -- the overpayment, booked to 2100 customer credits (explicit, never silently absorbed)
  credit_cents   bigint not null,
  entry_id       uuid not null,
  created_at     timestamptz not null default now(),
  constraint financials_payments_split_check check (applied_cents >= 0 and credit_cents >= 0 and applied_cents + credit_cents = amount_cents),
  constraint financials_payments_external_unique unique (tenant_id, source, external_ref),
  constraint financials_payments_invoice_fk foreign key (tenant_id, invoice_id) references public.financials_invoices (tenant_id, id),
  constraint financials_payments_entry_fk foreign key (tenant_id, entry_id) references public.journal_entries (tenant_id, id)
);
comment on table public.financials_payments is
  'Payments against an invoice: applied to the receivable, any excess an explicit customer credit; unique per (source, external_ref).';
create index financials_payments_invoice_idx on public.financials_payments (invoice_id);
select ops.attach_rails('public.financials_payments', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.financials_payments',
  '{"tenant_id": "$tenant", "invoice_id": "$ref:financials_invoices", "source": "manual", "external_ref": "m-$n", "amount_cents": 1,
    "applied_cents": 1, "credit_cents": 0, "entry_id": "$ref:journal_entries"}');

-- AP: a carrier's bill for a load, matched three ways when received: the rate confirmation
-- (the load's buy charge lines for that carrier, and a rate_confirmation document), the
-- carrier's invoice amount, and the POD. held: hold_reason says why (a human approves or
-- voids); matched: the agent may approve; approved: cost accrued (5000 / 2000); paid: a payout.
create table public.financials_bills (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id),
  load_id            uuid not null,
  carrier_party_id   uuid not null,
  invoice_number     text not null constraint financials_bills_invoice_number_length_check check (length(btrim(invoice_number)) between 1 and 64),
  currency           char(3) not null constraint financials_bills_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  amount_cents       bigint not null constraint financials_bills_amount_positive_check check (amount_cents > 0),
  rate_con_cents     bigint not null,
  variance_cents     bigint generated always as (amount_cents - rate_con_cents) stored,
  pod_on_file        boolean not null,
  status             text not null constraint financials_bills_status_allowed_check
                     check (status in ('matched', 'held', 'approved', 'paid', 'void')),
  hold_reason        text,
  approved_by        uuid,
  approval_entry_id  uuid,
  created_at         timestamptz not null default now(),
  trace_id           text,
  constraint financials_bills_hold_reason_check check ((status = 'held') = (hold_reason is not null)),
  constraint financials_bills_approval_check check ((status in ('approved', 'paid')) = (approval_entry_id is not null)),
  constraint financials_bills_tenant_id_unique unique (tenant_id, id),
  constraint financials_bills_number_unique unique (tenant_id, carrier_party_id, invoice_number),
  constraint financials_bills_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id),
  constraint financials_bills_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id)
);
comment on table public.financials_bills is
  'AP carrier bills with their three-way match (rate confirmation, carrier invoice, POD); held ones carry hold_reason.';
create index financials_bills_status_idx on public.financials_bills (tenant_id, status);
create index financials_bills_dup_idx on public.financials_bills (tenant_id, carrier_party_id, load_id, amount_cents);
select ops.attach_rails('public.financials_bills', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.financials_bills',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "carrier_party_id": "$carrier", "invoice_number": "M-$n", "currency": "USD",
    "amount_cents": 100, "rate_con_cents": 100, "pod_on_file": true, "status": "matched"}');

-- Payout batches (one per run_key: a second start of the same run answers the first) and
-- payouts (one per bill, ever: the unique key is the backstop of the run's lock).
create table public.financials_payout_batches (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id),
  run_key      text not null constraint financials_payout_batches_run_key_length_check check (length(run_key) between 1 and 120),
  created_at   timestamptz not null default now(),
  created_by   uuid default auth.uid(),
  constraint financials_payout_batches_tenant_id_unique unique (tenant_id, id),
  constraint financials_payout_batches_run_key_unique unique (tenant_id, run_key)
);
comment on table public.financials_payout_batches is 'Payout runs, one per (tenant, run_key).';
select ops.attach_rails('public.financials_payout_batches', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.financials_payout_batches', '{"tenant_id": "$tenant", "run_key": "m-$n"}');

create table public.financials_payouts (
  id             uuid primary key default gen_random_uuid(),
  tenant_id      uuid not null references public.tenants (id),
  batch_id       uuid,
  bill_id        uuid not null,
  payee_party_id uuid not null,
  amount_cents   bigint not null constraint financials_payouts_amount_positive_check check (amount_cents > 0),
  currency       char(3) not null,
  entry_id       uuid not null,
  created_at     timestamptz not null default now(),
  constraint financials_payouts_bill_unique unique (bill_id),
  constraint financials_payouts_batch_fk foreign key (tenant_id, batch_id) references public.financials_payout_batches (tenant_id, id),
  constraint financials_payouts_bill_fk foreign key (tenant_id, bill_id) references public.financials_bills (tenant_id, id),
  constraint financials_payouts_payee_fk foreign key (tenant_id, payee_party_id) references public.parties (tenant_id, id),
  constraint financials_payouts_entry_fk foreign key (tenant_id, entry_id) references public.journal_entries (tenant_id, id)
);
comment on table public.financials_payouts is
  'One payout per carrier bill (payable debited, cash credited), to the carrier or to its NOA factor (trigger in the factoring migration).';
create index financials_payouts_batch_idx on public.financials_payouts (batch_id);
select ops.attach_rails('public.financials_payouts', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.financials_payouts',
  '{"tenant_id": "$tenant", "bill_id": "$ref:financials_bills", "payee_party_id": "$carrier", "amount_cents": 100, "currency": "USD",
    "entry_id": "$ref:journal_entries"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The tenant's account for a base code in a currency (created on first use).
create function app_private.financials_account(p_tenant_id uuid, p_base text, p_currency text) returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_code text := p_base || case when p_currency = 'USD' then '' else '.' || p_currency end;
begin
  insert into public.ledger_accounts (tenant_id, code, name, kind, subtype, currency)
  select p_tenant_id, v_code, a.name || ' (' || p_currency || ')', a.kind, a.subtype, p_currency
  from (values ('1000', 'Cash', 'asset', 'cash'), ('1200', 'Accounts receivable', 'asset', 'receivable'),
               ('2000', 'Accounts payable', 'liability', 'payable'), ('2100', 'Customer credits', 'liability', 'other'),
               ('4000', 'Freight revenue', 'revenue', 'revenue'), ('5000', 'Carrier cost', 'expense', 'cost')) a(base, name, kind, subtype)
  where a.base = p_base
  on conflict on constraint ledger_accounts_code_unique do nothing;
  return v_code;
end $$;
revoke execute on function app_private.financials_account(uuid, text, text) from public;

-- Posts a two-or-more line entry from (base code, cents) pairs; zero lines are dropped.
create function app_private.financials_post(p_tenant_id uuid, p_currency text, p_lines jsonb, p_memo text,
                                            p_source_type text, p_source_id uuid, p_external_key text default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
begin
  return app_private.ledger_post_internal(p_tenant_id, p_currency,
    (select jsonb_agg(jsonb_build_object('account', app_private.financials_account(p_tenant_id, l ->> 0, p_currency), 'amount_cents', l -> 1))
     from jsonb_array_elements(p_lines) l where (l ->> 1)::bigint <> 0),
    p_memo, p_source_type, p_source_id, p_external_key);
end $$;
revoke execute on function app_private.financials_post(uuid, text, jsonb, text, text, uuid, text) from public;

-- financials.<entity>.<verb> to the outbox, plus its audit row, in the caller's transaction.
create function app_private.financials_record(p_tenant_id uuid, p_entity text, p_id uuid, p_verb text, p_payload jsonb,
                                              p_portal text default 'financials')
returns void
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (p_tenant_id, p_entity, p_id::text, p_portal || '.' || p_entity || '.' || p_verb,
          jsonb_build_object(p_entity || '_id', p_id) || coalesce(p_payload, '{}'::jsonb));
  perform app_private.audit_write(p_tenant_id, p_portal || '.' || p_entity || '.' || p_verb, p_entity, p_id::text, null, p_payload);
end $$;
revoke execute on function app_private.financials_record(uuid, text, uuid, text, jsonb, text) from public;

-- A signed integer of cents from JSON (bad_amount for a float, a string, a missing value).
create function app_private.financials_int_cents(p_value jsonb, p_what text) returns bigint
language plpgsql immutable set search_path = '' as $$
begin
  if p_value is null or jsonb_typeof(p_value) is distinct from 'number' or (p_value #>> '{}')::numeric <> trunc((p_value #>> '{}')::numeric)
     or abs((p_value #>> '{}')::numeric) > 100000000000 then
    perform app_private.raise_error('bad_amount', format('%s must be an integer of cents, not %s', p_what, coalesce(p_value::text, 'null')));
  end if;
  return (p_value #>> '{}')::bigint;
end $$;
revoke execute on function app_private.financials_int_cents(jsonb, text) from public;

-- Releases the load's invoice: the load delivered (or completed) with a POD on file. p_lines
-- (null: the load's sell charge lines) = [{"kind", "amount_cents", "description"}], or for
-- detention {"kind": "detention", "minutes", "free_minutes" (default 120), "rate_cents_per_hour"}:
-- billed for the minutes after free time, whole cents rounded down. Posts 1200 / 4000.
-- A second release of the same load answers the first invoice.
create function app_private.financials_invoice_release(p_load_id uuid, p_lines jsonb default null, p_due_days int default 30)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'finance.write');
  ld public.loads;
  inv public.financials_invoices;
  v_lines jsonb := '[]';
  l jsonb;
  v_amt bigint;
  v_kind text;
  v_total bigint;
  v_currency text;
  v_entry uuid;
begin
  select * into inv from public.financials_invoices where tenant_id = v_tenant and load_id = p_load_id;
  if found then
    return jsonb_build_object('invoice_id', inv.id, 'status', inv.status, 'total_cents', inv.total_cents, 'replayed', true);
  end if;
  select * into ld from public.loads where id = p_load_id for update;
  if ld.status not in ('delivered', 'completed') then
    perform app_private.raise_error('invoice_not_ready', format('load %s is %s, not delivered', ld.reference, ld.status));
  end if;
  if not exists (select 1 from public.documents d where d.load_id = p_load_id and d.kind = 'pod') then
    perform app_private.raise_error('invoice_not_ready', format('load %s has no POD on file', ld.reference));
  end if;
  select coalesce(min(c.currency), 'USD') into v_currency from public.charge_lines c where c.load_id = p_load_id and c.side = 'sell';
  if p_lines is null then
    select coalesce(jsonb_agg(jsonb_build_object(
             'kind', case when c.amount_cents < 0 then 'credit' when c.kind in ('linehaul', 'fuel') then c.kind else 'accessorial' end,
             'amount_cents', c.amount_cents, 'description', c.description) order by c.created_at), '[]')
      into p_lines from public.charge_lines c where c.load_id = p_load_id and c.side = 'sell';
  elsif jsonb_typeof(p_lines) <> 'array' then
    perform app_private.raise_error('invoice_line_invalid', 'lines is an array');
  end if;
  for l in select * from jsonb_array_elements(p_lines) loop
    v_kind := l ->> 'kind';
    if v_kind is null or v_kind not in ('linehaul', 'fuel', 'detention', 'tonu', 'lumper', 'accessorial', 'credit') then
      perform app_private.raise_error('invoice_line_invalid', format('line kind %s is not one of linehaul, fuel, detention, tonu, lumper, accessorial, credit', coalesce(v_kind, 'null')));
    end if;
    if v_kind = 'detention' and l ? 'minutes' then
      v_amt := greatest(app_private.financials_int_cents(l -> 'minutes', 'detention minutes')
                        - case when l ? 'free_minutes' then app_private.financials_int_cents(l -> 'free_minutes', 'free_minutes') else 120 end, 0)
               * app_private.financials_int_cents(l -> 'rate_cents_per_hour', 'rate_cents_per_hour') / 60;
      continue when v_amt = 0;   -- inside free time: nothing to bill
    else
      v_amt := app_private.financials_int_cents(l -> 'amount_cents', v_kind || ' amount_cents');
    end if;
    if (v_kind = 'credit') <> (v_amt < 0) or v_amt = 0 then
      perform app_private.raise_error('invoice_line_invalid', format('a %s line of %s cents: only a credit line is negative, none is zero', v_kind, v_amt));
    end if;
    v_lines := v_lines || jsonb_build_object('kind', v_kind, 'amount_cents', v_amt, 'description', l ->> 'description');
  end loop;
  select coalesce(sum((x ->> 'amount_cents')::bigint), 0) into v_total from jsonb_array_elements(v_lines) x;
  if v_total <= 0 then
    perform app_private.raise_error('invoice_line_invalid', format('the invoice total is %s cents; it must be positive', v_total));
  end if;
  inv.id := gen_random_uuid();
  v_entry := app_private.financials_post(v_tenant, v_currency, jsonb_build_array(jsonb_build_array('1200', v_total), jsonb_build_array('4000', -v_total)),
    'invoice ' || ld.reference, 'financials_invoice', inv.id);
  insert into public.financials_invoices (id, tenant_id, load_id, shipper_party_id, reference, currency, total_cents, due_on, entry_id, trace_id)
  values (inv.id, v_tenant, p_load_id, ld.shipper_party_id, 'INV-' || ld.reference, v_currency, v_total,
          current_date + greatest(coalesce(p_due_days, 30), 0), v_entry, (app_private.request_context()).trace_id);
  insert into public.financials_invoice_lines (tenant_id, invoice_id, kind, description, amount_cents)
  select v_tenant, inv.id, x ->> 'kind', x ->> 'description', (x ->> 'amount_cents')::bigint from jsonb_array_elements(v_lines) x;
  perform app_private.financials_record(v_tenant, 'invoice', inv.id, 'released',
    jsonb_build_object('load_id', p_load_id, 'total_cents', v_total, 'currency', v_currency, 'lines', jsonb_array_length(v_lines)));
  return jsonb_build_object('invoice_id', inv.id, 'status', 'invoiced', 'total_cents', v_total, 'replayed', false);
end $$;
comment on function app_private.financials_invoice_release(uuid, jsonb, int) is
  'Releases the AR invoice of a delivered load with POD (finance.write); posts receivable / revenue; event financials.invoice.released.';
grant execute on function app_private.financials_invoice_release(uuid, jsonb, int) to authenticated;

create function app_private.financials_open_invoice(p_invoice_id uuid) returns public.financials_invoices
language plpgsql security definer set search_path = '' as $$
declare
  inv public.financials_invoices;
begin
  perform app_private.freight_tenant_of('public.financials_invoices', p_invoice_id, 'finance.write');
  select * into inv from public.financials_invoices where id = p_invoice_id for update;
  return inv;
end $$;
revoke execute on function app_private.financials_open_invoice(uuid) from public;

-- A credit memo: up to the open balance; posts 4000 / 1200.
create function app_private.financials_credit_memo(p_invoice_id uuid, p_amount_cents jsonb, p_reason text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  inv public.financials_invoices := app_private.financials_open_invoice(p_invoice_id);
  v_amt bigint := app_private.freight_cents(p_amount_cents, 'amount_cents');
  v_open bigint := inv.total_cents - inv.paid_cents - inv.credited_cents;
  v_id uuid := gen_random_uuid();
  v_entry uuid;
begin
  if v_amt = 0 then
    perform app_private.raise_error('bad_amount', 'a credit memo is at least 1 cent');
  end if;
  if v_amt > v_open then
    perform app_private.raise_error('invoice_state', format('a credit of %s cents exceeds the open balance of %s', v_amt, v_open));
  end if;
  if p_reason is null or length(btrim(p_reason)) = 0 then
    perform app_private.raise_error('bad_request', 'a credit memo states its reason');
  end if;
  v_entry := app_private.financials_post(inv.tenant_id, inv.currency,
    jsonb_build_array(jsonb_build_array('4000', v_amt), jsonb_build_array('1200', -v_amt)), 'credit memo ' || inv.reference, 'financials_credit_memo', v_id);
  insert into public.financials_credit_memos (id, tenant_id, invoice_id, amount_cents, reason, entry_id)
  values (v_id, inv.tenant_id, inv.id, v_amt, p_reason, v_entry);
  update public.financials_invoices set credited_cents = credited_cents + v_amt,
    status = case when v_amt = v_open then case when paid_cents = 0 then 'credited' else 'paid' end else status end
  where id = inv.id returning * into inv;
  perform app_private.financials_record(inv.tenant_id, 'credit_memo', v_id, 'issued',
    jsonb_build_object('invoice_id', inv.id, 'amount_cents', v_amt, 'invoice_status', inv.status));
  return jsonb_build_object('credit_memo_id', v_id, 'invoice_id', inv.id, 'invoice_status', inv.status,
                            'open_cents', inv.total_cents - inv.paid_cents - inv.credited_cents);
end $$;
comment on function app_private.financials_credit_memo(uuid, jsonb, text) is
  'Issues a credit memo up to the invoice''s open balance (finance.write); posts revenue / receivable.';
grant execute on function app_private.financials_credit_memo(uuid, jsonb, text) to authenticated;

-- A payment: applied up to the open balance (the rest is a customer credit on 2100, said in
-- the answer); short of it, the invoice is short_paid. Deduplicated by (source, external_ref):
-- the same Stripe event or remittance line twice answers the first payment (duplicate: true).
create function app_private.financials_payment_apply(p_invoice_id uuid, p_amount_cents jsonb, p_source text, p_external_ref text)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  inv public.financials_invoices := app_private.financials_open_invoice(p_invoice_id);
  p public.financials_payments;
  v_amt bigint := app_private.freight_cents(p_amount_cents, 'amount_cents');
  v_applied bigint;
  v_id uuid := gen_random_uuid();
begin
  if p_source is null or p_source not in ('manual', 'stripe', 'remittance') or p_external_ref is null or length(p_external_ref) not between 1 and 200 then
    perform app_private.raise_error('bad_request', 'a payment names its source (manual, stripe, remittance) and an external_ref');
  end if;
  select * into p from public.financials_payments where tenant_id = inv.tenant_id and source = p_source and external_ref = p_external_ref;
  if found then
    return jsonb_build_object('payment_id', p.id, 'invoice_id', p.invoice_id, 'applied_cents', p.applied_cents,
                              'credit_cents', p.credit_cents, 'duplicate', true);
  end if;
  if v_amt = 0 then
    perform app_private.raise_error('bad_amount', 'a payment is at least 1 cent');
  end if;
  v_applied := least(v_amt, inv.total_cents - inv.paid_cents - inv.credited_cents);
  insert into public.financials_payments (id, tenant_id, invoice_id, source, external_ref, amount_cents, applied_cents, credit_cents, entry_id)
  values (v_id, inv.tenant_id, inv.id, p_source, p_external_ref, v_amt, v_applied, v_amt - v_applied,
          app_private.financials_post(inv.tenant_id, inv.currency,
            jsonb_build_array(jsonb_build_array('1000', v_amt), jsonb_build_array('1200', -v_applied), jsonb_build_array('2100', v_applied - v_amt)),
            'payment ' || inv.reference, 'financials_payment', v_id));
  update public.financials_invoices set paid_cents = paid_cents + v_applied,
    status = case when total_cents = paid_cents + v_applied + credited_cents then 'paid' else 'short_paid' end
  where id = inv.id returning * into inv;
  perform app_private.financials_record(inv.tenant_id, 'payment', v_id, 'received',
    jsonb_build_object('invoice_id', inv.id, 'source', p_source, 'amount_cents', v_amt, 'applied_cents', v_applied,
                       'credit_cents', v_amt - v_applied, 'invoice_status', inv.status));
  return jsonb_build_object('payment_id', v_id, 'invoice_id', inv.id, 'applied_cents', v_applied, 'credit_cents', v_amt - v_applied,
                            'invoice_status', inv.status, 'open_cents', inv.total_cents - inv.paid_cents - inv.credited_cents, 'duplicate', false);
end $$;
comment on function app_private.financials_payment_apply(uuid, jsonb, text, text) is
  'Applies a payment (finance.write): receivable up to the open balance, the excess an explicit customer credit; idempotent by (source, external_ref).';
grant execute on function app_private.financials_payment_apply(uuid, jsonb, text, text) to authenticated;

-- Receives a carrier bill and matches it three ways: rate confirmation (the load's buy lines
-- for the carrier, and a rate_confirmation document), the carrier's amount, the POD. Held
-- (with the reason) when the POD or rate confirmation is missing, the variance exceeds
-- financials.billVarianceToleranceCents, or it duplicates a live bill (same carrier, load and
-- amount); matched otherwise.
create function app_private.financials_bill_receive(p_load_id uuid, p_invoice_number text, p_amount_cents jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'finance.write');
  ld public.loads;
  b public.financials_bills;
  v_amt bigint := app_private.freight_cents(p_amount_cents, 'amount_cents');
  v_rate bigint;
  v_currency text;
  v_pod boolean;
  v_tol bigint := coalesce((public.flag_value('financials.billVarianceToleranceCents', v_tenant) #>> '{}')::bigint, 2500);
  v_dup uuid;
  v_reason text;
begin
  select * into ld from public.loads where id = p_load_id;
  if ld.carrier_party_id is null then
    perform app_private.raise_error('bill_state', format('load %s has no carrier to bill', ld.reference));
  end if;
  if v_amt = 0 then
    perform app_private.raise_error('bad_amount', 'a bill is at least 1 cent');
  end if;
  select * into b from public.financials_bills where tenant_id = v_tenant and carrier_party_id = ld.carrier_party_id and invoice_number = p_invoice_number;
  if found then   -- the same carrier invoice number again: the bill it created
    return jsonb_build_object('bill_id', b.id, 'status', b.status, 'hold_reason', b.hold_reason, 'variance_cents', b.variance_cents, 'replayed', true);
  end if;
  select coalesce(sum(c.amount_cents), 0), coalesce(min(c.currency), 'USD') into v_rate, v_currency
  from public.charge_lines c where c.load_id = p_load_id and c.side = 'buy' and c.party_id = ld.carrier_party_id;
  v_pod := exists (select 1 from public.documents d where d.load_id = p_load_id and d.kind = 'pod');
  perform pg_catalog.pg_advisory_xact_lock(hashtext('financials_bill:' || p_load_id));
  select id into v_dup from public.financials_bills
  where tenant_id = v_tenant and carrier_party_id = ld.carrier_party_id and load_id = p_load_id and amount_cents = v_amt and status <> 'void'
  limit 1;
  v_reason := case
    when v_dup is not null then format('duplicate of bill %s (same carrier, load and amount)', v_dup)
    when not v_pod then 'pod_missing: no POD on file for the load'
    when v_rate = 0 or not exists (select 1 from public.documents d where d.load_id = p_load_id and d.kind = 'rate_confirmation')
      then 'rate_confirmation_missing: no rate confirmation (buy lines and document) for the carrier'
    when abs(v_amt - v_rate) > v_tol then format('variance: billed %s vs rate confirmation %s cents (%s beyond the tolerance of %s)',
      v_amt, v_rate, abs(v_amt - v_rate) - v_tol, v_tol)
  end;
  insert into public.financials_bills (tenant_id, load_id, carrier_party_id, invoice_number, currency, amount_cents, rate_con_cents,
                                       pod_on_file, status, hold_reason, trace_id)
  values (v_tenant, p_load_id, ld.carrier_party_id, p_invoice_number, v_currency, v_amt, v_rate, v_pod,
          case when v_reason is null then 'matched' else 'held' end, v_reason, (app_private.request_context()).trace_id)
  returning * into b;
  perform app_private.financials_record(v_tenant, 'bill', b.id, case when v_reason is null then 'matched' else 'held' end,
    jsonb_build_object('load_id', p_load_id, 'amount_cents', v_amt, 'rate_con_cents', v_rate, 'variance_cents', b.variance_cents,
                       'tolerance_cents', v_tol, 'hold_reason', v_reason));
  return jsonb_build_object('bill_id', b.id, 'status', b.status, 'hold_reason', v_reason, 'variance_cents', b.variance_cents, 'replayed', false);
end $$;
comment on function app_private.financials_bill_receive(uuid, text, jsonb) is
  'Receives a carrier bill and three-way matches it (finance.write): matched, or held with the reason (variance, POD, rate con, duplicate).';
grant execute on function app_private.financials_bill_receive(uuid, text, jsonb) to authenticated;

-- Approves a bill: matched (the agent, within tolerance), or held with a human's note.
-- Accrues the cost: 5000 / 2000.
create function app_private.financials_bill_approve(p_bill_id uuid, p_note text default null) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.financials_bills', p_bill_id, 'finance.write');
  b public.financials_bills;
begin
  select * into b from public.financials_bills where id = p_bill_id for update;
  if b.status not in ('matched', 'held') or (b.status = 'held' and (p_note is null or length(btrim(p_note)) = 0)) then
    perform app_private.raise_error('bill_state', format('bill %s is %s%s', p_bill_id, b.status,
      case when b.status = 'held' then ' (a held bill is approved with a note saying why)' else '' end));
  end if;
  update public.financials_bills set status = 'approved', hold_reason = null, approved_by = app_private.principal_id(),
    approval_entry_id = app_private.financials_post(v_tenant, b.currency,
      jsonb_build_array(jsonb_build_array('5000', b.amount_cents), jsonb_build_array('2000', -b.amount_cents)),
      'carrier bill ' || b.invoice_number, 'financials_bill', b.id)
  where id = p_bill_id returning * into b;
  perform app_private.financials_record(v_tenant, 'bill', b.id, 'approved', jsonb_build_object('amount_cents', b.amount_cents, 'note', p_note));
  return jsonb_build_object('bill_id', b.id, 'status', b.status, 'entry_id', b.approval_entry_id);
end $$;
comment on function app_private.financials_bill_approve(uuid, text) is
  'Approves a matched bill (or a held one, with a note) (finance.write); accrues cost / payable.';
grant execute on function app_private.financials_bill_approve(uuid, text) to authenticated;

-- The undo of an approval (ops revert): back to matched, the accrual reversed.
create function app_private.financials_bill_unapprove(p_bill_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.financials_bills', p_bill_id, 'finance.write');
  b public.financials_bills;
begin
  select * into b from public.financials_bills where id = p_bill_id for update;
  if b.status <> 'approved' then
    perform app_private.raise_error('bill_state', format('bill %s is %s, not approved (a paid bill is not unapproved)', p_bill_id, b.status));
  end if;
  perform app_private.freight_ledger_reverse(b.approval_entry_id, 'approval of bill ' || b.invoice_number || ' reverted');
  update public.financials_bills set status = 'matched', approved_by = null, approval_entry_id = null where id = p_bill_id returning * into b;
  perform app_private.financials_record(v_tenant, 'bill', b.id, 'unapproved', jsonb_build_object('amount_cents', b.amount_cents));
  return jsonb_build_object('bill_id', b.id, 'status', b.status);
end $$;
comment on function app_private.financials_bill_unapprove(uuid) is
  'Reverts a bill''s approval (finance.write): back to matched, the accrual reversed by a reversing entry.';
grant execute on function app_private.financials_bill_unapprove(uuid) to authenticated;

-- Pays one approved bill (2000 / 1000). p_payee (null: whom the factoring rules say) must be
-- the carrier or the factor of its active NOA; a carrier named while an NOA is active is
-- refused by the payouts trigger (factoring migration), whichever door inserts.
create function app_private.financials_pay_bill(p_bill_id uuid, p_payee_party_id uuid default null, p_batch_id uuid default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.financials_bills', p_bill_id, 'finance.write');
  b public.financials_bills;
  v_payee uuid;
  v_id uuid := gen_random_uuid();
begin
  select * into b from public.financials_bills where id = p_bill_id for update;
  if b.status <> 'approved' then
    perform app_private.raise_error('bill_state', format('bill %s is %s, not approved', p_bill_id, b.status));
  end if;
  v_payee := coalesce(p_payee_party_id, app_private.factoring_payee(v_tenant, b.carrier_party_id));
  insert into public.financials_payouts (id, tenant_id, batch_id, bill_id, payee_party_id, amount_cents, currency, entry_id)
  values (v_id, v_tenant, p_batch_id, b.id, v_payee, b.amount_cents, b.currency,
          app_private.financials_post(v_tenant, b.currency,
            jsonb_build_array(jsonb_build_array('2000', b.amount_cents), jsonb_build_array('1000', -b.amount_cents)),
            'payout of bill ' || b.invoice_number, 'financials_payout', v_id, 'payout:' || b.id));
  update public.financials_bills set status = 'paid' where id = b.id;
  perform app_private.financials_record(v_tenant, 'payout', v_id, 'paid',
    jsonb_build_object('bill_id', b.id, 'payee_party_id', v_payee, 'to_factor', v_payee <> b.carrier_party_id,
                       'amount_cents', b.amount_cents, 'batch_id', p_batch_id));
  return jsonb_build_object('payout_id', v_id, 'bill_id', b.id, 'payee_party_id', v_payee, 'amount_cents', b.amount_cents);
end $$;
comment on function app_private.financials_pay_bill(uuid, uuid, uuid) is
  'Pays an approved carrier bill (finance.write) to the carrier or its NOA factor; posts payable / cash.';
grant execute on function app_private.financials_pay_bill(uuid, uuid, uuid) to authenticated;

-- A payout run: every approved bill of the tenant (or of p_bill_ids), each to its payee.
-- Idempotent: a run_key seen before answers its batch; two runs at once serialize on the
-- tenant's lock, so the second finds the bills paid (and financials_payouts_bill_unique is
-- the backstop): nothing is paid twice.
create function app_private.financials_payout_run(p_tenant_id uuid, p_run_key text, p_bill_ids uuid[] default null) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_batch uuid;
  v_bill uuid;
  v_n int := 0;
  v_total bigint := 0;
begin
  if p_tenant_id is null then
    perform app_private.raise_error('bad_request', 'p_tenant_id is required');
  end if;
  perform app_private.require_permission(p_tenant_id, 'finance.write');
  if p_run_key is null or length(p_run_key) not between 1 and 120 then
    perform app_private.raise_error('bad_request', 'a payout run names its run_key (1-120 characters)');
  end if;
  perform pg_catalog.pg_advisory_xact_lock(hashtext('financials_payout_run:' || p_tenant_id));
  select id into v_batch from public.financials_payout_batches where tenant_id = p_tenant_id and run_key = p_run_key;
  if found then
    return (select jsonb_build_object('batch_id', v_batch, 'paid', count(*), 'total_cents', coalesce(sum(amount_cents), 0), 'replayed', true)
            from public.financials_payouts where batch_id = v_batch);
  end if;
  insert into public.financials_payout_batches (tenant_id, run_key) values (p_tenant_id, p_run_key) returning id into v_batch;
  for v_bill in select id from public.financials_bills
                where tenant_id = p_tenant_id and status = 'approved' and (p_bill_ids is null or id = any (p_bill_ids))
                order by created_at, id loop
    v_total := v_total + (app_private.financials_pay_bill(v_bill, null, v_batch) ->> 'amount_cents')::bigint;
    v_n := v_n + 1;
  end loop;
  perform app_private.financials_record(p_tenant_id, 'payout_batch', v_batch, 'completed', jsonb_build_object('paid', v_n, 'total_cents', v_total));
  return jsonb_build_object('batch_id', v_batch, 'paid', v_n, 'total_cents', v_total, 'replayed', false);
end $$;
comment on function app_private.financials_payout_run(uuid, text, uuid[]) is
  'Pays every approved bill in one batch (finance.write); idempotent by run_key, concurrent runs serialized: nothing paid twice.';
grant execute on function app_private.financials_payout_run(uuid, text, uuid[]) to authenticated;

-------------------------------------------------------------------------------------------
-- views
-------------------------------------------------------------------------------------------
-- The trial balance per tenant and currency (zero, always); security invoker: finance.read.
create view public.financials_trial_balance with (security_invoker = true) as
  select e.tenant_id, e.currency, sum(l.amount_cents)::bigint as balance_cents, count(*)::bigint as lines
  from public.journal_lines l join public.journal_entries e on e.id = l.entry_id
  group by e.tenant_id, e.currency;
comment on view public.financials_trial_balance is 'Sum of journal lines per tenant and currency (always zero); RLS of the ledger (finance.read).';
grant select on public.financials_trial_balance to authenticated;

-- AR / AP aging in buckets by days past due (bills: days since received); finance.read via RLS.
create view public.financials_aging with (security_invoker = true) as
  select i.tenant_id, 'ar'::text as side, i.currency, i.shipper_party_id as party_id,
         case when current_date <= i.due_on then 'current' when current_date - i.due_on <= 30 then '1-30'
              when current_date - i.due_on <= 60 then '31-60' when current_date - i.due_on <= 90 then '61-90' else '90+' end as bucket,
         sum(i.total_cents - i.paid_cents - i.credited_cents)::bigint as open_cents, count(*)::bigint as documents
  from public.financials_invoices i where i.status in ('invoiced', 'short_paid') group by 1, 2, 3, 4, 5
  union all
  select b.tenant_id, 'ap', b.currency, b.carrier_party_id,
         case when current_date - b.created_at::date <= 30 then 'current' when current_date - b.created_at::date <= 60 then '31-60'
              when current_date - b.created_at::date <= 90 then '61-90' else '90+' end,
         sum(b.amount_cents)::bigint, count(*)::bigint
  from public.financials_bills b where b.status in ('matched', 'held', 'approved') group by 1, 2, 3, 4, 5;
comment on view public.financials_aging is 'AR and AP aging buckets (open cents per party and bucket); RLS: finance.read.';
grant select on public.financials_aging to authenticated;

-- Margin per load: invoiced revenue (net of credits) minus approved/paid carrier cost.
create view public.financials_margin with (security_invoker = true) as
  select i.tenant_id, i.load_id, i.shipper_party_id, i.currency, (i.total_cents - i.credited_cents)::bigint as revenue_cents,
         coalesce((select sum(b.amount_cents) from public.financials_bills b where b.load_id = i.load_id and b.status in ('approved', 'paid')), 0)::bigint as cost_cents,
         (i.total_cents - i.credited_cents - coalesce((select sum(b.amount_cents) from public.financials_bills b
                                                       where b.load_id = i.load_id and b.status in ('approved', 'paid')), 0))::bigint as margin_cents
  from public.financials_invoices i;
comment on view public.financials_margin is 'Margin per load (revenue net of credits minus accrued carrier cost); RLS: finance.read.';
grant select on public.financials_margin to authenticated;
