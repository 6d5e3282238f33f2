-- public.freight_carrier_scorecard: computed from load events and tenders, in a tenant of
-- its own so every figure is exact; a carrier user sees only its own row (security invoker).
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
select plan(6);

insert into public.tenants (id, slug, name) values ('5c000000-0000-4000-8000-0000000000aa', 'scorecard-co', 'Scorecard Co');
insert into public.parties (id, tenant_id, kind, name) values
  ('5c000000-0000-4000-8000-000000000001', '5c000000-0000-4000-8000-0000000000aa', 'shipper', 'SC shipper'),
  ('5c000000-0000-4000-8000-000000000002', '5c000000-0000-4000-8000-0000000000aa', 'carrier', 'SC carrier A'),
  ('5c000000-0000-4000-8000-000000000003', '5c000000-0000-4000-8000-0000000000aa', 'carrier', 'SC carrier B');
insert into public.facilities (id, tenant_id, name, time_zone) values
  ('5c000000-0000-4000-8000-000000000004', '5c000000-0000-4000-8000-0000000000aa', 'SC origin', 'America/Chicago'),
  ('5c000000-0000-4000-8000-000000000005', '5c000000-0000-4000-8000-0000000000aa', 'SC destination', 'America/Chicago');
insert into public.orders (id, tenant_id, reference, shipper_party_id)
values ('5c000000-0000-4000-8000-000000000006', '5c000000-0000-4000-8000-0000000000aa', 'SC-ORDER', '5c000000-0000-4000-8000-000000000001');
-- two loads of carrier A (imported in their states by the owner)
insert into public.loads (id, tenant_id, order_id, reference, shipper_party_id, carrier_party_id, status)
select id::uuid, '5c000000-0000-4000-8000-0000000000aa', '5c000000-0000-4000-8000-000000000006', ref,
       '5c000000-0000-4000-8000-000000000001', '5c000000-0000-4000-8000-000000000002', 'delivered'
from (values ('5c000000-0000-4000-8000-000000000011', 'SC-1'), ('5c000000-0000-4000-8000-000000000012', 'SC-2')) v(id, ref);
-- windows: pickup 08:00-10:00, delivery 13:00-15:00 (UTC) on 2026-12-01
insert into public.stops (id, tenant_id, load_id, sequence, kind, facility_id, appointment, shipper_party_id)
select s.id::uuid, '5c000000-0000-4000-8000-0000000000aa', s.load::uuid, s.seq, s.kind, s.fac::uuid, s.w::tstzrange,
       '5c000000-0000-4000-8000-000000000001'
from (values
  ('5c000000-0000-4000-8000-000000000021', '5c000000-0000-4000-8000-000000000011', 1, 'pickup',   '5c000000-0000-4000-8000-000000000004', '[2026-12-01 08:00+00,2026-12-01 10:00+00)'),
  ('5c000000-0000-4000-8000-000000000022', '5c000000-0000-4000-8000-000000000011', 2, 'delivery', '5c000000-0000-4000-8000-000000000005', '[2026-12-01 13:00+00,2026-12-01 15:00+00)'),
  ('5c000000-0000-4000-8000-000000000023', '5c000000-0000-4000-8000-000000000012', 1, 'pickup',   '5c000000-0000-4000-8000-000000000004', '[2026-12-01 08:00+00,2026-12-01 10:00+00)'),
  ('5c000000-0000-4000-8000-000000000024', '5c000000-0000-4000-8000-000000000012', 2, 'delivery', '5c000000-0000-4000-8000-000000000005', '[2026-12-01 13:00+00,2026-12-01 15:00+00)')
) s(id, load, seq, kind, fac, w);
-- load 1: at pickup 09:00 (on time; the later AF does not count), at delivery 16:00 (late);
-- load 2: at pickup 11:00 (late), delivery not completed (AP: a claim, not an arrival)
insert into public.load_events (tenant_id, load_id, stop_id, source_event_id, kind, status_code, occurred_at, shipper_party_id)
select '5c000000-0000-4000-8000-0000000000aa', e.load::uuid, e.stop::uuid, 'sc-' || e.n, e.kind, e.code, e.at::timestamptz,
       '5c000000-0000-4000-8000-000000000001'
