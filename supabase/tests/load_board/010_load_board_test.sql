-- The load board in Postgres, as the demo tenant's real users (supabase/seeds/20_freight.sql):
-- the dispatcher posts; the anti-duplicate rules refuse (or merge) from every door, psql
-- included; carriers bid and see only their own bids; the dispatcher accepts one: the load
-- is covered through the core, the others rejected, the amount held in escrow; delivery
-- releases it, a cancel refunds it; the ledger balances throughout; bids expire past their
-- response deadline and reopen; a merge is undone.
begin;
alter default privileges grant execute on functions to public;
select plan(40);

create temp table ids (name text primary key, id uuid);
insert into ids values
  ('acme', 'c1000000-0000-4000-8000-000000000002'), ('prairie', 'c1000000-0000-4000-8000-000000000011'),
  ('eastline', 'c1000000-0000-4000-8000-000000000012'), ('pat', 'c2000000-0000-4000-8000-000000000011'),
  ('p_tractor', 'c3000000-0000-4000-8000-000000000011'), ('p_trailer', 'c3000000-0000-4000-8000-000000000012'),
  ('chicago', 'c4000000-0000-4000-8000-000000000001'), ('dallas', 'c4000000-0000-4000-8000-000000000002');
grant all on ids to public;
create function pg_temp.id(p text) returns uuid language sql as $$ select id from ids where name = p $$;
-- An open load of Acme's, Chicago -> Dallas van, picking up p_days from today.
create function pg_temp.book(p_days int) returns uuid language sql as $$
  select (app_private.freight_order_book(jsonb_build_object('shipper_party_id', pg_temp.id('acme'), 'equipment_type', 'van',
    'sell', jsonb_build_object('linehaul_cents', 200000),
    'stops', jsonb_build_array(
      jsonb_build_object('kind', 'pickup', 'facility_id', pg_temp.id('chicago'),
        'window_start_local', (current_date + p_days) || ' 08:00', 'window_end_local', (current_date + p_days) || ' 10:00'),
      jsonb_build_object('kind', 'delivery', 'facility_id', pg_temp.id('dallas'),
        'window_start_local', (current_date + p_days + 2) || ' 13:00', 'window_end_local', (current_date + p_days + 2) || ' 15:00')))) ->> 'load_id')::uuid
$$;
-- Entries of the tenant that do not sum to zero (0: the ledger balances).
create function pg_temp.unbalanced() returns bigint language sql as $$
  select count(*) from (select entry_id from public.journal_lines where tenant_id = 'd0000000-0000-4000-8000-000000000001'
                        group by entry_id having sum(amount_cents) <> 0) u
$$;
create function pg_temp.balance(p_code text) returns bigint language sql as $$
  select coalesce(sum(l.amount_cents), 0)::bigint from public.journal_lines l join public.ledger_accounts a on a.id = l.account_id
  where a.tenant_id = 'd0000000-0000-4000-8000-000000000001' and a.code = p_code
$$;

