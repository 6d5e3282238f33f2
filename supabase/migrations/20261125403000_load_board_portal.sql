-- Load Board portal: curated posts of open loads, anti-duplicate rules, carriers' bids with
-- a response SLA, and escrow (a hold on an accepted bid's funds in the core ledger, released
-- on delivery or refunded on cancel). The tables are the core's (load_board_posts, bids,
-- ledger_*): these functions write them, each in the caller's transaction with its outbox
-- events (freight.<entity>.<verb>, source_portal load_board) and audit rows.
--
-- Anti-duplicate, from every door (a trigger on load_board_posts, and indexes behind it):
--   the same load with two open posts      -> load_board_duplicate_load (refused)
--   one poster, two open posts of the same lane (origin and destination city and region,
--   case and spaces ignored), pickup day and equipment
--                                          -> load_board_duplicate_lane (refused, or merged:
--                                             load_board_post_create with on_duplicate merge)
-- Two posters posting the same lane / day / equipment is allowed at write time: the
-- duplicate-posts agent merges the newer into the older (reversible: unmerge).
--
-- Escrow (ledger, signed cents, debit > 0): accepting a bid holds its amount
--   hold     Dr 1150:<carrier> escrow (asset, the carrier's sub-ledger)   Cr 1000 cash
-- and the load's state settles it (a trigger on loads, whichever door moved it):
--   delivered                   Dr 5000 carrier cost        Cr 1150:<carrier>   (released)
--   cancelled, tonu, back open  Dr 1000 cash                Cr 1150:<carrier>   (refunded)
-- The accounts are created on first use in the entry's currency (code suffix -<CUR> when
-- not USD). An escrow account's balance is the sum of its held escrows.
--
-- Sections: permissions and grants (error codes, permissions); flags; tables; functions;
-- triggers and party policies.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('load_board_duplicate_load', 'SY140', 409, 'The load is posted already',
   'A load has one open post; update or withdraw it (the message names the post).'),
  ('load_board_duplicate_lane', 'SY141', 409, 'The same lane, day and equipment is posted already',
   'One poster has one open post per lane, pickup day and equipment; post with on_duplicate merge to fold it in (the message names the post).'),
  ('load_board_post_closed',    'SY142', 409, 'The post is not open',
   'The post was covered, withdrawn, merged (the message names the post it was merged into) or expired.'),
  ('load_board_bid_closed',     'SY143', 409, 'The bid is not open',
   'The bid was accepted, rejected, withdrawn, or its response deadline passed (reason expired).'),
  ('load_board_not_postable',   'SY144', 409, 'The load cannot be posted',
   'Only open or tendered loads with equipment and a pickup and delivery stop are posted.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('load_board.post',   'Post loads to the load board, update, withdraw, merge and unmerge posts'),
  ('load_board.browse', 'Browse the load board (carrier users: the posts and their own bids only)'),
  ('load_board.bid',    'Bid on a load board post (carrier users: for their own company)'),
  ('load_board.award',  'Accept a bid (covers the load, escrow hold), expire and reopen bids')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'load_board.post'), ('super_admin', 'load_board.browse'), ('super_admin', 'load_board.bid'), ('super_admin', 'load_board.award'),
  ('ops_manager', 'load_board.post'), ('ops_manager', 'load_board.browse'), ('ops_manager', 'load_board.bid'), ('ops_manager', 'load_board.award'),
  ('dispatcher', 'load_board.post'), ('dispatcher', 'load_board.browse'), ('dispatcher', 'load_board.bid'), ('dispatcher', 'load_board.award'),
  ('carrier_user', 'load_board.browse'), ('carrier_user', 'load_board.bid'),
  -- the agents merge duplicate posts and expire unanswered bids
  ('agents', 'load_board.post'), ('agents', 'load_board.browse'), ('agents', 'load_board.award')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('load_board.bidResponseMinutes', 'integer', 1, 10080, null, false, '{global,tenant}', '120', 'flags.global.write',
   'How long the broker has to answer a bid; past it the bid expires (the bid SLA agent)')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- The lane as the anti-duplicate rules compare it: origin and destination city and region,
-- trimmed and lower-cased (packages/portals/load_board/domain/lane.ts is the same rule).
create function app_private.load_board_lane_key(p_origin_city text, p_origin_region text,
                                                p_destination_city text, p_destination_region text)
returns text
language sql immutable set search_path = '' as $$
  select lower(concat_ws('|', btrim(coalesce(p_origin_city, '')), btrim(coalesce(p_origin_region, '')),
                              btrim(coalesce(p_destination_city, '')), btrim(coalesce(p_destination_region, ''))))
$$;
-- (pure; executable by the API roles: the unique index below evaluates it on their inserts)
grant execute on function app_private.load_board_lane_key(text, text, text, text) to authenticated;

-- Behind the trigger's clear refusal: one open post per poster, lane, day and equipment.
create unique index load_board_posts_one_open_lane_unique on public.load_board_posts
  (tenant_id, posted_by, app_private.load_board_lane_key(origin_city, origin_region, destination_city, destination_region),
   pickup_on, equipment_type)
  where status = 'open' and posted_by is not null;
