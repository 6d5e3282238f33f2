-- Freight demo data for the demo tenant (local and test stacks; insert-if-missing): the
-- brokerage itself, two shippers, three carriers with drivers and equipment, a factor,
-- facilities in four time zones, lanes, the accessorial catalogue, a chart of accounts,
-- outside users (a shipper user, two carrier users, a driver) and loads in different
-- states, so a board has something on it. Loads are inserted in their states directly (a
-- trusted session may import any state); every later change goes through the functions.
-- Dates are relative to the day the stack was first seeded.

-- Parties ---------------------------------------------------------------------------------
insert into public.parties (id, tenant_id, kind, name, mc_number, dot_number, scac, credit_limit_cents, remit_to_name) values
  ('c1000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'broker',  'Demo Freight Co',    null,     null,      null,   null,     null),
  ('c1000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000001', 'shipper', 'Acme Foods',         null,     null,      null,   5000000,  null),
  ('c1000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000001', 'shipper', 'Bluebird Retail',    null,     null,      null,   200000,   null),
  ('c1000000-0000-4000-8000-000000000011', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'Prairie Haulers',    '100011', '2000011', 'PRHL', null,     'Prairie Haulers LLC'),
  ('c1000000-0000-4000-8000-000000000012', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'Eastline Freight',   '100012', '2000012', 'ELFT', null,     'Eastline Freight Inc'),
  ('c1000000-0000-4000-8000-000000000013', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'Lone Star Carriers', '100013', '2000013', 'LSCR', null,     'Lone Star Carriers'),
  ('c1000000-0000-4000-8000-000000000021', 'd0000000-0000-4000-8000-000000000001', 'factor',  'Capital Factoring',  null,     null,      null,   null,     null)
on conflict (id) do nothing;

insert into public.carrier_profiles (tenant_id, party_id, authority_status, allowed_to_operate, safety_rating, checked_at)
select 'd0000000-0000-4000-8000-000000000001', p, 'active', true, r, now()
from (values ('c1000000-0000-4000-8000-000000000011'::uuid, 'satisfactory'),
             ('c1000000-0000-4000-8000-000000000012'::uuid, 'satisfactory'),
             ('c1000000-0000-4000-8000-000000000013'::uuid, 'conditional')) v(p, r)
on conflict on constraint carrier_profiles_party_unique do nothing;

-- Auto liability ($1M) and cargo ($100k) for each carrier; Lone Star's lapse in 10 days
-- (the insurance-expiring agent suspends it once that is within carrier.insuranceHorizonDays,
-- 7: not on a fresh stack, whose first ticks must not write into the demo tenant).
insert into public.carrier_insurance (id, tenant_id, party_id, kind, insurer, amount_cents, effective_on, expires_on)
select ('c5000000-0000-4000-8000-0000000000' || n)::uuid, 'd0000000-0000-4000-8000-000000000001', p, k, 'Demo Mutual', a,
       current_date - 200, current_date + d
from (values ('11', 'c1000000-0000-4000-8000-000000000011'::uuid, 'auto_liability', 100000000, 165),
             ('12', 'c1000000-0000-4000-8000-000000000011'::uuid, 'cargo',          10000000,  165),
             ('21', 'c1000000-0000-4000-8000-000000000012'::uuid, 'auto_liability', 100000000, 300),
             ('22', 'c1000000-0000-4000-8000-000000000012'::uuid, 'cargo',          10000000,  300),
             ('31', 'c1000000-0000-4000-8000-000000000013'::uuid, 'auto_liability', 75000000,  10),
             ('32', 'c1000000-0000-4000-8000-000000000013'::uuid, 'cargo',          10000000,  10)) v(n, p, k, a, d)
on conflict (id) do nothing;

-- Drivers (Sam's medical card has expired: dispatch refuses him) and equipment.
insert into public.drivers (id, tenant_id, carrier_party_id, name, cdl_state, cdl_expires_on, medical_card_expires_on)
select ('c2000000-0000-4000-8000-0000000000' || n)::uuid, 'd0000000-0000-4000-8000-000000000001', p, nm, st,
       current_date + cdl, current_date + med
from (values ('11', 'c1000000-0000-4000-8000-000000000011'::uuid, 'Pat Prairie', 'IL', 900, 400),
             ('12', 'c1000000-0000-4000-8000-000000000011'::uuid, 'Sam Prairie', 'IL', 900, -10),
             ('21', 'c1000000-0000-4000-8000-000000000012'::uuid, 'Eve Eastline', 'GA', 700, 300),
             ('31', 'c1000000-0000-4000-8000-000000000013'::uuid, 'Lou Star',     'TX', 500, 200)) v(n, p, nm, st, cdl, med)
on conflict (id) do nothing;

insert into public.equipment (id, tenant_id, carrier_party_id, unit_number, kind, trailer_type)
select ('c3000000-0000-4000-8000-0000000000' || n)::uuid, 'd0000000-0000-4000-8000-000000000001', p, u, k, t
from (values ('11', 'c1000000-0000-4000-8000-000000000011'::uuid, 'P-101', 'tractor', null),
             ('12', 'c1000000-0000-4000-8000-000000000011'::uuid, 'P-201', 'trailer', 'van'),
             ('21', 'c1000000-0000-4000-8000-000000000012'::uuid, 'E-101', 'tractor', null),
             ('22', 'c1000000-0000-4000-8000-000000000012'::uuid, 'E-201', 'trailer', 'reefer'),
             ('31', 'c1000000-0000-4000-8000-000000000013'::uuid, 'L-101', 'tractor', null),
             ('32', 'c1000000-0000-4000-8000-000000000013'::uuid, 'L-201', 'trailer', 'flatbed')) v(n, p, u, k, t)
on conflict (id) do nothing;

-- Facilities, lanes, accessorials --------------------------------------------------------
insert into public.facilities (id, tenant_id, party_id, name, address_line, city, region, postal_code, time_zone) values
  ('c4000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000002', 'Acme DC Chicago',  '1200 W Fulton St',   'Chicago', 'IL', '60607', 'America/Chicago'),
  ('c4000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000002', 'Acme Dallas',      '400 Commerce St',    'Dallas',  'TX', '75202', 'America/Chicago'),
  ('c4000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000003', 'Bluebird Atlanta', '55 Peachtree Ctr',   'Atlanta', 'GA', '30303', 'America/New_York'),
  ('c4000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000003', 'Bluebird Newark',  '10 Port St',         'Newark',  'NJ', '07114', 'America/New_York'),
  ('c4000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000001', null,                                   'Denver Yard',      '4800 Race St',       'Denver',  'CO', '80216', 'America/Denver'),
  ('c4000000-0000-4000-8000-000000000006', 'd0000000-0000-4000-8000-000000000001', null,                                   'Phoenix Crossdock','2100 S 7th St',      'Phoenix', 'AZ', '85034', 'America/Phoenix')
on conflict (id) do nothing;

insert into public.lanes (tenant_id, name, origin_city, origin_region, destination_city, destination_region, equipment_type, miles) values
  ('d0000000-0000-4000-8000-000000000001', 'Chicago - Dallas van',      'Chicago', 'IL', 'Dallas',  'TX', 'van',     925),
  ('d0000000-0000-4000-8000-000000000001', 'Atlanta - Newark reefer',   'Atlanta', 'GA', 'Newark',  'NJ', 'reefer',  870),
  ('d0000000-0000-4000-8000-000000000001', 'Denver - Phoenix flatbed',  'Denver',  'CO', 'Phoenix', 'AZ', 'flatbed', 820)
on conflict on constraint lanes_name_unique do nothing;

insert into public.accessorials (tenant_id, code, name, unit, default_rate_cents) values
  ('d0000000-0000-4000-8000-000000000001', 'DETENTION', 'Detention after free time', 'hour', 7500),
  ('d0000000-0000-4000-8000-000000000001', 'TONU',      'Truck ordered, not used',   'flat', 25000),
  ('d0000000-0000-4000-8000-000000000001', 'LUMPER',    'Lumper (unloading) fee',    'flat', 15000),
  ('d0000000-0000-4000-8000-000000000001', 'LAYOVER',   'Layover',                   'day',  30000),
  ('d0000000-0000-4000-8000-000000000001', 'STOP_OFF',  'Additional stop',           'stop', 10000)
on conflict on constraint accessorials_code_unique do nothing;

-- Chart of accounts ------------------------------------------------------------------------
insert into public.ledger_accounts (tenant_id, code, name, kind, subtype, party_id) values
  ('d0000000-0000-4000-8000-000000000001', '1000',      'Cash',                     'asset',     'cash',       null),
  ('d0000000-0000-4000-8000-000000000001', '1200',      'Accounts receivable',      'asset',     'receivable', null),
  ('d0000000-0000-4000-8000-000000000001', '1200:ACME', 'Receivable: Acme Foods',   'asset',     'receivable', 'c1000000-0000-4000-8000-000000000002'),
  ('d0000000-0000-4000-8000-000000000001', '2000',      'Accounts payable',         'liability', 'payable',    null),
  ('d0000000-0000-4000-8000-000000000001', '2100',      'Load board escrow',        'liability', 'escrow',     null),
  ('d0000000-0000-4000-8000-000000000001', '4000',      'Freight revenue',          'revenue',   'revenue',    null),
  ('d0000000-0000-4000-8000-000000000001', '5000',      'Carrier cost',             'expense',   'cost',       null)
on conflict on constraint ledger_accounts_code_unique do nothing;

-- Outside users: a shipper user, two carrier users, a driver ---------------------------
insert into public.principals (id, kind, name, display_name) values
  ('e0000000-0000-4000-8000-000000000010', 'human', 'shipper@acme-foods.test',        'Ana Acme (shipper_user)'),
  ('e0000000-0000-4000-8000-000000000011', 'human', 'dispatch@prairie-haulers.test',  'Pete Prairie (carrier_user)'),
  ('e0000000-0000-4000-8000-000000000012', 'human', 'driver@prairie-haulers.test',    'Pat Prairie (driver)'),
  ('e0000000-0000-4000-8000-000000000013', 'human', 'dispatch@eastline-freight.test', 'Ed Eastline (carrier_user)')
on conflict (id) do nothing;

insert into public.role_assignments (principal_id, role, tenant_id) values
  ('e0000000-0000-4000-8000-000000000010', 'shipper_user', 'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000011', 'carrier_user', 'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000012', 'driver',       'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000013', 'carrier_user', 'd0000000-0000-4000-8000-000000000001')
on conflict on constraint role_assignments_unique do nothing;

insert into public.party_members (tenant_id, principal_id, party_id, driver_id) values
  ('d0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000010', 'c1000000-0000-4000-8000-000000000002', null),
  ('d0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000011', 'c1000000-0000-4000-8000-000000000011', null),
  ('d0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000012', 'c1000000-0000-4000-8000-000000000011', 'c2000000-0000-4000-8000-000000000011'),
  ('d0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000013', 'c1000000-0000-4000-8000-000000000012', null)
on conflict (tenant_id, principal_id) do nothing;

-- Orders and loads in different states ---------------------------------------------------
insert into public.orders (id, tenant_id, reference, shipper_party_id)
select ('c6000000-0000-4000-8000-0000000000' || n)::uuid, 'd0000000-0000-4000-8000-000000000001', 'DEMO-ORD-10' || n, shipper::uuid
from (values ('01', 'c1000000-0000-4000-8000-000000000002'), ('02', 'c1000000-0000-4000-8000-000000000002'),
             ('03', 'c1000000-0000-4000-8000-000000000002'), ('04', 'c1000000-0000-4000-8000-000000000003'),
             ('05', 'c1000000-0000-4000-8000-000000000002'), ('06', 'c1000000-0000-4000-8000-000000000002'),
             ('07', 'c1000000-0000-4000-8000-000000000003')) v(n, shipper)
on conflict (id) do nothing;

-- load n: carrier (P = Prairie, E = Eastline, L = Lone Star), its driver and units, status
insert into public.loads (id, tenant_id, order_id, reference, shipper_party_id, carrier_party_id, driver_id, tractor_id,
                          trailer_id, equipment_type, status, weight_lbs, commodity)
select ('c7000000-0000-4000-8000-0000000000' || v.n)::uuid, o.tenant_id, o.id, 'DEMO-10' || v.n, o.shipper_party_id,
       c.party, case when v.assigned then c.driver end, case when v.assigned then c.tractor end,
       case when v.assigned then c.trailer end, v.equipment, v.status, 38000, 'General merchandise'
from (values ('01', null, false, 'draft', 'van'), ('02', null, false, 'open', 'van'), ('03', null, false, 'tendered', 'van'),
             ('04', 'E', false, 'covered', 'reefer'), ('05', 'P', true, 'dispatched', 'van'),
             ('06', 'L', true, 'in_transit', 'flatbed'), ('07', 'E', true, 'delivered', 'reefer')) v(n, carrier, assigned, status, equipment)
join public.orders o on o.id = ('c6000000-0000-4000-8000-0000000000' || v.n)::uuid
left join (values ('P', 'c1000000-0000-4000-8000-000000000011'::uuid, 'c2000000-0000-4000-8000-000000000011'::uuid,
                   'c3000000-0000-4000-8000-000000000011'::uuid, 'c3000000-0000-4000-8000-000000000012'::uuid),
                  ('E', 'c1000000-0000-4000-8000-000000000012'::uuid, 'c2000000-0000-4000-8000-000000000021'::uuid,
                   'c3000000-0000-4000-8000-000000000021'::uuid, 'c3000000-0000-4000-8000-000000000022'::uuid),
                  ('L', 'c1000000-0000-4000-8000-000000000013'::uuid, 'c2000000-0000-4000-8000-000000000031'::uuid,
                   'c3000000-0000-4000-8000-000000000031'::uuid, 'c3000000-0000-4000-8000-000000000032'::uuid))
          c(code, party, driver, tractor, trailer) on c.code = v.carrier
on conflict (id) do nothing;

-- Pickup 08:00-10:00 and delivery two days later 13:00-15:00, in each facility's own time;
-- actuals where the load is past the stop.
insert into public.stops (id, tenant_id, load_id, sequence, kind, facility_id, appointment, actual_arrival_at,
                          actual_departure_at, shipper_party_id)
select ('c8000000-0000-4000-8000-000000000' || r.n || s.seq)::uuid, l.tenant_id, l.id, s.seq::int, s.kind, f.id,
       tstzrange(((current_date + r.day + s.days) + s.opens) at time zone f.time_zone,
                 ((current_date + r.day + s.days) + s.opens + interval '2 hours') at time zone f.time_zone),
       case when s.kind = 'pickup' and l.status in ('in_transit', 'delivered') or s.kind = 'delivery' and l.status = 'delivered'
            then ((current_date + r.day + s.days) + s.opens + interval '20 minutes') at time zone f.time_zone end,
       case when s.kind = 'pickup' and l.status in ('in_transit', 'delivered') or s.kind = 'delivery' and l.status = 'delivered'
            then ((current_date + r.day + s.days) + s.opens + interval '90 minutes') at time zone f.time_zone end,
       l.shipper_party_id
from (values ('01', 1, 2, 6), ('02', 1, 2, 4), ('03', 1, 2, 3), ('04', 3, 4, 2), ('05', 1, 2, 1), ('06', 5, 6, 0),
             ('07', 3, 4, -3)) r(n, origin, dest, day)
join public.loads l on l.id = ('c7000000-0000-4000-8000-0000000000' || r.n)::uuid
cross join (values ('1', 'pickup', 0, time '08:00'), ('2', 'delivery', 2, time '13:00')) s(seq, kind, days, opens)
join public.facilities f on f.id = ('c4000000-0000-4000-8000-00000000000' || case when s.kind = 'pickup' then r.origin else r.dest end)::uuid
on conflict (id) do nothing;

-- Load 03 is tendered to Prairie Haulers (answer within a day of seeding).
insert into public.tenders (id, tenant_id, load_id, carrier_party_id, offered_rate_cents, sla_deadline, lane)
values ('c9000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000001',
        'c7000000-0000-4000-8000-000000000003', 'c1000000-0000-4000-8000-000000000011', 196000, now() + interval '1 day',
        '{"origin": "Chicago, IL", "destination": "Dallas, TX", "equipment_type": "van"}')
on conflict (id) do nothing;

-- Sell lines (to the shipper) for every load; buy lines (to the carrier) once covered.
insert into public.charge_lines (id, tenant_id, load_id, side, party_id, kind, amount_cents, source_type)
select ('ca000000-0000-4000-8000-0000000000' || v.n)::uuid, l.tenant_id, l.id, 'sell', l.shipper_party_id, 'linehaul', v.sell, 'order'
from (values ('01', 240000), ('02', 235000), ('03', 238000), ('04', 260000), ('05', 242000), ('06', 210000), ('07', 255000)) v(n, sell)
join public.loads l on l.id = ('c7000000-0000-4000-8000-0000000000' || v.n)::uuid
on conflict (id) do nothing;
insert into public.charge_lines (id, tenant_id, load_id, side, party_id, kind, amount_cents, source_type)
select ('cb000000-0000-4000-8000-0000000000' || v.n)::uuid, l.tenant_id, l.id, 'buy', l.carrier_party_id, 'linehaul', v.buy, 'manual'
from (values ('04', 215000), ('05', 198000), ('06', 172000), ('07', 209000)) v(n, buy)
join public.loads l on l.id = ('c7000000-0000-4000-8000-0000000000' || v.n)::uuid
on conflict (id) do nothing;

-- The in-transit and delivered loads' tracking timeline (214 codes at their stops).
insert into public.load_events (tenant_id, load_id, stop_id, source_event_id, kind, status_code, occurred_at, source,
                                shipper_party_id)
select 'd0000000-0000-4000-8000-000000000001', s.load_id, s.id, 'demo-' || s.id || '-' || e.code, 'tracking', e.code,
       case when e.at = 'arrival' then s.actual_arrival_at else s.actual_departure_at end, 'driver_app', s.shipper_party_id
from public.stops s
cross join (values ('X3', 'pickup', 'arrival'), ('AF', 'pickup', 'departure'),
                   ('X1', 'delivery', 'arrival'), ('D1', 'delivery', 'departure')) e(code, kind, at)
where s.tenant_id = 'd0000000-0000-4000-8000-000000000001' and s.kind = e.kind and s.actual_arrival_at is not null
  and s.id::text like 'c8000000-%'
on conflict on constraint load_events_source_event_unique do nothing;
