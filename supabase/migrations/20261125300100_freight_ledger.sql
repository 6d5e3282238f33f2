-- Freight: the double-entry ledger every money flow posts to (escrow now; invoices, bills,
-- settlements and factoring later).
--
-- Integer cents, one currency per journal entry (every line's account is in it). A line's
-- amount is signed: debit > 0, credit < 0. At COMMIT a deferred constraint trigger checks
-- that every entry touched sums to zero over at least two lines (ledger_unbalanced), so an
-- entry may be written line by line inside its transaction but never commits unbalanced.
-- Posted rows never change: UPDATE, DELETE and TRUNCATE are refused (ledger_immutable) for
-- every role, the owner too, and lines can be added only in the transaction that created
-- their entry. A correction is a reversing entry (app_private.freight_ledger_reverse).
-- Reconciliation is a query: select account_id, sum(amount_cents) from journal_lines group by 1.
--
-- Sections: tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- The tenant's chart of accounts; an account may belong to a party (its sub-ledger:
-- a customer's receivable, a carrier's payable, a bid's escrow).
create table public.ledger_accounts (
  id         uuid primary key default gen_random_uuid(),
  -- no cascade: a tenant with books is not deleted by accident
  tenant_id  uuid not null references public.tenants (id),
  code       text not null constraint ledger_accounts_code_format_check check (code ~ '^[A-Za-z0-9][A-Za-z0-9.:_-]{0,63}$'),
  name       text not null constraint ledger_accounts_name_not_blank_check check (length(btrim(name)) > 0),
  kind       text not null constraint ledger_accounts_kind_allowed_check
             check (kind in ('asset', 'liability', 'equity', 'revenue', 'expense')),
  subtype    text not null default 'other' constraint ledger_accounts_subtype_allowed_check
             check (subtype in ('cash', 'receivable', 'payable', 'escrow', 'revenue', 'cost', 'clearing', 'other')),
  party_id   uuid,
  currency   char(3) not null default 'USD' constraint ledger_accounts_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  created_at timestamptz not null default now(),
  constraint ledger_accounts_tenant_id_unique unique (tenant_id, id),
  constraint ledger_accounts_code_unique unique (tenant_id, code),
  constraint ledger_accounts_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id)
);
comment on table public.ledger_accounts is
  'Chart of accounts per tenant (kind, subtype, optional party sub-ledger, currency).';
create index ledger_accounts_party_idx on public.ledger_accounts (party_id) where party_id is not null;
select ops.attach_rails('public.ledger_accounts', 'finance.read', 'finance.write', 'finance.write', null);
select ops.set_rls_sample('public.ledger_accounts', '{"tenant_id": "$tenant", "code": "M-$n", "name": "Matrix $n", "kind": "asset"}');

create table public.journal_entries (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null references public.tenants (id),
  currency          char(3) not null constraint journal_entries_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  memo              text,
  -- what the entry is about (e.g. 'bid', '<id>'); external_key makes a post idempotent
  source_type       text,
  source_id         uuid,
  external_key      text constraint journal_entries_external_key_length_check check (length(external_key) between 1 and 200),
  reverses_entry_id uuid,
  posted_at         timestamptz not null default now(),
  posted_by         uuid default auth.uid(),
  trace_id          text,
  -- the transaction that posted it: lines are added only there
  txid              bigint not null default txid_current(),
  constraint journal_entries_tenant_id_unique unique (tenant_id, id),
  constraint journal_entries_external_key_unique unique (tenant_id, external_key),
  constraint journal_entries_reverses_unique unique (reverses_entry_id),
  constraint journal_entries_reverses_fk foreign key (tenant_id, reverses_entry_id) references public.journal_entries (tenant_id, id)
);
comment on table public.journal_entries is
  'Journal entries: one currency each, balanced at commit, immutable (corrections are reversing entries).';
create index journal_entries_source_idx on public.journal_entries (tenant_id, source_type, source_id);
select ops.attach_rails('public.journal_entries', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.journal_entries', '{"tenant_id": "$tenant", "currency": "USD", "memo": "matrix $n"}');

create table public.journal_lines (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id),
  entry_id     uuid not null,
  account_id   uuid not null,
  -- signed integer cents: debit > 0, credit < 0
  amount_cents bigint not null constraint journal_lines_amount_cents_nonzero_check check (amount_cents <> 0),
  memo         text,
  constraint journal_lines_entry_fk foreign key (tenant_id, entry_id) references public.journal_entries (tenant_id, id),
  constraint journal_lines_account_fk foreign key (tenant_id, account_id) references public.ledger_accounts (tenant_id, id)
);
comment on table public.journal_lines is
  'Journal lines in signed integer cents (debit > 0, credit < 0); each entry sums to zero.';
