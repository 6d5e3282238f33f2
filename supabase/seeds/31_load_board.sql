-- Load Board demo (local and test stacks): the dispatcher's posts of the open and the
-- tendered demo loads (DEMO-1002, DEMO-1003: Chicago -> Dallas, van) with carriers' bids, so
-- the board is alive on `npm start`. Lanes come from the loads' stops (20_freight.sql).
-- Bids answer within a day of seeding (load_board.bidResponseMinutes applies to new ones).
insert into public.load_board_posts (id, tenant_id, load_id, status, origin_city, origin_region, destination_city,
                                     destination_region, pickup_on, equipment_type, target_rate_cents, posted_by, expires_at)
select ('cd000000-0000-4000-8000-0000000000' || v.n)::uuid, l.tenant_id, l.id, 'open', o.city, o.region, d.city, d.region,
       (lower(ps.appointment) at time zone o.time_zone)::date, l.equipment_type, v.target,
       'e0000000-0000-4000-8000-000000000004', now() + interval '3 days'
from (values ('02', 190000), ('03', 185000)) v(n, target)
join public.loads l on l.id = ('c7000000-0000-4000-8000-0000000000' || v.n)::uuid and l.status in ('open', 'tendered')
join public.stops ps on ps.load_id = l.id and ps.sequence = 1
join public.facilities o on o.id = ps.facility_id
join public.stops ds on ds.load_id = l.id and ds.sequence = 2
join public.facilities d on d.id = ds.facility_id
on conflict (id) do nothing;

-- Prairie Haulers and Eastline Freight bid on DEMO-1002, Prairie on DEMO-1003.
insert into public.bids (id, tenant_id, post_id, load_id, carrier_party_id, amount_cents, respond_by, note)
select ('ce000000-0000-4000-8000-0000000000' || v.n)::uuid, p.tenant_id, p.id, p.load_id, v.carrier::uuid, v.amount,
       now() + interval '1 day', v.note
from (values ('01', '02', 'c1000000-0000-4000-8000-000000000011', 184000, 'Truck empty in Chicago that morning'),
             ('02', '02', 'c1000000-0000-4000-8000-000000000012', 179500, null),
             ('03', '03', 'c1000000-0000-4000-8000-000000000011', 182000, null)) v(n, post, carrier, amount, note)
join public.load_board_posts p on p.id = ('cd000000-0000-4000-8000-0000000000' || v.post)::uuid
on conflict (id) do nothing;