create index load_board_posts_merged_into_idx on public.load_board_posts (merged_into) where merged_into is not null;
create index bids_open_due_idx on public.bids (respond_by) where status = 'open';
-- one live bid per carrier and post (a new bid replaces the carrier's open one)
create unique index bids_one_open_per_carrier_unique on public.bids (post_id, carrier_party_id) where status = 'open';

-- Escrow of an accepted bid: its ledger entries (hold, then release or refund). The state
-- is the ledger's: held while only the hold entry is posted. Written only by the functions.
create table public.load_board_escrows (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id),
  bid_id           uuid not null,
  load_id          uuid not null,
  carrier_party_id uuid not null,
  amount_cents     bigint not null constraint load_board_escrows_amount_cents_positive_check check (amount_cents > 0),
  currency         char(3) not null constraint load_board_escrows_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  status           text not null default 'held' constraint load_board_escrows_status_allowed_check
                   check (status in ('held', 'released', 'refunded')),
  account_id       uuid not null,
  hold_entry_id    uuid not null,
  settle_entry_id  uuid,
  held_at          timestamptz not null default now(),
  settled_at       timestamptz,
  constraint load_board_escrows_settled_check check ((status = 'held') = (settle_entry_id is null and settled_at is null)),
  constraint load_board_escrows_bid_unique unique (bid_id),
  constraint load_board_escrows_bid_fk foreign key (bid_id) references public.bids (id),
  constraint load_board_escrows_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id),
  constraint load_board_escrows_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id),
  constraint load_board_escrows_account_fk foreign key (tenant_id, account_id) references public.ledger_accounts (tenant_id, id),
  constraint load_board_escrows_hold_entry_fk foreign key (tenant_id, hold_entry_id) references public.journal_entries (tenant_id, id),
  constraint load_board_escrows_settle_entry_fk foreign key (tenant_id, settle_entry_id) references public.journal_entries (tenant_id, id)
);
comment on table public.load_board_escrows is
  'Escrow of accepted bids: the hold entry and its release (delivered) or refund (cancelled) entry in the ledger.';
