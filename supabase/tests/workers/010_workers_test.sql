-- Workers SQL (supabase/migrations/*_workers_portal.sql): 30 items over 3 on-shift workers
-- are spread within one item of even, skill and off-shift workers respected; ending a shift
-- reassigns that worker's open items; rebalance evens an overloaded worker; overlapping
-- shifts refused; coverage gaps of a 24/7 rule found; permissions.
begin;
select plan(16);

insert into public.tenants (id, slug, name) values ('f1910000-0000-4000-8000-000000000001', 'workers-pgtap', 'Workers pgTAP');
insert into public.principals (id, kind, name, display_name)
select ('f1910000-0000-4000-8000-0000000000a' || n)::uuid, 'human', 'w' || n || '@workers-pgtap.test', 'W' || n from generate_series(1, 6) n;
insert into public.role_assignments (principal_id, role, tenant_id)
select ('f1910000-0000-4000-8000-0000000000a' || n)::uuid, case when n = 6 then 'ops_manager' else 'dispatcher' end,
       'f1910000-0000-4000-8000-000000000001' from generate_series(1, 6) n;
-- w1..w3 dispatch, w4 finance only, w5 dispatch but off shift; w6 the ops manager
insert into public.workers_staff (tenant_id, principal_id, skills)
select 'f1910000-0000-4000-8000-000000000001', ('f1910000-0000-4000-8000-0000000000a' || n)::uuid,
       case when n = 4 then '{finance}' else '{dispatch}' end::text[] from generate_series(1, 5) n;
insert into public.workers_queues (tenant_id, key, name, skill, sla_minutes, min_coverage) values
  ('f1910000-0000-4000-8000-000000000001', 'exceptions', 'Exceptions', 'dispatch', 30, 1),
  ('f1910000-0000-4000-8000-000000000001', 'approvals', 'Approvals', 'finance', 120, 0);

create function pg_temp.t() returns uuid language sql as $$ select 'f1910000-0000-4000-8000-000000000001'::uuid $$;
create function pg_temp.w(n int) returns uuid language sql as $$ select ('f1910000-0000-4000-8000-0000000000a' || n)::uuid $$;
-- open items per worker, as "n,n,n" in principal order (w1..w5)
create function pg_temp.loads() returns text language sql as $$
  select string_agg(coalesce(c, 0)::text, ',' order by n) from generate_series(1, 5) n
  left join (select assigned_to, count(*) c from public.workers_items where tenant_id = pg_temp.t() and status = 'open' group by 1) x
         on x.assigned_to = pg_temp.w(n)
$$;
grant execute on all functions in schema pg_temp to public;

select tests.act_as('w6@workers-pgtap.test', pg_temp.t(), '{"portal": "workers"}');
create temp table shifts as
select n, (app_private.workers_shift_add(pg_temp.t(), pg_temp.w(n), now() - interval '1 hour', now() + interval '7 hours') ->> 'shift_id')::uuid as id
from generate_series(1, 4) n;
grant select on shifts to public;
select is((select count(*)::int from shifts), 4, 'four shifts now (w5 has none)');
select throws_ok($$select app_private.workers_shift_add(pg_temp.t(), pg_temp.w(1), now() + interval '6 hours', now() + interval '10 hours')$$,
  'SY195', null, 'an overlapping shift: shift_overlap');
select throws_ok($$select app_private.workers_shift_add(pg_temp.t(), 'f1910000-0000-4000-8000-0000000000a6', now(), now() + interval '1 hour')$$,
  'SY196', null, 'someone not on the roster: worker_unknown');
select lives_ok($$select app_private.workers_shift_add(pg_temp.t(), pg_temp.w(5), now() + interval '12 hours', now() + interval '20 hours')$$,
  'w5 works tonight');

-- 30 exceptions through the door other portals use
select tests.act_as('w1@workers-pgtap.test', pg_temp.t(), '{"portal": "broker"}');
select lives_ok($$select app_private.workers_enqueue(pg_temp.t(), 'exceptions', 'freight.load', 'L-' || n, 'Load exception ' || n, 3, 'exc:' || n)
                  from generate_series(1, 30) n$$, 'a dispatcher enqueues 30 exceptions');
select is(pg_temp.loads(), '10,10,10,0,0', '30 items over the 3 on-shift dispatchers: 10 each (no finance worker, nobody off shift)');
select is((app_private.workers_enqueue(pg_temp.t(), 'exceptions', 'freight.load', 'L-1', 'again', 3, 'exc:1')) ->> 'replayed', 'true',
  'the same open dedupe key returns its item');
select is((app_private.workers_enqueue(pg_temp.t(), 'approvals', 'rates.quote', 'Q-1', 'Approve quote', 2)) ->> 'assigned_to',
  pg_temp.w(4)::text, 'an approval goes to the finance worker');
select throws_ok($$select app_private.workers_enqueue(pg_temp.t(), 'nope', 'x', null, 'x')$$, 'SY196', null, 'no such queue: worker_unknown');
select throws_ok($$select app_private.workers_rebalance(pg_temp.t())$$, 'SY021', null, 'a dispatcher cannot rebalance: forbidden');

-- w2's shift ends: its 10 go to w1 and w3 (15 each)
select tests.act_as('w6@workers-pgtap.test', pg_temp.t(), '{"portal": "workers"}');
select is((app_private.workers_shift_end((select id from shifts where n = 2))) ->> 'held', '10', 'ending w2''s shift: it held 10');
select is(pg_temp.loads(), '15,0,15,1,0', 'its 10 open items went to the on-shift dispatchers, evenly');

-- an overloaded worker (items moved by hand to w1) is evened by rebalance
select tests.act_as_owner();
update public.workers_items set assigned_to = pg_temp.w(1) where tenant_id = pg_temp.t() and assigned_to = pg_temp.w(3)
   and id in (select id from public.workers_items where assigned_to = pg_temp.w(3) order by id limit 8);
select is(pg_temp.loads(), '23,0,7,1,0', 'w1 overloaded');
select tests.act_as('w6@workers-pgtap.test', pg_temp.t(), '{"portal": "workers"}');
select is((app_private.workers_rebalance(pg_temp.t())) ->> 'moved', '8', 'rebalance moves 8');
select is(pg_temp.loads(), '15,0,15,1,0', 'back within one item of even');

-- coverage: exceptions need one dispatcher 24/7; w1/w3 cover until +7h, w5 from +12h to +20h
select results_eq($$select queue_key, gap_start, gap_end from app_private.workers_coverage_gaps(pg_temp.t(), date_trunc('hour', now()), date_trunc('hour', now()) + interval '24 hours')$$,
  $$select 'exceptions'::text, w.ends_at, n.starts_at from public.workers_shifts w, public.workers_shifts n
    where w.principal_id = pg_temp.w(1) and n.principal_id = pg_temp.w(5)
    union all
    select 'exceptions'::text, n.ends_at, date_trunc('hour', now()) + interval '24 hours' from public.workers_shifts n where n.principal_id = pg_temp.w(5)$$,
  'gaps: between the day shifts'' end and w5''s start, and after w5 to the window''s end');

select * from finish();
rollback;