create index journal_lines_entry_idx on public.journal_lines (entry_id);
create index journal_lines_account_idx on public.journal_lines (account_id);
select ops.attach_rails('public.journal_lines', 'finance.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.journal_lines',
  '{"tenant_id": "$tenant", "entry_id": "$ref:journal_entries", "account_id": "$ref:ledger_accounts", "amount_cents": 100}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Posted is posted: no update, delete or truncate, whoever asks.
create function app_private.ledger_refuse_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  perform app_private.raise_error('ledger_immutable',
    format('%s rows are never %s; post a reversing entry', tg_table_name, lower(tg_op) || 'd'));
  return null;
end $$;
revoke execute on function app_private.ledger_refuse_change() from public;

-- A line joins an entry of its own transaction, in the entry's currency.
create function app_private.ledger_check_line() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  e public.journal_entries;
  v_currency text;
begin
  select * into e from public.journal_entries where id = new.entry_id;
  if e.txid is distinct from txid_current() then
    perform app_private.raise_error('ledger_immutable',
      format('entry %s is posted; lines are added only in the transaction that posts it', new.entry_id));
  end if;
  select a.currency into v_currency from public.ledger_accounts a where a.id = new.account_id;
  if v_currency is distinct from e.currency then
    perform app_private.raise_error('currency_mismatch',
      format('account %s is in %s, entry %s in %s', new.account_id, v_currency, e.id, e.currency));
  end if;
  return new;
end $$;
revoke execute on function app_private.ledger_check_line() from public;

-- Raises ledger_unbalanced unless the entry has >= 2 lines summing to zero.
create function app_private.ledger_check_entry(p_entry_id uuid) returns void
language plpgsql stable set search_path = '' as $$
declare
  v_sum bigint;
  v_n   int;
begin
  select coalesce(sum(l.amount_cents), 0), count(*) into v_sum, v_n
  from public.journal_lines l where l.entry_id = p_entry_id;
  if v_n < 2 or v_sum <> 0 then
    perform app_private.raise_error('ledger_unbalanced',
      format('journal entry %s: %s line(s) summing to %s cents (needs >= 2 lines summing to 0)', p_entry_id, v_n, v_sum),
      jsonb_build_object('entry_id', p_entry_id, 'lines', v_n, 'sum_cents', v_sum));
  end if;
end $$;
revoke execute on function app_private.ledger_check_entry(uuid) from public;

-- The deferred balance check (constraint trigger on entries and lines). Definer: at COMMIT
-- it runs as the session's role, outside the function that posted.
create function app_private.ledger_balance_trigger() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  -- (two branches: NEW of an entry has no entry_id, and PL/pgSQL resolves both arms of a CASE)
  if tg_table_name = 'journal_entries' then
    perform app_private.ledger_check_entry(new.id);
  else
    perform app_private.ledger_check_entry(new.entry_id);
  end if;
  return null;
end $$;
revoke execute on function app_private.ledger_balance_trigger() from public;

-- Posts one entry; no permission check (the freight functions call it inside their own
-- checks). p_lines: [{"account": "<code>" | "account_id": "<uuid>", "amount_cents": int, "memo"}].
-- A repeated external_key returns the entry it posted before.
create function app_private.ledger_post_internal(p_tenant_id uuid, p_currency text, p_lines jsonb,
                                                 p_memo text default null, p_source_type text default null,
                                                 p_source_id uuid default null, p_external_key text default null,
                                                 p_reverses uuid default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_id   uuid;
  l      jsonb;
  v_acct uuid;
  v_amt  jsonb;
begin
  if p_external_key is not null then
    select id into v_id from public.journal_entries where tenant_id = p_tenant_id and external_key = p_external_key;
    if v_id is not null then
      return v_id;
    end if;
  end if;
  if p_currency is null or p_currency !~ '^[A-Z]{3}$' then
    perform app_private.raise_error('bad_request', 'currency is a three-letter ISO code');
  end if;
  if jsonb_typeof(p_lines) is distinct from 'array' or jsonb_array_length(p_lines) < 2 then
    perform app_private.raise_error('ledger_unbalanced', 'an entry needs at least two lines');
  end if;
  insert into public.journal_entries (tenant_id, currency, memo, source_type, source_id, external_key,
                                      reverses_entry_id, posted_by, trace_id)
  values (p_tenant_id, p_currency, p_memo, p_source_type, p_source_id, p_external_key, p_reverses,
          app_private.principal_id(), (app_private.request_context()).trace_id)
  returning id into v_id;
  for l in select * from jsonb_array_elements(p_lines) loop
    v_amt := l -> 'amount_cents';
    if jsonb_typeof(v_amt) is distinct from 'number' or (v_amt #>> '{}')::numeric <> trunc((v_amt #>> '{}')::numeric)
       or (v_amt #>> '{}')::numeric = 0 then
      perform app_private.raise_error('bad_amount', format('line amount %s is not a non-zero integer of cents', coalesce(v_amt::text, 'null')));
    end if;
    if l ? 'account_id' then
      select a.id into v_acct from public.ledger_accounts a where a.id = (l ->> 'account_id')::uuid and a.tenant_id = p_tenant_id;
    else
      select a.id into v_acct from public.ledger_accounts a where a.code = l ->> 'account' and a.tenant_id = p_tenant_id;
    end if;
    if v_acct is null then
      perform app_private.raise_error('bad_request', format('no ledger account %s in the tenant', coalesce(l ->> 'account_id', l ->> 'account')));
    end if;
    insert into public.journal_lines (tenant_id, entry_id, account_id, amount_cents, memo)
    values (p_tenant_id, v_id, v_acct, (v_amt #>> '{}')::bigint, l ->> 'memo');
  end loop;
  -- fail now, with the entry's figures, rather than at COMMIT
  perform app_private.ledger_check_entry(v_id);
  perform app_private.audit_write(p_tenant_id, 'freight.ledger.post', 'journal_entry', v_id::text, null,
    jsonb_build_object('currency', p_currency, 'lines', jsonb_array_length(p_lines), 'source_type', p_source_type,
                       'source_id', p_source_id, 'reverses', p_reverses));
  perform app_private.freight_publish(p_tenant_id, 'journal_entry', v_id, case when p_reverses is null then 'posted' else 'reversed' end,
    jsonb_build_object('currency', p_currency, 'source_type', p_source_type, 'source_id', p_source_id, 'reverses_entry_id', p_reverses,
      'total_debit_cents', (select sum(amount_cents) from public.journal_lines where entry_id = v_id and amount_cents > 0)));
  return v_id;
end $$;
comment on function app_private.ledger_post_internal(uuid, text, jsonb, text, text, uuid, text, uuid) is
  'Posts a balanced journal entry (no permission check: for the freight functions); audited, event freight.journal_entry.posted.';
revoke execute on function app_private.ledger_post_internal(uuid, text, jsonb, text, text, uuid, text, uuid) from public;

-- Ledger post for API callers: finance.write in the tenant.
create function app_private.freight_ledger_post(p_tenant_id uuid, p_currency text, p_lines jsonb,
                                                p_memo text default null, p_source_type text default null,
                                                p_source_id uuid default null, p_external_key text default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
begin
  if p_tenant_id is null then
    perform app_private.raise_error('bad_request', 'p_tenant_id is required');
  end if;
  perform app_private.require_permission(p_tenant_id, 'finance.write');
  return app_private.ledger_post_internal(p_tenant_id, p_currency, p_lines, p_memo, p_source_type, p_source_id, p_external_key);
end $$;
comment on function app_private.freight_ledger_post(uuid, text, jsonb, text, text, uuid, text) is
  'Posts a balanced journal entry (finance.write in the tenant).';
grant execute on function app_private.freight_ledger_post(uuid, text, jsonb, text, text, uuid, text) to authenticated;

-- The correction: a new entry with every line negated, once per entry.
create function app_private.freight_ledger_reverse(p_entry_id uuid, p_memo text default null) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.journal_entries', p_entry_id, 'finance.write');
  e public.journal_entries;
begin
  select * into e from public.journal_entries where id = p_entry_id;
  if e.reverses_entry_id is not null or exists (select 1 from public.journal_entries r where r.reverses_entry_id = p_entry_id) then
    perform app_private.raise_error('ledger_immutable', format('entry %s is a reversal or is reversed already', p_entry_id));
  end if;
  return app_private.ledger_post_internal(v_tenant, e.currency,
    (select jsonb_agg(jsonb_build_object('account_id', l.account_id, 'amount_cents', -l.amount_cents, 'memo', l.memo))
     from public.journal_lines l where l.entry_id = p_entry_id),
    coalesce(p_memo, 'reversal of ' || p_entry_id), e.source_type, e.source_id, null, p_entry_id);
end $$;
comment on function app_private.freight_ledger_reverse(uuid, text) is
  'Reverses a journal entry with a new, negated entry (finance.write); an entry is reversed once.';
grant execute on function app_private.freight_ledger_reverse(uuid, text) to authenticated;

-- Balance of an account (or of a party's accounts of one subtype), in cents.
create function app_private.ledger_party_balance(p_party_id uuid, p_subtype text) returns bigint
language sql stable security definer set search_path = '' as $$
  select coalesce(sum(l.amount_cents), 0)::bigint
  from public.ledger_accounts a join public.journal_lines l on l.account_id = a.id
  where a.party_id = p_party_id and a.subtype = p_subtype
$$;
revoke execute on function app_private.ledger_party_balance(uuid, text) from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger ledger_immutable before update or delete on public.journal_entries
  for each row execute function app_private.ledger_refuse_change();
create trigger ledger_immutable before update or delete on public.journal_lines
  for each row execute function app_private.ledger_refuse_change();
create trigger ledger_immutable_truncate before truncate on public.journal_entries
  for each statement execute function app_private.ledger_refuse_change();
create trigger ledger_immutable_truncate before truncate on public.journal_lines
  for each statement execute function app_private.ledger_refuse_change();
create trigger ledger_check_line before insert on public.journal_lines
  for each row execute function app_private.ledger_check_line();
create constraint trigger ledger_balanced after insert on public.journal_entries
  deferrable initially deferred for each row execute function app_private.ledger_balance_trigger();
create constraint trigger ledger_balanced after insert on public.journal_lines
  deferrable initially deferred for each row execute function app_private.ledger_balance_trigger();
