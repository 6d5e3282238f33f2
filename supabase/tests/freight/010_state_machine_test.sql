-- The state machines, generated from their transition tables (public.freight_transitions):
-- for every machine, every ordered pair of distinct states is tried from every door that
-- exists, and each listed pair succeeds while every pair in the complement is refused with
-- illegal_transition (SY100). Doors (each attempt rolled back):
--   load:   a dispatcher through the portal function (freight_load_transition; into
--           dispatched: freight_load_dispatch), agents@ (the agents' door; not into
--           dispatched, which agents may not do), psql (the owner calling the same
--           functions), and a direct UPDATE of loads.status as the dispatcher and as the
--           owner: a legal pair is then status_bypass (SY101), an illegal one SY100;
--   tender: psql (the owner calling freight_tender_move, the machine's one writer) and a
--           direct UPDATE (SY101 / SY100).
-- The HTTP doors (portal actions as a dispatcher and as agents@, signed) try the same
-- complement in tests/integration/freight/illegal-transitions.test.ts.
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
alter default privileges grant execute on functions to public;

-- An eligible carrier with an active driver and units, a shipper and an order.
insert into public.parties (id, tenant_id, kind, name) values
  ('5a000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'shipper', 'SM shipper'),
  ('5a000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000001', 'carrier', 'SM carrier');
insert into public.carrier_profiles (tenant_id, party_id, authority_status, allowed_to_operate)
values ('d0000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002', 'active', true);
insert into public.carrier_insurance (tenant_id, party_id, kind, amount_cents, effective_on, expires_on)
select 'd0000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002', k, 100000000, current_date - 1, current_date + 365
from unnest(array['auto_liability', 'cargo']) k;
insert into public.drivers (id, tenant_id, carrier_party_id, name, cdl_expires_on, medical_card_expires_on)
values ('5a000000-0000-4000-8000-000000000003', 'd0000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002',
        'SM driver', current_date + 365, current_date + 365);
insert into public.equipment (id, tenant_id, carrier_party_id, unit_number, kind, trailer_type) values
  ('5a000000-0000-4000-8000-000000000004', 'd0000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002', 'SM-T', 'tractor', null),
  ('5a000000-0000-4000-8000-000000000005', 'd0000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002', 'SM-V', 'trailer', 'van');
insert into public.orders (id, tenant_id, reference, shipper_party_id)
values ('5a000000-0000-4000-8000-000000000006', 'd0000000-0000-4000-8000-000000000001', 'SM-ORDER', '5a000000-0000-4000-8000-000000000001');

-- One load per state (inserted in that state: the owner may import any state), carrier
-- and driver assigned so every state's preconditions hold; one tender per tender state.
create temp table sm_entities as
select s.machine, s.state, gen_random_uuid() as id from public.freight_states s where s.machine in ('load', 'tender');
insert into public.loads (id, tenant_id, order_id, reference, shipper_party_id, carrier_party_id, driver_id, tractor_id, trailer_id, status)
select e.id, 'd0000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000006', 'SM-' || e.state,
       '5a000000-0000-4000-8000-000000000001', '5a000000-0000-4000-8000-000000000002', '5a000000-0000-4000-8000-000000000003',
       '5a000000-0000-4000-8000-000000000004', '5a000000-0000-4000-8000-000000000005', e.state
from sm_entities e where e.machine = 'load';
insert into public.tenders (id, tenant_id, load_id, carrier_party_id, offered_rate_cents, counter_rate_cents, sla_deadline, status)
select e.id, 'd0000000-0000-4000-8000-000000000001',
       -- (one accepted tender per load: the others' load)
       (select id from sm_entities where machine = 'load' and state = case when e.state = 'accepted' then 'covered' else 'open' end),
       '5a000000-0000-4000-8000-000000000002', 100000, 90000, now() + interval '1 hour', e.state
from sm_entities e where e.machine = 'tender';
grant select on sm_entities to public;

-- Runs p_sql as p_actor (null: the owner) and always rolls back: 'ok:<status after>' or the
-- SQLSTATE; an illegal_transition also gives the pair its DETAIL names ('SY100 from->to'),
-- which the edge passes on in the problem (machine, from, to).
create function pg_temp.attempt(p_actor text, p_sql text, p_table regclass, p_id uuid) returns text language plpgsql as $$
declare
  v text;
  v_state text;
  v_detail text;
begin
  begin
    if p_actor is null then perform tests.act_as_owner(); else perform tests.act_as(p_actor); end if;
    execute p_sql;
    execute format('select status from %s where id = $1', p_table) into v using p_id;
    raise exception using errcode = 'P0M01', message = v;
  exception
    when sqlstate 'P0M01' then
      perform tests.act_as_owner();
      return 'ok:' || sqlerrm;
    when others then
      get stacked diagnostics v_state = returned_sqlstate, v_detail = pg_exception_detail;
      perform tests.act_as_owner();
      return case when v_state = 'SY100' then format('SY100 %s->%s', v_detail::jsonb ->> 'from', v_detail::jsonb ->> 'to') else v_state end;
  end;
end $$;

create temp table sm_cases as
with pairs as (
  select a.machine, a.state as from_state, b.state as to_state, e.id,
         exists (select 1 from public.freight_transitions t
                 where t.machine = a.machine and t.from_state = a.state and t.to_state = b.state) as legal
  from public.freight_states a
  join public.freight_states b on b.machine = a.machine and b.state <> a.state
  join sm_entities e on e.machine = a.machine and e.state = a.state
  where a.machine in ('load', 'tender')
),
doors(machine, door, actor, kind) as (values
  ('load', 'dispatcher', 'dispatch@demo-freight.test', 'function'),
  ('load', 'agents', 'agents', 'function'),
  ('load', 'psql', null, 'function'),
  ('load', 'update as dispatcher', 'dispatch@demo-freight.test', 'update'),
  ('load', 'update as owner', null, 'update'),
  ('tender', 'psql', null, 'function'),
  ('tender', 'update as owner', null, 'update'))
select p.*, d.door, d.actor, d.kind,
       case when d.kind = 'update' then format('update public.%ss set status = %L where id = %L', p.machine, p.to_state, p.id)
            when p.machine = 'tender' then format('select app_private.freight_tender_move(%L, %L)', p.id, p.to_state)
            when p.to_state = 'dispatched' then format(
              'select app_private.freight_load_dispatch(%L, ''5a000000-0000-4000-8000-000000000003'', '
              '''5a000000-0000-4000-8000-000000000004'', ''5a000000-0000-4000-8000-000000000005'')', p.id)
            else format('select app_private.freight_load_transition(%L, %L)', p.id, p.to_state) end as sql,
       case when d.kind = 'update' then case when p.legal then 'SY101' else format('SY100 %s->%s', p.from_state, p.to_state) end
            when p.legal then 'ok:' || p.to_state else format('SY100 %s->%s', p.from_state, p.to_state) end as expected
from pairs p join doors d on d.machine = p.machine
where not (d.door = 'agents' and p.to_state = 'dispatched');

select plan((select count(*)::int from sm_cases) + 2);
select diag(format('state machines: %s load pairs (%s legal), %s tender pairs (%s legal); %s attempts over their doors, '
                   '%s of them on the complement (refused SY100 naming from and to)',
  (select count(*) from sm_cases where machine = 'load' and door = 'psql'),
  (select count(*) from sm_cases where machine = 'load' and door = 'psql' and legal),
  (select count(*) from sm_cases where machine = 'tender' and door = 'psql'),
  (select count(*) from sm_cases where machine = 'tender' and door = 'psql' and legal),
  (select count(*) from sm_cases), (select count(*) from sm_cases where not legal)));

select is(pg_temp.attempt(c.actor, c.sql, ('public.' || c.machine || 's')::regclass, c.id), c.expected,
          format('%s %s -> %s via %s: %s', c.machine, c.from_state, c.to_state, c.door,
                 case when c.legal then 'listed' else 'not listed' end))
from sm_cases c order by c.machine, c.from_state, c.to_state, c.door;

-- The refusal names the machine and the pair, for the edge's problem+json.
select throws_ok($$select app_private.freight_load_transition((select id from sm_entities where machine = 'load' and state = 'draft'), 'delivered')$$,
  'SY100', format('illegal_transition: load %s cannot go from draft to delivered',
                  (select id from sm_entities where machine = 'load' and state = 'draft')),
  'the refusal names the load and both states');

-- Nothing changed: every attempt was rolled back, and the loads are where they were put.
select is((select count(*)::int from public.loads l join sm_entities e on e.id = l.id where l.status <> e.state), 0,
          'every fixture is still in its state');

select * from finish();
rollback;
