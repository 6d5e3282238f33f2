-- Freight: the carrier scorecard, computed from the tracking timeline and the tenders
-- (never typed in). The Carrier portal shows a carrier its own row; the broker's tender SLA
-- agent offers an expired tender's load to the best-scoring eligible carrier next.
--
-- Security invoker: the caller's RLS decides which rows it is computed from, so a carrier
-- user gets its own party only (party RLS on parties, loads, stops, load_events, tenders)
-- and staff every carrier of the tenant.
--
--   loads                  loads the carrier is or was on (any status)
--   on_time_pickup_pct     pickup stops first reported (X3, CP, AF: the earliest) no later
--                          than the end of their appointment window, of those reported
--   on_time_delivery_pct   the same for delivery stops (X1, D1, CD)
--   tender_acceptance_pct  tenders accepted (accepted_rate_cents set: accepted, even if later
--                          cancelled) of those decided (accepted, declined, expired)
--   claims                 loads with a 214 AP (delivery not completed): the timeline's
--                          claim signal until a claims table exists
--   score                  0..100: 30% pickup, 40% delivery, 30% acceptance, each smoothed
--                          towards 80% by two phantom observations (a new carrier is neither
--                          best nor worst), minus 200 x the claim rate (at most 40)
--
-- Sections: functions.

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
create function public.freight_carrier_scorecard(p_tenant uuid)
returns table (carrier_party_id uuid, loads int, on_time_pickup_pct numeric, on_time_delivery_pct numeric,
               tender_acceptance_pct numeric, claims int, score numeric)
language sql stable security invoker set search_path = '' as $$
  with carriers as (
    select p.id from public.parties p where p.tenant_id = p_tenant and p.kind = 'carrier'
  ),
  -- each reported stop of a carrier's load: the first time the timeline puts the truck there
  reported as (
    select l.carrier_party_id as carrier, s.kind, upper(s.appointment) as due, min(e.occurred_at) as at
    from public.loads l
    join public.stops s on s.load_id = l.id
    join public.load_events e on e.stop_id = s.id
    join public.x12_214_status_codes c on c.code = e.status_code and c.stop_kind = s.kind and not c.exception
    where l.tenant_id = p_tenant and l.carrier_party_id is not null
    group by l.carrier_party_id, s.id, s.kind, s.appointment
  ),
  stops_kpi as (
    select carrier,
           count(*) filter (where kind = 'pickup') as pickups,
           count(*) filter (where kind = 'pickup' and at <= due) as pickups_on_time,
           count(*) filter (where kind = 'delivery') as deliveries,
           count(*) filter (where kind = 'delivery' and at <= due) as deliveries_on_time
    from reported group by carrier
  ),
  loads_kpi as (
    select l.carrier_party_id as carrier, count(*) as loads,
           count(*) filter (where exists (select 1 from public.load_events e where e.load_id = l.id and e.status_code = 'AP')) as claims
    from public.loads l
    where l.tenant_id = p_tenant and l.carrier_party_id is not null
    group by l.carrier_party_id
  ),
  tenders_kpi as (
    select t.carrier_party_id as carrier,
           count(*) filter (where t.accepted_rate_cents is not null) as accepted,
           count(*) filter (where t.accepted_rate_cents is not null or t.status in ('declined', 'expired')) as decided
    from public.tenders t
    where t.tenant_id = p_tenant
    group by t.carrier_party_id
  ),
  kpi as (
    select c.id,
           coalesce(lk.loads, 0)::int as loads,
           coalesce(lk.claims, 0)::int as claims,
           coalesce(sk.pickups, 0) as pickups, coalesce(sk.pickups_on_time, 0) as pickups_on_time,
           coalesce(sk.deliveries, 0) as deliveries, coalesce(sk.deliveries_on_time, 0) as deliveries_on_time,
           coalesce(tk.decided, 0) as decided, coalesce(tk.accepted, 0) as accepted
    from carriers c
    left join loads_kpi lk on lk.carrier = c.id
    left join stops_kpi sk on sk.carrier = c.id
    left join tenders_kpi tk on tk.carrier = c.id
  )
  select k.id, k.loads,
         round(100.0 * k.pickups_on_time / nullif(k.pickups, 0), 1),
         round(100.0 * k.deliveries_on_time / nullif(k.deliveries, 0), 1),
         round(100.0 * k.accepted / nullif(k.decided, 0), 1),
         k.claims,
         greatest(0, round(
             0.3 * (100.0 * k.pickups_on_time + 160) / (k.pickups + 2)
           + 0.4 * (100.0 * k.deliveries_on_time + 160) / (k.deliveries + 2)
           + 0.3 * (100.0 * k.accepted + 160) / (k.decided + 2)
           - least(40, 200.0 * k.claims / greatest(k.loads, 1)), 1))
  from kpi k
  order by 7 desc, k.id
$$;
comment on function public.freight_carrier_scorecard(uuid) is
  'Per carrier of the tenant: loads, on-time pickup and delivery %, tender acceptance %, claims and a 0..100 score, from load events and tenders (security invoker: the caller''s RLS).';
revoke execute on function public.freight_carrier_scorecard(uuid) from public, anon;
grant execute on function public.freight_carrier_scorecard(uuid) to authenticated;