create index load_board_escrows_load_idx on public.load_board_escrows (load_id) where status = 'held';
select ops.attach_rails('public.load_board_escrows', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.load_board_escrows',
  '{"tenant_id": "$tenant", "bid_id": "$ref:bids", "load_id": "$ref:loads", "carrier_party_id": "$carrier", "amount_cents": 100,
    "currency": "USD", "account_id": "$ref:ledger_accounts", "hold_entry_id": "$ref:journal_entries"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The anti-duplicate rules and the post's load (trigger on load_board_posts, every door).
create function app_private.load_board_post_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_other uuid;
begin
  if tg_op = 'INSERT' and new.status in ('open', 'merged') and (select l.status from public.loads l where l.id = new.load_id) not in ('open', 'tendered') then
    perform app_private.raise_error('load_board_not_postable', format('load %s is not open: only open or tendered loads are posted', new.load_id));
  end if;
  if new.status = 'open' then
    select p.id into v_other from public.load_board_posts p
     where p.load_id = new.load_id and p.status = 'open' and p.id <> new.id;
    if v_other is not null then
      perform app_private.raise_error('load_board_duplicate_load', format('load %s is posted already (post %s)', new.load_id, v_other),
        jsonb_build_object('reason', 'same_load', 'post_id', v_other));
    end if;
    v_other := app_private.load_board_lane_twin(new);
    if v_other is not null then
      perform app_private.raise_error('load_board_duplicate_lane',
        format('post %s has the same lane, pickup day and equipment from the same poster', v_other),
        jsonb_build_object('reason', 'same_lane', 'post_id', v_other));
    end if;
  elsif new.status = 'merged' then
    if new.merged_into is null or new.merged_into = new.id
       or (select p.status from public.load_board_posts p where p.id = new.merged_into) is distinct from 'open' then
      perform app_private.raise_error('load_board_post_closed', format('a post is merged into an open post (not %s)', coalesce(new.merged_into::text, 'none')));
    end if;
  end if;
  if new.status <> 'merged' then
    new.merged_into := null;
  end if;
  return new;
end $$;
revoke execute on function app_private.load_board_post_guard() from public;

-- The same poster's other open post of the post's lane, day and equipment (null: none).
create function app_private.load_board_lane_twin(p public.load_board_posts) returns uuid
language sql stable security definer set search_path = '' as $$
  select o.id from public.load_board_posts o
  where o.tenant_id = p.tenant_id and o.status = 'open' and o.id <> p.id and p.posted_by is not null
    and o.posted_by = p.posted_by and o.pickup_on = p.pickup_on and o.equipment_type = p.equipment_type
    and app_private.load_board_lane_key(o.origin_city, o.origin_region, o.destination_city, o.destination_region)
      = app_private.load_board_lane_key(p.origin_city, p.origin_region, p.destination_city, p.destination_region)
  order by o.created_at, o.id limit 1
$$;
revoke execute on function app_private.load_board_lane_twin(public.load_board_posts) from public;

-- A post as the board shows it (no sell rate exists on it; bids are read under RLS apart).
create function app_private.load_board_post_json(p_post_id uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object('post_id', p.id, 'load_id', p.load_id, 'status', p.status, 'merged_into', p.merged_into,
    'origin_city', p.origin_city, 'origin_region', p.origin_region, 'destination_city', p.destination_city,
    'destination_region', p.destination_region, 'pickup_on', p.pickup_on, 'equipment_type', p.equipment_type,
    'target_rate_cents', p.target_rate_cents, 'currency', p.currency, 'expires_at', p.expires_at)
  from public.load_board_posts p where p.id = p_post_id
$$;
revoke execute on function app_private.load_board_post_json(uuid) from public;

-- Posts merged into p_post_id become posts of their own again when it closes: the oldest
-- opens, the others are merged into it (they are each other's duplicates).
create function app_private.load_board_release_merged(p_post_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_first uuid;
begin
  select p.id into v_first from public.load_board_posts p
   where p.merged_into = p_post_id and p.status = 'merged' order by p.created_at, p.id limit 1;
  if v_first is null then
    return;
  end if;
  update public.load_board_posts set status = 'open', merged_into = null where id = v_first;
  update public.load_board_posts set merged_into = v_first where merged_into = p_post_id and status = 'merged';
  perform app_private.freight_publish(p.tenant_id, 'load_board_post', v_first, 'unmerged',
    jsonb_build_object('load_id', p.load_id, 'from_post_id', p_post_id))
  from public.load_board_posts p where p.id = v_first;
end $$;
revoke execute on function app_private.load_board_release_merged(uuid) from public;

-- Post an open load (load_board.post): the lane (first pickup's and last delivery's city
-- and region), pickup day and equipment come from the load; p_post: target_rate_cents
-- (integer cents, optional), expires_at, on_duplicate 'refuse' (default) or 'merge' (a
-- duplicate lane of the same poster is folded into the existing post). Event
-- freight.load_board_post.posted (or .merged).
create function app_private.load_board_post_create(p_load_id uuid, p_post jsonb default '{}') returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'load_board.post');
  l        public.loads;
  n        public.load_board_posts;
  v_twin   uuid;
  v_mode   text := coalesce(p_post ->> 'on_duplicate', 'refuse');
begin
  if v_mode not in ('refuse', 'merge') then
    perform app_private.raise_error('bad_request', 'on_duplicate is refuse or merge');
  end if;
  select * into l from public.loads where id = p_load_id for update;
  if l.equipment_type is null or (select count(*) from public.stops s where s.load_id = l.id) < 2 then
    perform app_private.raise_error('load_board_not_postable', format('load %s has no equipment or route yet', l.id));
  end if;
  n.id := gen_random_uuid();
  n.tenant_id := v_tenant;
  n.load_id := l.id;
  n.status := 'open';
  n.pickup_on := app_private.freight_pickup_date(l.id);
  n.equipment_type := l.equipment_type;
  n.target_rate_cents := app_private.freight_cents(p_post -> 'target_rate_cents', 'target_rate_cents', false);
  n.currency := coalesce(p_post ->> 'currency', 'USD');
  n.expires_at := (p_post ->> 'expires_at')::timestamptz;
  n.posted_by := auth.uid();
  n.created_at := now();
  select f.city, f.region into n.origin_city, n.origin_region
    from public.stops s join public.facilities f on f.id = s.facility_id where s.load_id = l.id order by s.sequence limit 1;
  select f.city, f.region into n.destination_city, n.destination_region
    from public.stops s join public.facilities f on f.id = s.facility_id where s.load_id = l.id order by s.sequence desc limit 1;
  v_twin := app_private.load_board_lane_twin(n);
  if v_twin is not null and v_mode = 'merge' then
    n.status := 'merged';
    n.merged_into := v_twin;
  end if;
  insert into public.load_board_posts select n.*;
  perform app_private.freight_publish(v_tenant, 'load_board_post', n.id, case when n.status = 'merged' then 'merged' else 'posted' end,
    jsonb_build_object('load_id', l.id, 'pickup_on', n.pickup_on, 'equipment_type', n.equipment_type,
                       'target_rate_cents', n.target_rate_cents, 'into_post_id', n.merged_into));
  perform app_private.audit_write(v_tenant, 'load_board.post.create', 'load_board_post', n.id::text, null,
    jsonb_build_object('load_id', l.id, 'status', n.status, 'merged_into', n.merged_into, 'target_rate_cents', n.target_rate_cents));
  return app_private.load_board_post_json(n.id);
end $$;
comment on function app_private.load_board_post_create(uuid, jsonb) is
  'Posts an open load to the load board (load_board.post); duplicates refused or merged (on_duplicate).';
grant execute on function app_private.load_board_post_create(uuid, jsonb) to authenticated;

-- The post, locked, after checking p_permission in its tenant; refused unless open.
create function app_private.load_board_open_post(p_post_id uuid, p_permission text) returns public.load_board_posts
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.load_board_posts', p_post_id, p_permission);
  p        public.load_board_posts;
begin
  select * into p from public.load_board_posts where id = p_post_id and tenant_id = v_tenant for update;
  if p.status <> 'open' then
    perform app_private.raise_error('load_board_post_closed',
      format('post %s is %s%s', p.id, p.status, case when p.status = 'merged' then ' into post ' || p.merged_into else '' end),
      jsonb_build_object('reason', p.status));
  end if;
  return p;
end $$;
revoke execute on function app_private.load_board_open_post(uuid, text) from public;

-- Update an open post (load_board.post): target_rate_cents (null clears it), expires_at,
-- "refresh_lane": true re-reads lane, day and equipment from the load (after a re-route;
-- the anti-duplicate rules apply again). Event freight.load_board_post.updated.
create function app_private.load_board_post_update(p_post_id uuid, p_changes jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  p public.load_board_posts := app_private.load_board_open_post(p_post_id, 'load_board.post');
begin
  update public.load_board_posts set
    target_rate_cents = case when p_changes ? 'target_rate_cents'
                             then app_private.freight_cents(p_changes -> 'target_rate_cents', 'target_rate_cents', false)
                             else target_rate_cents end,
    expires_at = case when p_changes ? 'expires_at' then (p_changes ->> 'expires_at')::timestamptz else expires_at end
  where id = p.id;
  if (p_changes ->> 'refresh_lane')::boolean then
    update public.load_board_posts t set
      pickup_on = app_private.freight_pickup_date(p.load_id),
      equipment_type = coalesce((select l.equipment_type from public.loads l where l.id = p.load_id), t.equipment_type),
      (origin_city, origin_region) = (select f.city, f.region from public.stops s join public.facilities f on f.id = s.facility_id
                                      where s.load_id = p.load_id order by s.sequence limit 1),
      (destination_city, destination_region) = (select f.city, f.region from public.stops s join public.facilities f on f.id = s.facility_id
                                                where s.load_id = p.load_id order by s.sequence desc limit 1)
    where t.id = p.id;
  end if;
  perform app_private.freight_publish(p.tenant_id, 'load_board_post', p.id, 'updated',
    (select jsonb_build_object('load_id', n.load_id, 'pickup_on', n.pickup_on, 'equipment_type', n.equipment_type,
                               'target_rate_cents', n.target_rate_cents) from public.load_board_posts n where n.id = p.id));
  perform app_private.audit_write(p.tenant_id, 'load_board.post.update', 'load_board_post', p.id::text,
    jsonb_build_object('target_rate_cents', p.target_rate_cents, 'pickup_on', p.pickup_on),
    (select jsonb_build_object('target_rate_cents', n.target_rate_cents, 'pickup_on', n.pickup_on) from public.load_board_posts n where n.id = p.id));
  return app_private.load_board_post_json(p.id);
end $$;
comment on function app_private.load_board_post_update(uuid, jsonb) is
  'Updates an open post''s target rate, expiry or lane (load_board.post); event freight.load_board_post.updated.';
grant execute on function app_private.load_board_post_update(uuid, jsonb) to authenticated;

-- Closes a post (covered, withdrawn): its open bids are rejected, posts merged into it are
-- released. No permission check (callers).
create function app_private.load_board_post_close(p_post_id uuid, p_to text, p_reason text) returns void
language plpgsql security definer set search_path = '' as $$
declare
  p public.load_board_posts;
  b record;
begin
  select * into p from public.load_board_posts where id = p_post_id for update;
  update public.load_board_posts set status = p_to, merged_into = null where id = p.id;
  for b in update public.bids set status = 'rejected' where post_id = p.id and status = 'open' returning id, carrier_party_id loop
    perform app_private.freight_publish(p.tenant_id, 'bid', b.id, 'rejected',
      jsonb_build_object('post_id', p.id, 'load_id', p.load_id, 'carrier_party_id', b.carrier_party_id, 'reason', p_to));
  end loop;
  perform app_private.load_board_release_merged(p.id);
  perform app_private.freight_publish(p.tenant_id, 'load_board_post', p.id, p_to,
    jsonb_build_object('load_id', p.load_id, 'from', p.status));
  perform app_private.audit_write(p.tenant_id, 'load_board.post.' || p_to, 'load_board_post', p.id::text,
    jsonb_build_object('status', p.status), jsonb_build_object('status', p_to), p_reason);
end $$;
revoke execute on function app_private.load_board_post_close(uuid, text, text) from public;

-- Withdraw an open (or merged) post (load_board.post). Event freight.load_board_post.withdrawn.
create function app_private.load_board_post_withdraw(p_post_id uuid, p_reason text default null) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.load_board_posts', p_post_id, 'load_board.post');
  v_status text := (select p.status from public.load_board_posts p where p.id = p_post_id);
begin
  if v_status not in ('open', 'merged') then
    perform app_private.raise_error('load_board_post_closed', format('post %s is %s', p_post_id, v_status), jsonb_build_object('reason', v_status));
  end if;
  perform app_private.load_board_post_close(p_post_id, 'withdrawn', coalesce(p_reason, 'withdrawn'));
  return app_private.load_board_post_json(p_post_id);
end $$;
comment on function app_private.load_board_post_withdraw(uuid, text) is
  'Withdraws a post (load_board.post): its open bids rejected; event freight.load_board_post.withdrawn.';
grant execute on function app_private.load_board_post_withdraw(uuid, text) to authenticated;

-- Merge a duplicate post into another open post of the same lane, day and equipment
-- (load_board.post; the duplicate-posts agent). Its bids stay with it (open, not biddable)
-- and come back on unmerge. Event freight.load_board_post.merged.
create function app_private.load_board_post_merge(p_post_id uuid, p_into_post_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  p public.load_board_posts := app_private.load_board_open_post(p_post_id, 'load_board.post');
  q public.load_board_posts := app_private.load_board_open_post(p_into_post_id, 'load_board.post');
begin
  if p.id = q.id or p.tenant_id <> q.tenant_id or p.pickup_on <> q.pickup_on or p.equipment_type <> q.equipment_type
     or app_private.load_board_lane_key(p.origin_city, p.origin_region, p.destination_city, p.destination_region)
        <> app_private.load_board_lane_key(q.origin_city, q.origin_region, q.destination_city, q.destination_region) then
    perform app_private.raise_error('bad_request', format('post %s is not a duplicate of post %s (lane, pickup day and equipment)', p.id, q.id));
  end if;
  update public.load_board_posts set status = 'merged', merged_into = q.id where id = p.id;
  perform app_private.freight_publish(p.tenant_id, 'load_board_post', p.id, 'merged', jsonb_build_object('load_id', p.load_id, 'into_post_id', q.id));
  perform app_private.audit_write(p.tenant_id, 'load_board.post.merge', 'load_board_post', p.id::text,
    jsonb_build_object('status', 'open'), jsonb_build_object('status', 'merged', 'merged_into', q.id));
  return app_private.load_board_post_json(p.id);
end $$;
comment on function app_private.load_board_post_merge(uuid, uuid) is
  'Merges a duplicate open post into another (load_board.post); event freight.load_board_post.merged.';
grant execute on function app_private.load_board_post_merge(uuid, uuid) to authenticated;

-- Unmerge (load_board.post): a merged post is open again (the undo of merge; refused as a
-- duplicate when the same poster's twin is still open). Event freight.load_board_post.unmerged.
create function app_private.load_board_post_unmerge(p_post_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.load_board_posts', p_post_id, 'load_board.post');
  p        public.load_board_posts;
begin
  select * into p from public.load_board_posts where id = p_post_id for update;
  if p.status <> 'merged' then
    perform app_private.raise_error('load_board_post_closed', format('post %s is %s, not merged', p.id, p.status), jsonb_build_object('reason', p.status));
  end if;
  update public.load_board_posts set status = 'open', merged_into = null where id = p.id;
  perform app_private.freight_publish(v_tenant, 'load_board_post', p.id, 'unmerged', jsonb_build_object('load_id', p.load_id, 'from_post_id', p.merged_into));
  perform app_private.audit_write(v_tenant, 'load_board.post.unmerge', 'load_board_post', p.id::text,
    jsonb_build_object('status', 'merged', 'merged_into', p.merged_into), jsonb_build_object('status', 'open'));
  return app_private.load_board_post_json(p.id);
end $$;
comment on function app_private.load_board_post_unmerge(uuid) is
  'Reopens a merged post (load_board.post); event freight.load_board_post.unmerged.';
grant execute on function app_private.load_board_post_unmerge(uuid) to authenticated;

-- Bid on an open post (load_board.bid): a carrier user for its own company (staff name the
-- carrier: a phone bid), positive integer cents, an eligible carrier on the pickup day; the
-- broker answers by now + load_board.bidResponseMinutes. The carrier's earlier open bid on
-- the post is withdrawn (one live bid each). Event freight.bid.placed.
create function app_private.load_board_bid_place(p_post_id uuid, p_amount_cents bigint, p_note text default null,
                                                 p_carrier_party_id uuid default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  p         public.load_board_posts := app_private.load_board_open_post(p_post_id, 'load_board.bid');
  v_carrier uuid := coalesce(p_carrier_party_id, (app_private.freight_member(p.tenant_id)).party_id);
  v_id      uuid;
  v_due     timestamptz := now() + make_interval(mins => app_private.flag_number('load_board.bidResponseMinutes', p.tenant_id)::int);
  v_prev    uuid;
begin
  if p_amount_cents is null or p_amount_cents <= 0 or p_amount_cents > 100000000000 then
    perform app_private.raise_error('bad_amount', format('a bid is positive integer cents, not %s', coalesce(p_amount_cents::text, 'null')));
  end if;
  if not exists (select 1 from public.parties c where c.id = v_carrier and c.tenant_id = p.tenant_id and c.kind = 'carrier') then
    perform app_private.raise_error('freight_not_found', format('no carrier %s in the tenant', coalesce(v_carrier::text, '(none named)')));
  end if;
  perform app_private.freight_require_party(p.tenant_id, v_carrier);
  perform app_private.freight_require_eligible(v_carrier, p.pickup_on);
  update public.bids set status = 'withdrawn' where post_id = p.id and carrier_party_id = v_carrier and status = 'open' returning id into v_prev;
  insert into public.bids (tenant_id, post_id, load_id, carrier_party_id, amount_cents, currency, respond_by, note, created_by)
  values (p.tenant_id, p.id, p.load_id, v_carrier, p_amount_cents, p.currency, v_due, p_note, app_private.principal_id())
  returning id into v_id;
  perform app_private.freight_publish(p.tenant_id, 'bid', v_id, 'placed',
    jsonb_build_object('post_id', p.id, 'load_id', p.load_id, 'carrier_party_id', v_carrier, 'amount_cents', p_amount_cents,
                       'currency', p.currency, 'respond_by', v_due, 'replaces_bid_id', v_prev));
  perform app_private.audit_write(p.tenant_id, 'load_board.bid.place', 'bid', v_id::text, null,
    jsonb_build_object('post_id', p.id, 'carrier_party_id', v_carrier, 'amount_cents', p_amount_cents, 'respond_by', v_due));
  return jsonb_build_object('bid_id', v_id, 'post_id', p.id, 'load_id', p.load_id, 'carrier_party_id', v_carrier,
                            'amount_cents', p_amount_cents, 'currency', p.currency, 'status', 'open', 'respond_by', v_due,
                            'replaces_bid_id', v_prev);
end $$;
comment on function app_private.load_board_bid_place(uuid, bigint, text, uuid) is
  'A carrier''s bid on an open post (load_board.bid), answered by the response SLA; event freight.bid.placed.';
grant execute on function app_private.load_board_bid_place(uuid, bigint, text, uuid) to authenticated;

-- The bid, locked, after p_permission in its tenant and (outside users) its own carrier.
create function app_private.load_board_bid_for(p_bid_id uuid, p_permission text) returns public.bids
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.bids', p_bid_id, p_permission);
  b        public.bids;
begin
  select * into b from public.bids where id = p_bid_id and tenant_id = v_tenant for update;
  perform app_private.freight_require_party(v_tenant, b.carrier_party_id);
  return b;
end $$;
revoke execute on function app_private.load_board_bid_for(uuid, text) from public;

-- Moves a bid between states the caller checked; event freight.bid.<verb>, audit.
create function app_private.load_board_bid_move(b public.bids, p_to text, p_verb text, p_respond_by timestamptz default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
begin
  update public.bids set status = p_to, respond_by = coalesce(p_respond_by, respond_by) where id = b.id;
  perform app_private.freight_publish(b.tenant_id, 'bid', b.id, p_verb,
    jsonb_build_object('post_id', b.post_id, 'load_id', b.load_id, 'carrier_party_id', b.carrier_party_id, 'from', b.status,
                       'respond_by', coalesce(p_respond_by, b.respond_by)));
  perform app_private.audit_write(b.tenant_id, 'load_board.bid.' || p_verb, 'bid', b.id::text,
    jsonb_build_object('status', b.status), jsonb_build_object('status', p_to));
  return jsonb_build_object('bid_id', b.id, 'post_id', b.post_id, 'status', p_to, 'respond_by', coalesce(p_respond_by, b.respond_by));
end $$;
revoke execute on function app_private.load_board_bid_move(public.bids, text, text, timestamptz) from public;

create function app_private.load_board_bid_refuse_unless_open(b public.bids) returns void
language plpgsql stable set search_path = '' as $$
begin
  if b.status <> 'open' then
    perform app_private.raise_error('load_board_bid_closed', format('bid %s is %s', b.id, b.status), jsonb_build_object('reason', b.status));
  end if;
end $$;
revoke execute on function app_private.load_board_bid_refuse_unless_open(public.bids) from public;

-- A carrier takes its open bid back (load_board.bid). Event freight.bid.withdrawn.
create function app_private.load_board_bid_withdraw(p_bid_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  b public.bids := app_private.load_board_bid_for(p_bid_id, 'load_board.bid');
begin
  perform app_private.load_board_bid_refuse_unless_open(b);
  return app_private.load_board_bid_move(b, 'withdrawn', 'withdrawn');
end $$;
comment on function app_private.load_board_bid_withdraw(uuid) is 'Withdraws an open bid (load_board.bid, its carrier only); event freight.bid.withdrawn.';
grant execute on function app_private.load_board_bid_withdraw(uuid) to authenticated;

-- The escrow account of a carrier in a currency, created on first use; and the tenant's
-- cash and carrier-cost accounts the same way.
create function app_private.load_board_account(p_tenant_id uuid, p_code text, p_currency text, p_party_id uuid default null)
returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_code text := p_code || case when p_party_id is not null then ':' || p_party_id else '' end
                        || case when p_currency = 'USD' then '' else '-' || p_currency end;
  v_id   uuid;
begin
  insert into public.ledger_accounts (tenant_id, code, name, kind, subtype, party_id, currency)
  values (p_tenant_id, v_code,
          case p_code when '1150' then 'Load board escrow' when '1000' then 'Cash' else 'Carrier cost' end,
          case p_code when '5000' then 'expense' else 'asset' end,
          case p_code when '1150' then 'escrow' when '1000' then 'cash' else 'cost' end, p_party_id, p_currency)
  on conflict on constraint ledger_accounts_code_unique do nothing;
  select a.id into v_id from public.ledger_accounts a where a.tenant_id = p_tenant_id and a.code = v_code;
  return v_id;
end $$;
revoke execute on function app_private.load_board_account(uuid, text, text, uuid) from public;

-- Accept a bid (load_board.award): inside its response deadline, on an open post; the load
-- is covered at the bid through the core (freight_cover_internal: state machine,
-- eligibility, buy line, live tenders cancelled), the post covered and the other bids
-- rejected (the loads trigger below), and the bid's amount held in escrow. Events
-- freight.bid.accepted, freight.load.covered, freight.bid.rejected, freight.load_board_post.covered,
-- freight.journal_entry.posted, freight.escrow.held.
create function app_private.load_board_bid_accept(p_bid_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  b        public.bids := app_private.load_board_bid_for(p_bid_id, 'load_board.award');
  v_acct   uuid;
  v_entry  uuid;
  v_escrow uuid;
begin
  perform app_private.load_board_bid_refuse_unless_open(b);
  if b.respond_by < now() then
    perform app_private.raise_error('load_board_bid_closed', format('bid %s expired at %s (its response deadline)', b.id, b.respond_by),
      jsonb_build_object('reason', 'expired'));
  end if;
  perform app_private.load_board_open_post(b.post_id, 'load_board.award');
  perform app_private.load_board_bid_move(b, 'accepted', 'accepted');
  perform app_private.freight_cover_internal(b.load_id, b.carrier_party_id, b.amount_cents, b.currency, 'bid', b.id);
  v_acct := app_private.load_board_account(b.tenant_id, '1150', b.currency, b.carrier_party_id);
  v_entry := app_private.ledger_post_internal(b.tenant_id, b.currency,
    jsonb_build_array(jsonb_build_object('account_id', v_acct, 'amount_cents', b.amount_cents),
                      jsonb_build_object('account_id', app_private.load_board_account(b.tenant_id, '1000', b.currency), 'amount_cents', -b.amount_cents)),
    'escrow hold: bid ' || b.id, 'bid', b.id, 'load_board:hold:' || b.id);
  insert into public.load_board_escrows (tenant_id, bid_id, load_id, carrier_party_id, amount_cents, currency, account_id, hold_entry_id)
  values (b.tenant_id, b.id, b.load_id, b.carrier_party_id, b.amount_cents, b.currency, v_acct, v_entry)
  returning id into v_escrow;
  perform app_private.freight_publish(b.tenant_id, 'escrow', v_escrow, 'held',
    jsonb_build_object('bid_id', b.id, 'load_id', b.load_id, 'carrier_party_id', b.carrier_party_id, 'amount_cents', b.amount_cents,
                       'currency', b.currency, 'entry_id', v_entry));
  return jsonb_build_object('bid_id', b.id, 'post_id', b.post_id, 'load_id', b.load_id, 'carrier_party_id', b.carrier_party_id,
    'rate_cents', b.amount_cents, 'currency', b.currency,
    'load_status', (select l.status from public.loads l where l.id = b.load_id),
    'rejected_bids', (select count(*) from public.bids o where o.post_id = b.post_id and o.status = 'rejected'),
    'escrow', jsonb_build_object('escrow_id', v_escrow, 'status', 'held', 'amount_cents', b.amount_cents, 'entry_id', v_entry));
end $$;
comment on function app_private.load_board_bid_accept(uuid) is
  'Accepts a bid (load_board.award): covers the load through the core, rejects the other bids, holds the amount in escrow.';
grant execute on function app_private.load_board_bid_accept(uuid) to authenticated;

-- Expire an open bid past its response deadline (load_board.award; the bid SLA agent);
-- bad_request when it is not due. Event freight.bid.expired.
create function app_private.load_board_bid_expire(p_bid_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  b public.bids := app_private.load_board_bid_for(p_bid_id, 'load_board.award');
begin
  perform app_private.load_board_bid_refuse_unless_open(b);
  if b.respond_by is null or b.respond_by >= now() then
    perform app_private.raise_error('bad_request', format('bid %s is answered until %s: not due', b.id, b.respond_by));
  end if;
  return app_private.load_board_bid_move(b, 'expired', 'expired');
end $$;
comment on function app_private.load_board_bid_expire(uuid) is 'Expires an unanswered bid past its response deadline (load_board.award); event freight.bid.expired.';
grant execute on function app_private.load_board_bid_expire(uuid) to authenticated;

-- Reopen an expired bid (load_board.award; the undo of expire): open again with a fresh
-- response deadline, while its post is open and the carrier has no newer open bid there.
-- Event freight.bid.reopened.
create function app_private.load_board_bid_reopen(p_bid_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  b public.bids := app_private.load_board_bid_for(p_bid_id, 'load_board.award');
begin
  if b.status <> 'expired' then
    perform app_private.raise_error('load_board_bid_closed', format('bid %s is %s, not expired', b.id, b.status), jsonb_build_object('reason', b.status));
  end if;
  perform app_private.load_board_open_post(b.post_id, 'load_board.award');
  if exists (select 1 from public.bids o where o.post_id = b.post_id and o.carrier_party_id = b.carrier_party_id and o.status = 'open') then
    perform app_private.raise_error('load_board_bid_closed', format('the carrier bid again on post %s', b.post_id), jsonb_build_object('reason', 'superseded'));
  end if;
  return app_private.load_board_bid_move(b, 'open', 'reopened',
    now() + make_interval(mins => app_private.flag_number('load_board.bidResponseMinutes', b.tenant_id)::int));
end $$;
comment on function app_private.load_board_bid_reopen(uuid) is 'Reopens an expired bid with a fresh deadline (load_board.award); event freight.bid.reopened.';
grant execute on function app_private.load_board_bid_reopen(uuid) to authenticated;

-- Settles an escrow: released (to carrier cost) or refunded (to cash), one entry.
create function app_private.load_board_escrow_settle(p_escrow_id uuid, p_to text) returns void
language plpgsql security definer set search_path = '' as $$
declare
  e       public.load_board_escrows;
  v_entry uuid;
begin
  select * into e from public.load_board_escrows where id = p_escrow_id and status = 'held' for update;
  if e.id is null then
    return;
  end if;
  v_entry := app_private.ledger_post_internal(e.tenant_id, e.currency,
    jsonb_build_array(jsonb_build_object('account_id', app_private.load_board_account(e.tenant_id, case p_to when 'released' then '5000' else '1000' end, e.currency),
                                         'amount_cents', e.amount_cents),
                      jsonb_build_object('account_id', e.account_id, 'amount_cents', -e.amount_cents)),
    'escrow ' || p_to || ': bid ' || e.bid_id, 'bid', e.bid_id, 'load_board:' || p_to || ':' || e.bid_id);
  update public.load_board_escrows set status = p_to, settle_entry_id = v_entry, settled_at = now() where id = e.id;
  perform app_private.freight_publish(e.tenant_id, 'escrow', e.id, p_to,
    jsonb_build_object('bid_id', e.bid_id, 'load_id', e.load_id, 'carrier_party_id', e.carrier_party_id, 'amount_cents', e.amount_cents,
                       'currency', e.currency, 'entry_id', v_entry));
  perform app_private.audit_write(e.tenant_id, 'load_board.escrow.' || p_to, 'escrow', e.id::text,
    jsonb_build_object('status', 'held'), jsonb_build_object('status', p_to, 'entry_id', v_entry));
end $$;
revoke execute on function app_private.load_board_escrow_settle(uuid, text) from public;

-- The board follows its loads (trigger on loads.status, every door): a load covered,
-- cancelled or gone without its post closes the post (covered / withdrawn, bids rejected);
-- its held escrow is released on delivered and refunded on cancelled, tonu or back to open.
create function app_private.load_board_on_load_status() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  if new.status not in ('open', 'tendered') then
    for r in select id from public.load_board_posts where load_id = new.id and status = 'open' loop
      perform app_private.load_board_post_close(r.id, case when new.status = 'covered' then 'covered' else 'withdrawn' end,
                                               'load ' || new.status);
    end loop;
  end if;
  if new.status in ('delivered', 'cancelled', 'tonu', 'open') then
    for r in select id from public.load_board_escrows where load_id = new.id and status = 'held' loop
      perform app_private.load_board_escrow_settle(r.id, case when new.status = 'delivered' then 'released' else 'refunded' end);
    end loop;
  end if;
  return null;
end $$;
revoke execute on function app_private.load_board_on_load_status() from public;

-------------------------------------------------------------------------------------------
-- triggers and party policies
-------------------------------------------------------------------------------------------
create trigger load_board_post_guard before insert or update of status, load_id, merged_into, posted_by, origin_city, origin_region,
  destination_city, destination_region, pickup_on, equipment_type on public.load_board_posts
  for each row execute function app_private.load_board_post_guard();
create trigger load_board_follow_load after update of status on public.loads
  for each row when (old.status is distinct from new.status) execute function app_private.load_board_on_load_status();

-- a carrier reads its own escrows (bids already: the core's party policy)
select ops.party_rls('public.load_board_escrows', 'carrier', 'carrier_party_id');