select tests.act_as('dispatch@demo-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
insert into ids select 'l1', pg_temp.book(12);
insert into ids select 'l2', pg_temp.book(12);
insert into ids select 'l3', pg_temp.book(13);
insert into ids select 'p1', (app_private.load_board_post_create(pg_temp.id('l1'), '{"target_rate_cents": 180000}') ->> 'post_id')::uuid;

-- posting
select results_eq($$select status, origin_city, destination_region, equipment_type, pickup_on, target_rate_cents
                    from public.load_board_posts where id = pg_temp.id('p1')$$,
  $$values ('open'::text, 'Chicago'::text, 'TX'::text, 'van'::text, current_date + 12, 180000::bigint)$$,
  'the dispatcher posts an open load: lane, day and equipment from the load');

-- anti-duplicate
select throws_ok($$select app_private.load_board_post_create(pg_temp.id('l1'))$$, 'SY140', null, 'the same load posted twice: load_board_duplicate_load');
select throws_ok($$select app_private.load_board_post_create(pg_temp.id('l2'))$$, 'SY141', null,
  'the same lane, day and equipment from the same poster: load_board_duplicate_lane');
select throws_ok($$select app_private.load_board_post_create(pg_temp.id('l2'), '{"target_rate_cents": 10.5}')$$, 'SY114', null,
  'a fractional target rate: bad_amount');
insert into ids select 'p2', (app_private.load_board_post_create(pg_temp.id('l2'), '{"on_duplicate": "merge"}') ->> 'post_id')::uuid;
select results_eq($$select status, merged_into from public.load_board_posts where id = pg_temp.id('p2')$$,
  $$values ('merged'::text, pg_temp.id('p1'))$$, 'on_duplicate merge: the second post is merged into the first');
insert into ids select 'p3', (app_private.load_board_post_create(pg_temp.id('l3')) ->> 'post_id')::uuid;
select is((select status from public.load_board_posts where id = pg_temp.id('p3')), 'open', 'another pickup day is another post');
select tests.act_as_owner();
select is((select payload ->> 'source_portal' from public.outbox_events where event_type = 'freight.load_board_post.posted'
           and aggregate_id = pg_temp.id('p1')::text), 'load_board', 'freight.load_board_post.posted, door load_board');
select throws_ok($$insert into public.load_board_posts (tenant_id, load_id, pickup_on, equipment_type)
                   values ('d0000000-0000-4000-8000-000000000001', pg_temp.id('l1'), current_date + 12, 'van')$$, 'SY140', null,
  'psql is refused the duplicate load too (the trigger)');
select throws_ok($$update public.load_board_posts set status = 'open' where id = pg_temp.id('p2')$$, 'SY141', null,
  'and reopening the merged twin by hand: load_board_duplicate_lane');
select throws_ok($$insert into public.load_board_posts (tenant_id, load_id, pickup_on, equipment_type)
                   values ('d0000000-0000-4000-8000-000000000001', 'c7000000-0000-4000-8000-000000000004', current_date, 'reefer')$$,
  'SY144', null, 'a covered load is not postable');

-- bids
select tests.act_as('dispatch@prairie-haulers.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
select throws_ok($$select app_private.load_board_bid_place(pg_temp.id('p1'), 0)$$, 'SY114', null, 'a zero bid: bad_amount');
select throws_ok($$select app_private.load_board_bid_place(pg_temp.id('p2'), 170000)$$, 'SY142', null, 'a bid on a merged post: load_board_post_closed');
select throws_ok($$select app_private.load_board_bid_place(pg_temp.id('p1'), 170000, null, pg_temp.id('eastline'))$$, 'SY021', null,
  'a carrier user bids for its own company only');
insert into ids select 'b_prairie_old', (app_private.load_board_bid_place(pg_temp.id('p1'), 185000) ->> 'bid_id')::uuid;
insert into ids select 'b_prairie', (app_private.load_board_bid_place(pg_temp.id('p1'), 179000, 'can do') ->> 'bid_id')::uuid;
select is((select status from public.bids where id = pg_temp.id('b_prairie_old')), 'withdrawn', 'a new bid replaces the carrier''s open one');
select ok((select respond_by between now() + interval '119 minutes' and now() + interval '121 minutes' from public.bids where id = pg_temp.id('b_prairie')),
  'answer by now + load_board.bidResponseMinutes (120)');
select tests.act_as('dispatch@eastline-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
insert into ids select 'b_east', (app_private.load_board_bid_place(pg_temp.id('p1'), 175000) ->> 'bid_id')::uuid;
select results_eq($$select carrier_party_id from public.bids where post_id = pg_temp.id('p1')$$, $$values (pg_temp.id('eastline'))$$,
  'Eastline reads its own bid only');
select is((select count(*)::int from public.load_board_posts where id in (pg_temp.id('p1'), pg_temp.id('p3'))), 2, 'and the board''s posts');
select is((select count(*)::int from public.charge_lines where load_id = pg_temp.id('l1')), 0, 'never the load''s sell rate');
select throws_ok($$select app_private.load_board_bid_withdraw(pg_temp.id('b_prairie'))$$, 'SY021', null, 'nor withdraws Prairie''s bid');
select throws_ok($$select app_private.load_board_bid_accept(pg_temp.id('b_east'))$$, 'SY021', null, 'a carrier cannot award (load_board.award)');
select tests.act_as('dispatch@prairie-haulers.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
select is((select count(*)::int from public.bids where post_id = pg_temp.id('p1')), 2, 'Prairie reads its two (one withdrawn), not Eastline''s');

-- accept: covered through the core, the others rejected, escrow held, ledger balanced
select tests.act_as('dispatch@demo-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
create temp table accepted as select app_private.load_board_bid_accept(pg_temp.id('b_east')) as r;
grant select on accepted to public;
select results_eq($$select status, carrier_party_id from public.loads where id = pg_temp.id('l1')$$,
  $$values ('covered'::text, pg_temp.id('eastline'))$$, 'accepting Eastline''s bid covers the load with Eastline');
select results_eq($$select status from public.bids where id in (pg_temp.id('b_east'), pg_temp.id('b_prairie')) order by amount_cents$$,
  $$values ('accepted'::text), ('rejected'::text)$$, 'the other open bid is rejected');
select is((select amount_cents from public.charge_lines where load_id = pg_temp.id('l1') and side = 'buy'), 175000::bigint, 'the buy line is the bid');
select is((select status from public.load_board_posts where id = pg_temp.id('p1')), 'covered', 'the post is covered');
select results_eq($$select status, merged_into from public.load_board_posts where id = pg_temp.id('p2')$$,
  $$values ('open'::text, null::uuid)$$, 'the post merged into it is a post of its own again');
select tests.act_as_owner();
select results_eq($$select status, amount_cents from public.load_board_escrows where bid_id = pg_temp.id('b_east')$$,
  $$values ('held'::text, 175000::bigint)$$, 'the bid''s amount is held in escrow');
select is(pg_temp.balance('1150:' || pg_temp.id('eastline')), 175000::bigint, 'Eastline''s escrow account holds it');
select is(pg_temp.unbalanced(), 0::bigint, 'every entry balances');
select lives_ok($$set constraints all immediate$$, 'and would commit (the deferred balance check)');
set constraints all deferred;

-- delivery releases the escrow
select tests.act_as('dispatch@eastline-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "carrier"}');
select app_private.freight_load_dispatch(pg_temp.id('l1'), 'c2000000-0000-4000-8000-000000000021', 'c3000000-0000-4000-8000-000000000021', null);
select app_private.freight_load_event_record(pg_temp.id('l1'), '{"source_event_id": "lb-pgtap-d1", "status_code": "D1", "stop_sequence": 2}');
select tests.act_as_owner();
select is((select status from public.loads where id = pg_temp.id('l1')), 'delivered', 'the load is delivered');
select is((select status from public.load_board_escrows where bid_id = pg_temp.id('b_east')), 'released', 'its escrow is released');
select is(pg_temp.balance('1150:' || pg_temp.id('eastline')), 0::bigint, 'the escrow account is empty again');
select ok(pg_temp.balance('5000') >= 175000, 'the amount went to carrier cost');

-- cancel refunds; the bid SLA
select tests.act_as('dispatch@prairie-haulers.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
insert into ids select 'b3', (app_private.load_board_bid_place(pg_temp.id('p2'), 160000) ->> 'bid_id')::uuid;
insert into ids select 'b4', (app_private.load_board_bid_place(pg_temp.id('p3'), 150000) ->> 'bid_id')::uuid;
select tests.act_as('dispatch@demo-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
select app_private.load_board_bid_accept(pg_temp.id('b3'));
select app_private.broker_load_cancel(pg_temp.id('l2'), 'customer cancelled');
select is((select status from public.load_board_escrows where bid_id = pg_temp.id('b3')), 'refunded', 'a cancelled load refunds its escrow');
select throws_ok($$select app_private.load_board_bid_expire(pg_temp.id('b4'))$$, 'SY017', null, 'a bid inside its deadline is not expired');
select tests.act_as_owner();
update public.bids set respond_by = now() - interval '1 minute' where id = pg_temp.id('b4');
select tests.act_as('dispatch@demo-freight.test', 'd0000000-0000-4000-8000-000000000001', '{"portal": "load_board"}');
select throws_ok($$select app_private.load_board_bid_accept(pg_temp.id('b4'))$$, 'SY143', null, 'past its deadline a bid is not accepted');
select is(app_private.load_board_bid_expire(pg_temp.id('b4')) ->> 'status', 'expired', 'it expires');
select is(app_private.load_board_bid_reopen(pg_temp.id('b4')) ->> 'status', 'open', 'and reopens (the undo) with a fresh deadline');
select tests.act_as_owner();
select is(pg_temp.unbalanced(), 0::bigint, 'after hold, release, hold and refund every entry still balances');

select * from finish();
rollback;
