-- Rates demo data (idempotent): a DOE-style diesel table, and for the demo tenant some lane
-- history, market index rows and pricing guards.

-- Weekly diesel, USD/gal, Mondays 2025-2027 (a smooth synthetic series around $3.70).
insert into public.rates_diesel_weeks (week_of, price)
select d::date, round((3.70 + 0.25 * sin(extract(epoch from d) / (86400 * 365.0) * 2 * pi()))::numeric, 3)
from generate_series('2025-01-06'::date, '2027-12-27'::date, interval '7 days') d
on conflict (week_of) do nothing;

-- Lane history: Chicago (606) -> Dallas (752), van, 12 loads; and region-level loads.
insert into public.rates_lane_history
  (id, tenant_id, origin_zip3, destination_zip3, origin_region, destination_region, equipment, rate_per_mile, shipped_on)
select ('f1000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'd0000000-0000-4000-8000-000000000001', '606', '752', 'east_north_central', 'west_south_central',
       'van', 2.05 + (n % 5) * 0.06, current_date - n * 6
from generate_series(1, 12) n
on conflict (id) do nothing;

insert into public.rates_lane_history
  (id, tenant_id, origin_zip3, destination_zip3, origin_region, destination_region, equipment, rate_per_mile, shipped_on)
select ('f2000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid,
       'd0000000-0000-4000-8000-000000000001', '604', '770', 'east_north_central', 'west_south_central',
       'van', 2.15 + (n % 4) * 0.05, current_date - n * 9
from generate_series(1, 20) n
on conflict (id) do nothing;

-- Market index rows (as index_ingest would write them).
insert into public.rates_index
  (tenant_id, origin_zip3, destination_zip3, origin_region, destination_region, equipment, rate_per_mile, sample_size, effective_date, source)
values
  ('d0000000-0000-4000-8000-000000000001', '606', '752', 'east_north_central', 'west_south_central', 'van', 2.28, 140, current_date - 2, 'demo-index'),
  ('d0000000-0000-4000-8000-000000000001', '606', '902', 'east_north_central', 'pacific', 'van', 2.61, 95, current_date - 2, 'demo-index'),
  ('d0000000-0000-4000-8000-000000000001', '606', '752', 'east_north_central', 'west_south_central', 'reefer', 2.74, 60, current_date - 2, 'demo-index')
on conflict on constraint rates_index_row_unique do nothing;

-- Guards: a tenant-wide margin floor and index band, and a tight ceiling on one lane so a
-- quote there comes back needs_approval.
insert into public.rates_guards (id, tenant_id, label, equipment, origin, destination,
                                 min_margin_pct, max_index_deviation_pct, ceiling_per_mile)
values
  ('f3000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'tenant default',
   null, null, null, 8, 30, null),
  ('f3000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000001', 'LA lane ceiling',
   'van', '606', '902', null, null, 2.00)
on conflict (id) do nothing;
