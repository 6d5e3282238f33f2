-- Freight (the shared domain every portal uses): the demo shipments table. It shows a
-- domain table under the rails in one line (ops.attach_rails), and the pgTAP kill-switch,
-- audit and RLS tests write to it. Shared-domain tables are named by entity.
--
-- Sections: tables.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.shipments (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  reference    text not null constraint shipments_reference_not_blank_check check (length(btrim(reference)) > 0),
  status       text not null default 'draft'
               constraint shipments_status_allowed_check
               check (status in ('draft', 'tendered', 'booked', 'in_transit', 'delivered', 'cancelled')),
  origin       text,
  destination  text,
  carrier_name text,
  rate_usd     numeric(12, 2) constraint shipments_rate_usd_nonnegative_check check (rate_usd >= 0),
  created_by   uuid default auth.uid(),
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint shipments_reference_unique unique (tenant_id, reference)
);
comment on table public.shipments is 'Demo domain table (loads/shipments) under the rails.';
-- domain.read / domain.write / domain.delete, kill switch, immediate row audit
select ops.attach_rails('public.shipments');
-- RLS matrix sample row
select ops.set_rls_sample('public.shipments', '{"tenant_id": "$tenant", "reference": "MATRIX-$n"}');
