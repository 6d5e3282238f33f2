-- Carrier portal demo data (insert-if-missing): every demo carrier has a user (Prairie's and
-- Eastline's are in 20_freight.sql; Lone Star's here), capacity on its lane for the next
-- days and a contract lane. Lone Star's insurance lapses 10 days after seeding
-- (20_freight.sql): the compliance agent suspends it once that is within 7 days.

insert into public.principals (id, kind, name, display_name) values
  ('e0000000-0000-4000-8000-000000000014', 'human', 'dispatch@lone-star-carriers.test', 'Lee Star (carrier_user)')
on conflict (id) do nothing;

insert into public.role_assignments (principal_id, role, tenant_id) values
  ('e0000000-0000-4000-8000-000000000014', 'carrier_user', 'd0000000-0000-4000-8000-000000000001')
on conflict on constraint role_assignments_unique do nothing;

insert into public.party_members (tenant_id, principal_id, party_id, driver_id) values
  ('d0000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-8000-000000000014', 'c1000000-0000-4000-8000-000000000013', null)
on conflict (tenant_id, principal_id) do nothing;

-- Trucks available on each carrier's lane, the next three days.
insert into public.carrier_capacity (tenant_id, carrier_party_id, origin_region, destination_region, equipment_type, available_on, trucks)
select 'd0000000-0000-4000-8000-000000000001', c.party, c.o, c.d, c.eq, current_date + n, c.trucks
from (values ('c1000000-0000-4000-8000-000000000011'::uuid, 'IL', 'TX', 'van', 3),
             ('c1000000-0000-4000-8000-000000000012'::uuid, 'GA', 'NJ', 'reefer', 2),
             ('c1000000-0000-4000-8000-000000000013'::uuid, 'CO', 'AZ', 'flatbed', 1)) c(party, o, d, eq, trucks)
cross join generate_series(1, 3) n
on conflict on constraint carrier_capacity_lane_day_unique do nothing;

insert into public.carrier_contract_lanes (id, tenant_id, carrier_party_id, origin_city, origin_region, destination_city,
                                           destination_region, equipment_type, rate_cents, trucks_per_week, valid_from, valid_to)
values
  ('cc000000-0000-4000-8000-000000000011', 'd0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000011',
   'Chicago', 'IL', 'Dallas', 'TX', 'van', 190000, 5, current_date - 30, current_date + 335),
  ('cc000000-0000-4000-8000-000000000012', 'd0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000012',
   'Atlanta', 'GA', 'Newark', 'NJ', 'reefer', 205000, 3, current_date - 30, current_date + 335),
  ('cc000000-0000-4000-8000-000000000013', 'd0000000-0000-4000-8000-000000000001', 'c1000000-0000-4000-8000-000000000013',
   'Denver', 'CO', 'Phoenix', 'AZ', 'flatbed', 180000, 2, current_date - 30, current_date + 335)
on conflict (id) do nothing;
