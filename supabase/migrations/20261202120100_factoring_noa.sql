-- Factoring (issue 15): Notices of Assignment and Letters of Release. A factor that bought a
-- carrier's receivables sends a Notice of Assignment (NOA): from then on the carrier's bills
-- are paid to the factor. A Letter of Release ends it; pay goes to the carrier again. The
-- rule lives in Postgres: a trigger on financials_payouts refuses a payout to the carrier
-- while an active NOA names a factor (noa_active), and a payee that is neither the carrier
-- nor its active factor (payee_invalid), whichever door writes the row.
--
-- Sections: tables; functions; triggers.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.factoring_noas (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null references public.tenants (id),
  carrier_party_id  uuid not null,
  factor_party_id   uuid not null,
  status            text not null default 'active' constraint factoring_noas_status_allowed_check check (status in ('active', 'released')),
  effective_on      date not null default current_date,
  document_id       uuid,
  released_at       timestamptz,
  release_reason    text,
  created_at        timestamptz not null default now(),
  constraint factoring_noas_release_check check ((status = 'released') = (released_at is not null and release_reason is not null)),
  constraint factoring_noas_distinct_check check (carrier_party_id <> factor_party_id),
  constraint factoring_noas_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id),
  constraint factoring_noas_factor_fk foreign key (tenant_id, factor_party_id) references public.parties (tenant_id, id),
  constraint factoring_noas_document_fk foreign key (document_id) references public.documents (id)
);
comment on table public.factoring_noas is
  'Notices of Assignment (active: the carrier''s pay goes to the factor) and their Letters of Release (released).';
-- one active NOA per carrier
create unique index factoring_noas_active_unique on public.factoring_noas (tenant_id, carrier_party_id) where status = 'active';
select ops.attach_rails('public.factoring_noas', 'finance.read', null, null, null, p_audit => 'deferred');
-- (released: an active sample NOA would, rightly, refuse the payouts sample paying the carrier)
select ops.set_rls_sample('public.factoring_noas', '{"tenant_id": "$tenant", "carrier_party_id": "$carrier", "factor_party_id": "$shipper",
  "status": "released", "released_at": "2030-01-01T00:00:00Z", "release_reason": "matrix"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Whom a carrier's bill is paid to: the factor of its active NOA, else the carrier.
create function app_private.factoring_payee(p_tenant_id uuid, p_carrier_party_id uuid) returns uuid
language sql stable security definer set search_path = '' as $$
  select coalesce((select n.factor_party_id from public.factoring_noas n
                   where n.tenant_id = p_tenant_id and n.carrier_party_id = p_carrier_party_id and n.status = 'active'
                     and n.effective_on <= current_date), p_carrier_party_id)
$$;
revoke execute on function app_private.factoring_payee(uuid, uuid) from public;

-- Records an NOA (finance.write): the factor must be a factor party of the tenant.
create function app_private.factoring_noa_record(p_carrier_party_id uuid, p_factor_party_id uuid, p_effective_on date default null,
                                                 p_document_id uuid default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.parties', p_carrier_party_id, 'finance.write');
  v_id uuid;
begin
  if not exists (select 1 from public.parties where id = p_carrier_party_id and kind = 'carrier')
     or not exists (select 1 from public.parties where id = p_factor_party_id and tenant_id = v_tenant and kind = 'factor') then
    perform app_private.raise_error('noa_conflict', 'an NOA names a carrier and a factor party of the same tenant');
  end if;
  if exists (select 1 from public.factoring_noas where tenant_id = v_tenant and carrier_party_id = p_carrier_party_id and status = 'active') then
    perform app_private.raise_error('noa_conflict', 'the carrier has an active NOA; record its Letter of Release first');
  end if;
  insert into public.factoring_noas (tenant_id, carrier_party_id, factor_party_id, effective_on, document_id)
  values (v_tenant, p_carrier_party_id, p_factor_party_id, coalesce(p_effective_on, current_date), p_document_id)
  returning id into v_id;
  perform app_private.financials_record(v_tenant, 'noa', v_id, 'recorded',
    jsonb_build_object('carrier_party_id', p_carrier_party_id, 'factor_party_id', p_factor_party_id), 'factoring');
  return jsonb_build_object('noa_id', v_id, 'status', 'active');
end $$;
comment on function app_private.factoring_noa_record(uuid, uuid, date, uuid) is
  'Records a Notice of Assignment (finance.write): the carrier''s pay goes to the factor while it is active.';
grant execute on function app_private.factoring_noa_record(uuid, uuid, date, uuid) to authenticated;

-- The Letter of Release (finance.write): the NOA ends; pay goes to the carrier again.
create function app_private.factoring_noa_release(p_noa_id uuid, p_reason text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.factoring_noas', p_noa_id, 'finance.write');
  n public.factoring_noas;
begin
  if p_reason is null or length(btrim(p_reason)) = 0 then
    perform app_private.raise_error('bad_request', 'a Letter of Release states its reason');
  end if;
  update public.factoring_noas set status = 'released', released_at = now(), release_reason = p_reason
  where id = p_noa_id and status = 'active' returning * into n;
  if not found then
    perform app_private.raise_error('noa_conflict', format('NOA %s is not active', p_noa_id));
  end if;
  perform app_private.financials_record(v_tenant, 'noa', n.id, 'released', jsonb_build_object('carrier_party_id', n.carrier_party_id), 'factoring');
  return jsonb_build_object('noa_id', n.id, 'status', n.status);
end $$;
comment on function app_private.factoring_noa_release(uuid, text) is
  'Records a Letter of Release (finance.write): the active NOA ends; the carrier is paid directly again.';
grant execute on function app_private.factoring_noa_release(uuid, text) to authenticated;

-- A payout goes to whom the NOA rules say: the carrier is refused while an NOA is active.
create function app_private.factoring_payout_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_carrier uuid;
  v_due uuid;
begin
  select carrier_party_id into v_carrier from public.financials_bills where id = new.bill_id;
  v_due := app_private.factoring_payee(new.tenant_id, v_carrier);
  if new.payee_party_id = v_carrier and v_due <> v_carrier then
    perform app_private.raise_error('noa_active',
      format('an active Notice of Assignment names factor %s for carrier %s: pay the factor, or record a Letter of Release', v_due, v_carrier),
      jsonb_build_object('carrier_party_id', v_carrier, 'factor_party_id', v_due));
  end if;
  if new.payee_party_id <> v_due then
    perform app_private.raise_error('payee_invalid', format('payee %s is neither the carrier nor its active factor', new.payee_party_id));
  end if;
  return new;
end $$;
revoke execute on function app_private.factoring_payout_guard() from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
create trigger factoring_payout_guard before insert on public.financials_payouts
  for each row execute function app_private.factoring_payout_guard();