from (values
  (1, '5c000000-0000-4000-8000-000000000011', '5c000000-0000-4000-8000-000000000021', 'tracking', 'X3', '2026-12-01 09:00+00'),
  (2, '5c000000-0000-4000-8000-000000000011', '5c000000-0000-4000-8000-000000000021', 'tracking', 'AF', '2026-12-01 11:30+00'),
  (3, '5c000000-0000-4000-8000-000000000011', '5c000000-0000-4000-8000-000000000022', 'tracking', 'X1', '2026-12-01 16:00+00'),
  (4, '5c000000-0000-4000-8000-000000000012', '5c000000-0000-4000-8000-000000000023', 'tracking', 'X3', '2026-12-01 11:00+00'),
  (5, '5c000000-0000-4000-8000-000000000012', '5c000000-0000-4000-8000-000000000024', 'exception', 'AP', '2026-12-01 14:00+00')
) e(n, load, stop, kind, code, at);
-- tenders to A: accepted, declined, and a live offer (not decided: not counted)
insert into public.tenders (tenant_id, load_id, carrier_party_id, offered_rate_cents, accepted_rate_cents, sla_deadline, status)
values ('5c000000-0000-4000-8000-0000000000aa', '5c000000-0000-4000-8000-000000000011', '5c000000-0000-4000-8000-000000000002', 100000, 100000, now(), 'accepted'),
       ('5c000000-0000-4000-8000-0000000000aa', '5c000000-0000-4000-8000-000000000012', '5c000000-0000-4000-8000-000000000002', 100000, null, now(), 'declined'),
       ('5c000000-0000-4000-8000-0000000000aa', '5c000000-0000-4000-8000-000000000012', '5c000000-0000-4000-8000-000000000002', 100000, null, now() + interval '1 hour', 'offered');

-- a carrier user of A and a dispatcher of the tenant
insert into public.principals (id, kind, name, display_name) values
  ('5c000000-0000-4000-8000-000000000031', 'human', 'dispatch@sc-carrier-a.test', 'SC carrier user'),
  ('5c000000-0000-4000-8000-000000000032', 'human', 'dispatch@scorecard-co.test', 'SC dispatcher');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('5c000000-0000-4000-8000-000000000031', 'carrier_user', '5c000000-0000-4000-8000-0000000000aa'),
  ('5c000000-0000-4000-8000-000000000032', 'dispatcher', '5c000000-0000-4000-8000-0000000000aa');
insert into public.party_members (tenant_id, principal_id, party_id)
values ('5c000000-0000-4000-8000-0000000000aa', '5c000000-0000-4000-8000-000000000031', '5c000000-0000-4000-8000-000000000002');

select tests.act_as('dispatch@scorecard-co.test', '5c000000-0000-4000-8000-0000000000aa');
select results_eq(
  $$select loads, on_time_pickup_pct, on_time_delivery_pct, tender_acceptance_pct, claims
      from public.freight_carrier_scorecard('5c000000-0000-4000-8000-0000000000aa')
     where carrier_party_id = '5c000000-0000-4000-8000-000000000002'$$,
  $$values (2, 50.0::numeric, 0.0::numeric, 50.0::numeric, 1)$$,
  'carrier A: 2 loads, 1 of 2 pickups and 0 of 1 deliveries on time, 1 of 2 decided tenders accepted, 1 claim (AP)');
-- 0.3 x (100 + 160) / 4 + 0.4 x (0 + 160) / 3 + 0.3 x (100 + 160) / 4 - min(40, 200 x 1 / 2) = 20.3
select is((select score from public.freight_carrier_scorecard('5c000000-0000-4000-8000-0000000000aa')
            where carrier_party_id = '5c000000-0000-4000-8000-000000000002'), 20.3, 'carrier A scores 20.3');
select results_eq(
  $$select loads, on_time_pickup_pct, tender_acceptance_pct, claims, score
      from public.freight_carrier_scorecard('5c000000-0000-4000-8000-0000000000aa')
     where carrier_party_id = '5c000000-0000-4000-8000-000000000003'$$,
  $$values (0, null::numeric, null::numeric, 0, 80.0::numeric)$$,
  'carrier B, without history: no percentages, the neutral score 80');
select is((select array_agg(carrier_party_id order by score desc) from public.freight_carrier_scorecard('5c000000-0000-4000-8000-0000000000aa')),
  array['5c000000-0000-4000-8000-000000000003', '5c000000-0000-4000-8000-000000000002']::uuid[], 'best score first');

select tests.act_as('dispatch@sc-carrier-a.test', '5c000000-0000-4000-8000-0000000000aa');
select is((select array_agg(carrier_party_id) from public.freight_carrier_scorecard('5c000000-0000-4000-8000-0000000000aa')),
  array['5c000000-0000-4000-8000-000000000002']::uuid[], 'a carrier user gets its own row only');
select is((select count(*)::int from public.freight_carrier_scorecard('d0000000-0000-4000-8000-000000000001')), 0,
  'and nothing of another tenant');

select * from finish();
rollback;
