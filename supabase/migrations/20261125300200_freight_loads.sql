-- Freight: orders -> loads -> stops, tenders, bids, load board posts, the tracking timeline
-- (load_events, X12 214 vocabulary), documents, accessorials and charge lines; and the
-- operational state machine.
--
-- State machines are data: public.freight_states and public.freight_transitions (machine
-- 'load' and 'tender'; the money issue adds 'invoice' and 'bill'). A status changes only
-- through its function: app_private.freight_load_move (the one place a load's status is
-- written, called by freight_load_transition, the tender, dispatch and tracking functions)
-- and the tender functions. A trigger refuses every other UPDATE of a status column:
-- an illegal pair with illegal_transition (SY100, DETAIL {machine, id, from, to}), a legal
-- one made outside the function with status_bypass (SY101) — from every door, psql too.
-- Exceptions are a flag beside the status (loads.exception), never a status.
--
-- Buy vs sell: no table an outside party can read holds both. The sell side (what the
-- shipper pays) is in orders' charge lines with side 'sell' and the shipper's party; the
-- buy side (what a carrier is paid) in tenders, bids and charge lines with side 'buy' and
-- the carrier's party. loads, stops and load_events carry no money. Party RLS (ops.party_rls)
-- gives a shipper user the rows naming its party and a carrier user the rows naming its
-- party, so neither can read the other side, nor one carrier another's rate.
--
-- Child rows (stops, load_events, documents) carry the load's parties (shipper, carrier,
-- driver), kept in step by a trigger, so every party policy is an indexed column test.
--
-- Sections: tables (reference data, then the domain with their indexes and rails);
-- functions; triggers and party policies.

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- The state machines (reference data, read by every authenticated principal)
create table public.freight_states (
  machine     text not null constraint freight_states_machine_format_check check (machine ~ '^[a-z_]+$'),
  state       text not null constraint freight_states_state_format_check check (state ~ '^[a-z_]+$'),
  position    int  not null,
  initial     boolean not null default false,
  terminal    boolean not null default false,
  -- the verb of the event published on entering the state: freight.<machine>.<verb>
  event_verb  text not null constraint freight_states_event_verb_format_check check (event_verb ~ '^[a-z_]+$'),
  description text not null,
  primary key (machine, state)
);
comment on table public.freight_states is 'The states of each freight state machine (load, tender).';

create table public.freight_transitions (
  machine    text not null,
  from_state text not null,
  to_state   text not null,
  primary key (machine, from_state, to_state),
  constraint freight_transitions_from_fk foreign key (machine, from_state) references public.freight_states (machine, state),
  constraint freight_transitions_to_fk foreign key (machine, to_state) references public.freight_states (machine, state),
  constraint freight_transitions_from_state_not_to_state_check check (from_state <> to_state)
);
comment on table public.freight_transitions is
  'The transition table of each freight state machine: every (from, to) pair not listed is refused (illegal_transition).';

insert into public.freight_states (machine, state, position, initial, terminal, event_verb, description) values
  ('load', 'draft',      1, true,  false, 'drafted',             'Being built: stops, equipment, windows'),
  ('load', 'open',       2, true,  false, 'opened',              'Ready to tender or post'),
  ('load', 'tendered',   3, false, false, 'tendered',            'Offered to one or more carriers'),
  ('load', 'covered',    4, false, false, 'covered',             'A carrier accepted'),
  ('load', 'dispatched', 5, false, false, 'dispatched',          'Driver, tractor and trailer assigned'),
  ('load', 'at_pickup',  6, false, false, 'arrived_at_pickup',   'Arrived at a pickup (214 X3)'),
  ('load', 'picked_up',  7, false, false, 'picked_up',           'Loaded (214 CP)'),
  ('load', 'in_transit', 8, false, false, 'in_transit',          'Departed a pickup or en route (214 AF, X6)'),
  ('load', 'at_delivery',9, false, false, 'arrived_at_delivery', 'Arrived at a delivery (214 X1)'),
  ('load', 'delivered', 10, false, false, 'delivered',           'Final delivery unloaded or departed (214 D1, CD)'),
  ('load', 'completed', 11, false, true,  'completed',           'POD received'),
  ('load', 'cancelled', 12, false, true,  'cancelled',           'Cancelled before dispatch'),
  ('load', 'tonu',      13, false, true,  'tonu',                'Truck ordered, not used: cancelled after dispatch'),
  ('tender', 'offered',   1, true,  false, 'offered',   'Offered to the carrier, waiting until the SLA deadline'),
  ('tender', 'countered', 2, false, false, 'countered', 'The carrier answered with another rate (back to the broker)'),
  ('tender', 'accepted',  3, false, false, 'accepted',  'Accepted: the load is covered at this rate'),
  ('tender', 'declined',  4, false, true,  'declined',  'Declined'),
  ('tender', 'expired',   5, false, true,  'expired',   'No answer before the SLA deadline'),
  ('tender', 'cancelled', 6, false, true,  'cancelled', 'Withdrawn (another carrier covered, the load was cancelled)');

insert into public.freight_transitions (machine, from_state, to_state) values
  ('load', 'draft', 'open'), ('load', 'draft', 'cancelled'),
  ('load', 'open', 'draft'), ('load', 'open', 'tendered'), ('load', 'open', 'covered'), ('load', 'open', 'cancelled'),
  ('load', 'tendered', 'open'), ('load', 'tendered', 'covered'), ('load', 'tendered', 'cancelled'),
  ('load', 'covered', 'open'), ('load', 'covered', 'dispatched'), ('load', 'covered', 'cancelled'),
  ('load', 'dispatched', 'covered'), ('load', 'dispatched', 'at_pickup'), ('load', 'dispatched', 'tonu'),
  ('load', 'at_pickup', 'picked_up'), ('load', 'at_pickup', 'tonu'),
  ('load', 'picked_up', 'in_transit'), ('load', 'picked_up', 'at_pickup'), ('load', 'picked_up', 'at_delivery'),
  ('load', 'in_transit', 'at_pickup'), ('load', 'in_transit', 'at_delivery'),
  ('load', 'at_delivery', 'in_transit'), ('load', 'at_delivery', 'delivered'),
  ('load', 'delivered', 'completed'),
  ('tender', 'offered', 'countered'), ('tender', 'offered', 'accepted'), ('tender', 'offered', 'declined'),
  ('tender', 'offered', 'expired'), ('tender', 'offered', 'cancelled'),
  ('tender', 'countered', 'accepted'), ('tender', 'countered', 'declined'), ('tender', 'countered', 'expired'),
  ('tender', 'countered', 'cancelled'),
  ('tender', 'accepted', 'cancelled');

-- X12 214 shipment status codes (AT7 01) the tracking timeline speaks. load_state: the
-- state the event moves the load to; final_load_state: the same at the load's last
-- delivery stop; stamps: the stop time it records.
create table public.x12_214_status_codes (
  code             text primary key constraint x12_214_status_codes_code_format_check check (code ~ '^[A-Z0-9]{2}$'),
  description      text not null,
  stop_kind        text constraint x12_214_status_codes_stop_kind_allowed_check check (stop_kind in ('pickup', 'delivery')),
  load_state       text,
  final_load_state text,
  stamps           text constraint x12_214_status_codes_stamps_allowed_check check (stamps in ('arrival', 'departure')),
  exception        boolean not null default false
);
comment on table public.x12_214_status_codes is
  'The X12 214 status vocabulary (X3, CP, AF, X6, X1, D1, CD, SD, AP, X4) and what each does to the load and its stop.';
insert into public.x12_214_status_codes (code, description, stop_kind, load_state, final_load_state, stamps, exception) values
  ('X3', 'Arrived at pickup location',     'pickup',   'at_pickup',   'at_pickup',   'arrival',   false),
  ('CP', 'Completed loading at pickup',     'pickup',   'picked_up',   'picked_up',   null,        false),
  ('AF', 'Departed pickup location',        'pickup',   'in_transit',  'in_transit',  'departure', false),
  ('X6', 'En route to delivery location',   null,       'in_transit',  'in_transit',  null,        false),
  ('X1', 'Arrived at delivery location',    'delivery', 'at_delivery', 'at_delivery', 'arrival',   false),
  ('D1', 'Completed unloading at delivery', 'delivery', null,          'delivered',   null,        false),
  ('CD', 'Departed delivery location',      'delivery', 'in_transit',  'delivered',   'departure', false),
  ('SD', 'Shipment delayed',                null,       null,          null,          null,        true),
  ('AP', 'Delivery not completed',          'delivery', null,          null,          null,        true),
  ('X4', 'Arrived at terminal location',    null,       null,          null,          null,        false);

do $$
declare t text;
begin
  foreach t in array array['public.freight_states', 'public.freight_transitions', 'public.x12_214_status_codes'] loop
    execute format('alter table %s enable row level security', t);
    execute format('revoke all on %s from anon, authenticated', t);
    execute format('grant select on %s to authenticated, service_role', t);
    execute format('create policy reference_read on %s for select to authenticated using (true)', t);
  end loop;
end $$;

-- Lanes the tenant runs (TMS Admin keeps them; carriers' contract lanes and capacity name them).
create table public.lanes (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  name               text not null constraint lanes_name_not_blank_check check (length(btrim(name)) > 0),
  origin_city        text,
  origin_region      text not null,
  destination_city   text,
  destination_region text not null,
  equipment_type     text not null default 'van' constraint lanes_equipment_type_allowed_check
                     check (equipment_type in ('van', 'reefer', 'flatbed', 'step_deck', 'tanker', 'power_only')),
  miles              int constraint lanes_miles_positive_check check (miles > 0),
  active             boolean not null default true,
  created_at         timestamptz not null default now(),
  constraint lanes_tenant_id_unique unique (tenant_id, id),
  constraint lanes_name_unique unique (tenant_id, name)
);
comment on table public.lanes is 'Lanes the tenant runs (origin, destination, equipment, miles).';
-- (written by TMS Admin: freight.settings.manage)
select ops.attach_rails('public.lanes', 'domain.read', 'freight.settings.manage', 'freight.settings.manage', 'freight.settings.manage',
                        p_audit => 'deferred');
select ops.set_rls_sample('public.lanes', '{"tenant_id": "$tenant", "name": "Matrix lane $n", "origin_region": "IL", "destination_region": "TX"}');

-- Orders: the customer's request, the revenue container.
create table public.orders (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  reference          text not null constraint orders_reference_not_blank_check check (length(btrim(reference)) > 0),
  shipper_party_id   uuid not null,
  customer_reference text,
  quote_id           uuid,
  status             text not null default 'booked' constraint orders_status_allowed_check
                     check (status in ('booked', 'completed', 'cancelled')),
  currency           char(3) not null default 'USD' constraint orders_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  booked_by          uuid default auth.uid(),
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  constraint orders_tenant_id_unique unique (tenant_id, id),
  constraint orders_reference_unique unique (tenant_id, reference),
  constraint orders_shipper_fk foreign key (tenant_id, shipper_party_id) references public.parties (tenant_id, id)
);
comment on table public.orders is 'Customer orders (revenue containers); booked with their loads and stops in one transaction.';
select ops.attach_rails('public.orders', p_audit => 'deferred');
select ops.set_rls_sample('public.orders', '{"tenant_id": "$tenant", "reference": "MO-$n", "shipper_party_id": "$shipper"}');

-- Loads: what moves. No money here (see the header).
create table public.loads (
  id                uuid primary key default gen_random_uuid(),
  tenant_id         uuid not null references public.tenants (id) on delete cascade,
  order_id          uuid not null,
  reference         text not null constraint loads_reference_not_blank_check check (length(btrim(reference)) > 0),
  shipper_party_id  uuid not null,
  carrier_party_id  uuid,
  driver_id         uuid,
  tractor_id        uuid,
  trailer_id        uuid,
  equipment_type    text not null default 'van' constraint loads_equipment_type_allowed_check
                    check (equipment_type in ('van', 'reefer', 'flatbed', 'step_deck', 'tanker', 'power_only')),
  status            text not null default 'draft' constraint loads_status_allowed_check
                    check (status in ('draft', 'open', 'tendered', 'covered', 'dispatched', 'at_pickup', 'picked_up',
                                      'in_transit', 'at_delivery', 'delivered', 'completed', 'cancelled', 'tonu')),
  status_changed_at timestamptz not null default now(),
  exception         boolean not null default false,
  exception_reason  text,
  weight_lbs        int constraint loads_weight_lbs_positive_check check (weight_lbs > 0),
  commodity         text,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  constraint loads_exception_reason_required_check check (exception = (exception_reason is not null)),
  constraint loads_tenant_id_unique unique (tenant_id, id),
  constraint loads_reference_unique unique (tenant_id, reference),
  constraint loads_order_fk foreign key (tenant_id, order_id) references public.orders (tenant_id, id) on delete cascade,
  constraint loads_shipper_fk foreign key (tenant_id, shipper_party_id) references public.parties (tenant_id, id),
  constraint loads_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id),
  constraint loads_driver_fk foreign key (tenant_id, driver_id) references public.drivers (tenant_id, id),
  constraint loads_tractor_fk foreign key (tenant_id, tractor_id) references public.equipment (tenant_id, id),
  constraint loads_trailer_fk foreign key (tenant_id, trailer_id) references public.equipment (tenant_id, id)
);
comment on table public.loads is
  'Loads: status (state machine, changed only through app_private.freight_load_move), exception flag, carrier and assignment; no money.';
create index loads_order_idx on public.loads (order_id);
create index loads_status_idx on public.loads (tenant_id, status);
select ops.attach_rails('public.loads', p_audit => 'deferred');
select ops.set_rls_sample('public.loads',
  '{"tenant_id": "$tenant", "order_id": "$ref:orders", "reference": "ML-$n", "shipper_party_id": "$shipper",
    "carrier_party_id": "$carrier", "driver_id": "$driver"}');

-- Stops: sequence, pickup/delivery, appointment window (timestamptz range, shown in the
-- facility's zone), actual arrival/departure.
create table public.stops (
  id                  uuid primary key default gen_random_uuid(),
  tenant_id           uuid not null references public.tenants (id) on delete cascade,
  load_id             uuid not null,
  sequence            int  not null constraint stops_sequence_positive_check check (sequence > 0),
  kind                text not null constraint stops_kind_allowed_check check (kind in ('pickup', 'delivery')),
  facility_id         uuid not null,
  appointment         tstzrange not null constraint stops_appointment_bounded_check
                      check (not isempty(appointment) and not lower_inf(appointment) and not upper_inf(appointment)),
  actual_arrival_at   timestamptz,
  actual_departure_at timestamptz,
  reference           text,
  -- the load's parties (trigger-maintained), for the party policies
  shipper_party_id    uuid not null,
  carrier_party_id    uuid,
  driver_id           uuid,
  created_at          timestamptz not null default now(),
  constraint stops_actual_departure_after_arrival_check check (actual_departure_at >= actual_arrival_at),
  constraint stops_sequence_unique unique (load_id, sequence) deferrable initially immediate,
  constraint stops_tenant_id_unique unique (tenant_id, id),
  constraint stops_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint stops_facility_fk foreign key (tenant_id, facility_id) references public.facilities (tenant_id, id)
);
comment on table public.stops is
  'Stops of a load in sequence: kind, facility, appointment window (tstzrange; public.stops_local shows it in facility time), actuals.';
create index stops_facility_idx on public.stops (facility_id);
select ops.attach_rails('public.stops', p_audit => 'deferred');
select ops.set_rls_sample('public.stops',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "sequence": "$n", "kind": "pickup", "facility_id": "$ref:facilities",
    "appointment": "[2026-12-01 08:00+00,2026-12-01 10:00+00)", "shipper_party_id": "$shipper", "carrier_party_id": "$carrier",
    "driver_id": "$driver"}');

-- Tenders: the offer of a load to a carrier at a buy rate, answered before its SLA deadline.
create table public.tenders (
  id                  uuid primary key default gen_random_uuid(),
  tenant_id           uuid not null references public.tenants (id) on delete cascade,
  load_id             uuid not null,
  carrier_party_id    uuid not null,
  status              text not null default 'offered' constraint tenders_status_allowed_check
                      check (status in ('offered', 'countered', 'accepted', 'declined', 'expired', 'cancelled')),
  -- the buy rate offered (integer cents); a counter goes back to the broker
  offered_rate_cents  bigint not null constraint tenders_offered_rate_cents_positive_check check (offered_rate_cents > 0),
  counter_rate_cents  bigint constraint tenders_counter_rate_cents_nonnegative_check check (counter_rate_cents >= 0),
  accepted_rate_cents bigint constraint tenders_accepted_rate_cents_nonnegative_check check (accepted_rate_cents >= 0),
  currency            char(3) not null default 'USD' constraint tenders_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  sla_deadline        timestamptz not null,
  -- what the carrier decides on (origin, destination, windows, equipment): no PII, no sell rate
  lane                jsonb not null default '{}'::jsonb,
  offered_by          uuid default auth.uid(),
  offered_at          timestamptz not null default now(),
  responded_at        timestamptz,
  responded_by        uuid,
  response_note       text,
  trace_id            text,
  -- the tender a re-tender offered in this one's place (broker_retender: set once)
  superseded_by       uuid,
  constraint tenders_tenant_id_unique unique (tenant_id, id),
  constraint tenders_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint tenders_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id)
);
comment on table public.tenders is
  'Tenders: a load offered to a carrier at a buy rate (cents) with an SLA deadline; status through the tender functions.';
create index tenders_load_idx on public.tenders (load_id);
create index tenders_due_idx on public.tenders (sla_deadline) where status in ('offered', 'countered');
-- one accepted tender per load
create unique index tenders_one_accepted_unique on public.tenders (load_id) where status = 'accepted';
select ops.attach_rails('public.tenders', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.tenders',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "carrier_party_id": "$carrier", "offered_rate_cents": 150000,
    "sla_deadline": "$now"}');

-- Load board: posts of open loads (what every carrier user of the tenant sees) and bids.
create table public.load_board_posts (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  load_id            uuid not null,
  status             text not null default 'open' constraint load_board_posts_status_allowed_check
                     check (status in ('open', 'covered', 'withdrawn', 'merged', 'expired')),
  origin_city        text,
  origin_region      text,
  destination_city   text,
  destination_region text,
  pickup_on          date not null,
  equipment_type     text not null constraint load_board_posts_equipment_type_allowed_check
                     check (equipment_type in ('van', 'reefer', 'flatbed', 'step_deck', 'tanker', 'power_only')),
  -- the buy-side offer shown to carriers (cents), if any
  target_rate_cents  bigint constraint load_board_posts_target_rate_cents_nonnegative_check check (target_rate_cents >= 0),
  currency           char(3) not null default 'USD' constraint load_board_posts_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  merged_into        uuid,
  posted_by          uuid default auth.uid(),
  created_at         timestamptz not null default now(),
  expires_at         timestamptz,
  constraint load_board_posts_tenant_id_unique unique (tenant_id, id),
  constraint load_board_posts_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint load_board_posts_merged_into_fk foreign key (tenant_id, merged_into) references public.load_board_posts (tenant_id, id)
);
comment on table public.load_board_posts is 'Load board posts of open loads (lane, date, equipment, target buy rate); one open post per load.';
create unique index load_board_posts_one_open_unique on public.load_board_posts (load_id) where status = 'open';
create index load_board_posts_lane_idx on public.load_board_posts (tenant_id, equipment_type, pickup_on) where status = 'open';
select ops.attach_rails('public.load_board_posts', p_audit => 'deferred');
select ops.set_rls_sample('public.load_board_posts',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "pickup_on": "2026-12-01", "equipment_type": "van", "status": "withdrawn"}');

create table public.bids (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  post_id          uuid not null,
  load_id          uuid not null,
  carrier_party_id uuid not null,
  amount_cents     bigint not null constraint bids_amount_cents_nonnegative_check check (amount_cents >= 0),
  currency         char(3) not null default 'USD' constraint bids_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  status           text not null default 'open' constraint bids_status_allowed_check
                   check (status in ('open', 'accepted', 'rejected', 'withdrawn', 'expired')),
  respond_by       timestamptz,
  note             text,
  created_by       uuid default auth.uid(),
  created_at       timestamptz not null default now(),
  constraint bids_post_fk foreign key (tenant_id, post_id) references public.load_board_posts (tenant_id, id) on delete cascade,
  constraint bids_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint bids_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id)
);
comment on table public.bids is 'Carriers'' bids (buy rate in cents) on load board posts; a carrier sees only its own.';
create index bids_post_idx on public.bids (post_id);
create index bids_load_idx on public.bids (load_id);
select ops.attach_rails('public.bids', p_audit => 'deferred');
select ops.set_rls_sample('public.bids',
  '{"tenant_id": "$tenant", "post_id": "$ref:load_board_posts", "load_id": "$ref:loads", "carrier_party_id": "$carrier",
    "amount_cents": 120000}');

-- The tracking timeline. source_event_id is the idempotency key (a phone's event id, a 214's
-- control number + sequence, an ELD ping id), unique per tenant.
create table public.load_events (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  load_id          uuid not null,
  stop_id          uuid,
  source_event_id  text not null constraint load_events_source_event_id_length_check check (length(source_event_id) between 1 and 200),
  kind             text not null constraint load_events_kind_allowed_check check (kind in ('status', 'tracking', 'exception', 'note')),
  status_code      text references public.x12_214_status_codes (code),
  from_status      text,
  to_status        text,
  occurred_at      timestamptz not null default now(),
  recorded_at      timestamptz not null default now(),
  -- the channel (driver_app, edi_214, eld, portal, agent, psql) and the door (portal claim)
  source           text not null default 'portal' constraint load_events_source_length_check check (length(source) between 1 and 40),
  source_portal    text,
  city             text,
  region           text,
  note             text,
  -- the tracking event that caused a status event
  cause_event_id   uuid,
  principal_id     uuid default auth.uid(),
  trace_id         text,
  shipper_party_id uuid not null,
  carrier_party_id uuid,
  driver_id        uuid,
  constraint load_events_source_event_unique unique (tenant_id, source_event_id),
  constraint load_events_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint load_events_stop_fk foreign key (tenant_id, stop_id) references public.stops (tenant_id, id) on delete cascade
);
comment on table public.load_events is
  'The tracking timeline: status changes and 214 events, idempotent by (tenant, source_event_id); written by the freight functions only.';
create index load_events_load_idx on public.load_events (load_id, occurred_at);
select ops.attach_rails('public.load_events', 'domain.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.load_events',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "source_event_id": "matrix-$n-$uuid", "kind": "tracking", "status_code": "X6",
    "shipper_party_id": "$shipper", "carrier_party_id": "$carrier", "driver_id": "$driver"}');

-- Documents: metadata and sha256 here, the bytes behind the storage interface
-- (packages/shared/storage). Who may read one follows from its kind (trigger).
create table public.documents (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  load_id          uuid,
  party_id         uuid,
  kind             text not null constraint documents_kind_allowed_check
                   check (kind in ('rate_confirmation', 'bol', 'pod', 'invoice', 'ucc_filing', 'w9', 'insurance_certificate', 'other')),
  file_name        text not null constraint documents_file_name_length_check check (length(file_name) between 1 and 255),
  content_type     text not null default 'application/pdf',
  size_bytes       bigint not null constraint documents_size_bytes_range_check check (size_bytes between 1 and 10485760),
  sha256           text not null constraint documents_sha256_format_check check (sha256 ~ '^[0-9a-f]{64}$'),
  storage_key      text not null constraint documents_storage_key_format_check check (storage_key ~ '^[A-Za-z0-9][A-Za-z0-9/._-]*$' and length(storage_key) <= 500 and storage_key !~ '\.\.'),
  retain_until     date,
  uploaded_by      uuid default auth.uid(),
  created_at       timestamptz not null default now(),
  -- who may read it (trigger): rate confirmations the carrier, invoices the shipper, BOL/POD both and the driver
  shipper_party_id uuid,
  carrier_party_id uuid,
  driver_id        uuid,
  constraint documents_subject_required_check check (load_id is not null or party_id is not null),
  constraint documents_storage_key_unique unique (tenant_id, storage_key),
  constraint documents_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint documents_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id) on delete cascade
);
comment on table public.documents is
  'Document metadata (kind, sha256, size, storage key, retention); the bytes live behind packages/shared/storage.';
create index documents_load_idx on public.documents (load_id);
select ops.attach_rails('public.documents', p_audit => 'deferred');
select ops.set_rls_sample('public.documents',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "kind": "pod", "file_name": "pod-$n.pdf", "size_bytes": 1024,
    "sha256": "$hex32$hex32", "storage_key": "matrix/$uuid.pdf"}');

-- Money: the accessorial catalogue and charge lines (integer cents, a currency each).
create table public.accessorials (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  code               text not null constraint accessorials_code_format_check check (code ~ '^[A-Z][A-Z0-9_]{1,15}$'),
  name               text not null constraint accessorials_name_not_blank_check check (length(btrim(name)) > 0),
  unit               text not null default 'flat' constraint accessorials_unit_allowed_check
                     check (unit in ('flat', 'hour', 'day', 'mile', 'stop')),
  default_rate_cents bigint constraint accessorials_default_rate_cents_nonnegative_check check (default_rate_cents >= 0),
  currency           char(3) not null default 'USD' constraint accessorials_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  active             boolean not null default true,
  constraint accessorials_tenant_id_unique unique (tenant_id, id),
  constraint accessorials_code_unique unique (tenant_id, code)
);
comment on table public.accessorials is 'The accessorial catalogue (detention, TONU, lumper, layover, ...) with default rates in cents.';
select ops.attach_rails('public.accessorials', 'domain.read', 'freight.settings.manage', 'freight.settings.manage', 'freight.settings.manage');
select ops.set_rls_sample('public.accessorials', '{"tenant_id": "$tenant", "code": "M$n", "name": "Matrix $n"}');

create table public.charge_lines (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  load_id          uuid not null,
  -- sell: billed to the shipper (party = shipper); buy: paid to the carrier (party = carrier)
  side             text not null constraint charge_lines_side_allowed_check check (side in ('sell', 'buy')),
  party_id         uuid not null,
  kind             text not null constraint charge_lines_kind_allowed_check
                   check (kind in ('linehaul', 'fuel', 'accessorial', 'discount', 'adjustment')),
  accessorial_id   uuid,
  description      text,
  quantity         numeric(12, 3) not null default 1 constraint charge_lines_quantity_positive_check check (quantity > 0),
  amount_cents     bigint not null,
  currency         char(3) not null default 'USD' constraint charge_lines_currency_format_check check (currency ~ '^[A-Z]{3}$'),
  -- where the line was copied from (quote, tender, bid, manual, agent)
  source_type      text,
  source_id        uuid,
  created_by       uuid default auth.uid(),
  created_at       timestamptz not null default now(),
  constraint charge_lines_amount_cents_nonnegative_check check (amount_cents >= 0 or kind in ('discount', 'adjustment')),
  constraint charge_lines_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint charge_lines_party_fk foreign key (tenant_id, party_id) references public.parties (tenant_id, id),
  constraint charge_lines_accessorial_fk foreign key (tenant_id, accessorial_id) references public.accessorials (tenant_id, id)
);
comment on table public.charge_lines is
  'Charge lines of a load in integer cents: sell (to the shipper) or buy (to the carrier), each line naming its source.';
create index charge_lines_load_idx on public.charge_lines (load_id, side);
select ops.attach_rails('public.charge_lines', p_audit => 'deferred');
select ops.set_rls_sample('public.charge_lines',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "side": "sell", "party_id": "$shipper", "kind": "linehaul",
    "amount_cents": 200000}');

-- Appointment windows and actuals in facility time (security invoker: the caller's RLS).
create view public.stops_local with (security_invoker = true) as
  select s.id, s.tenant_id, s.load_id, s.sequence, s.kind, s.facility_id, f.name as facility_name, f.time_zone,
         s.appointment,
         lower(s.appointment) at time zone f.time_zone as window_start_local,
         upper(s.appointment) at time zone f.time_zone as window_end_local,
         upper(s.appointment) - lower(s.appointment) as window_length,
         s.actual_arrival_at at time zone f.time_zone as actual_arrival_local,
         s.actual_departure_at at time zone f.time_zone as actual_departure_local
  from public.stops s join public.facilities f on f.id = s.facility_id;
comment on view public.stops_local is 'Stops with their windows and actuals in the facility''s own time zone.';
revoke all on public.stops_local from anon, authenticated;
grant select on public.stops_local to authenticated, service_role;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Raises illegal_transition unless (from, to) is in the machine's transition table.
create function app_private.freight_transition_check(p_machine text, p_id uuid, p_from text, p_to text)
returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if not exists (select 1 from public.freight_transitions t
                 where t.machine = p_machine and t.from_state = p_from and t.to_state = p_to) then
    perform app_private.raise_error('illegal_transition',
      format('%s %s cannot go from %s to %s', p_machine, p_id, coalesce(p_from, '(none)'), coalesce(p_to, '(none)')),
      jsonb_build_object('machine', p_machine, 'id', p_id, 'from', p_from, 'to', p_to));
  end if;
end $$;
comment on function app_private.freight_transition_check(text, uuid, text, text) is
  'Raises illegal_transition (SY100, DETAIL machine/id/from/to) unless the pair is in public.freight_transitions.';
revoke execute on function app_private.freight_transition_check(text, uuid, text, text) from public;
-- (the status guard runs as the writer: a direct UPDATE by an API role reaches it)
grant execute on function app_private.freight_transition_check(text, uuid, text, text) to authenticated, service_role;

-- The status guard (loads, tenders; TG_ARGV[0] the machine). INSERT: API callers create
-- rows in an initial state only (trusted sessions may import any state: seeds, data
-- loads). UPDATE of status: the pair must be legal, and the write must come from the
-- machine's function (a definer function that marked this row), never an API role.
create function app_private.freight_status_guard() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    if not app_private.is_trusted_session()
       and not exists (select 1 from public.freight_states s where s.machine = tg_argv[0] and s.state = new.status and s.initial) then
      perform app_private.raise_error('status_bypass',
        format('a %s is created in an initial state, not %s', tg_argv[0], new.status),
        jsonb_build_object('machine', tg_argv[0], 'to', new.status));
    end if;
    return new;
  end if;
  if new.status is distinct from old.status then
    perform app_private.freight_transition_check(tg_argv[0], new.id, old.status, new.status);
    if current_user::text in ('authenticated', 'anon', 'service_role', 'authenticator')
       or current_setting('app.freight_move', true) is distinct from new.id::text then
      perform app_private.raise_error('status_bypass',
        format('%s %s: status changes only through its transition function', tg_argv[0], new.id),
        jsonb_build_object('machine', tg_argv[0], 'id', new.id, 'from', old.status, 'to', new.status));
    end if;
  end if;
  return new;
end $$;
comment on function app_private.freight_status_guard() is
  'Refuses illegal status pairs (illegal_transition) and status writes outside the machine''s function (status_bypass).';
revoke execute on function app_private.freight_status_guard() from public;

-- Writes a status the machine's function decided (marks the row for the guard).
create function app_private.freight_set_status(p_table regclass, p_id uuid, p_to text) returns void
language plpgsql security definer set search_path = '' as $$
begin
  perform set_config('app.freight_move', p_id::text, true);
  execute format('update %s set status = $1%s where id = $2', p_table,
                 case when p_table = 'public.loads'::regclass then ', status_changed_at = now(), updated_at = now()' else '' end)
    using p_to, p_id;
  perform set_config('app.freight_move', '', true);
end $$;
revoke execute on function app_private.freight_set_status(regclass, uuid, text) from public;

-- THE load transition: every door's status change goes through here (portal actions via
-- the freight functions, agents, EDI, psql). Locks the load, checks the pair and the
-- state's preconditions, writes the status, a status event on the timeline (idempotent by
-- source_event_id), the outbox event freight.load.<verb> and an audit row. No permission
-- check: callers check theirs (freight_load_transition below for direct calls).
create function app_private.freight_load_move(p_load_id uuid, p_to text, p_reason text default null,
                                              p_source_event_id text default null, p_payload jsonb default null,
                                              p_cause_event_id uuid default null, p_occurred_at timestamptz default null)
returns text
language plpgsql security definer set search_path = '' as $$
declare
  l      public.loads;
  v_verb text;
begin
  select * into l from public.loads where id = p_load_id for update;
  if l.id is null then
    perform app_private.raise_error('freight_not_found', format('no load %s', p_load_id));
  end if;
  perform app_private.freight_transition_check('load', l.id, l.status, p_to);
  if p_to in ('covered', 'dispatched') and l.carrier_party_id is null then
    perform app_private.raise_error('bad_request', format('load %s has no carrier to be %s', l.id, p_to));
  end if;
  if p_to = 'dispatched' and (l.driver_id is null or l.tractor_id is null) then
    perform app_private.raise_error('bad_request', format('load %s has no driver and tractor assigned', l.id));
  end if;
  perform app_private.freight_set_status('public.loads', l.id, p_to);
  insert into public.load_events (tenant_id, load_id, source_event_id, kind, from_status, to_status, occurred_at, source,
                                  source_portal, note, cause_event_id, principal_id, trace_id,
                                  shipper_party_id, carrier_party_id, driver_id)
  values (l.tenant_id, l.id, coalesce(p_source_event_id, 'status:' || gen_random_uuid()), 'status', l.status, p_to,
          coalesce(p_occurred_at, now()), case when app_private.is_trusted_session() then 'psql' else 'portal' end,
          app_private.freight_source_portal(), p_reason, p_cause_event_id, app_private.principal_id(),
          (app_private.request_context()).trace_id, l.shipper_party_id, l.carrier_party_id, l.driver_id);
  select s.event_verb into v_verb from public.freight_states s where s.machine = 'load' and s.state = p_to;
  perform app_private.freight_publish(l.tenant_id, 'load', l.id, v_verb,
    jsonb_build_object('from', l.status, 'to', p_to, 'order_id', l.order_id, 'shipper_party_id', l.shipper_party_id,
                       'carrier_party_id', l.carrier_party_id) || coalesce(p_payload, '{}'::jsonb));
  perform app_private.audit_write(l.tenant_id, 'freight.load.transition', 'load', l.id::text,
    jsonb_build_object('status', l.status), jsonb_build_object('status', p_to), p_reason);
  return p_to;
end $$;
comment on function app_private.freight_load_move(uuid, text, text, text, jsonb, uuid, timestamptz) is
  'THE load status change (every door): checks the transition table and preconditions, writes status, timeline event, outbox event, audit.';
revoke execute on function app_private.freight_load_move(uuid, text, text, text, jsonb, uuid, timestamptz) from public;

-- The door for staff, agents, EDI and psql: freight.load.transition in the load's tenant.
create function app_private.freight_load_transition(p_load_id uuid, p_to text, p_reason text default null,
                                                    p_source_event_id text default null)
returns text
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.freight_tenant_of('public.loads', p_load_id, 'freight.load.transition');
  if p_to = 'dispatched' then
    -- dispatch assigns driver and units: its own function checks them
    perform app_private.raise_error('bad_request', 'dispatch through app_private.freight_load_dispatch');
  end if;
  return app_private.freight_load_move(p_load_id, p_to, p_reason, p_source_event_id);
end $$;
comment on function app_private.freight_load_transition(uuid, text, text, text) is
  'Moves a load to a state (freight.load.transition): illegal pairs are refused with illegal_transition.';
grant execute on function app_private.freight_load_transition(uuid, text, text, text) to authenticated;

-- Tender status changes (the tender functions; checks the pair, writes, publishes, audits).
create function app_private.freight_tender_move(p_tender_id uuid, p_to text, p_note text default null,
                                                p_payload jsonb default null)
returns public.tenders
language plpgsql security definer set search_path = '' as $$
declare
  t public.tenders;
begin
  select * into t from public.tenders where id = p_tender_id for update;
  perform app_private.freight_transition_check('tender', t.id, t.status, p_to);
  perform app_private.freight_set_status('public.tenders', t.id, p_to);
  if p_to in ('accepted', 'declined', 'countered') then
    update public.tenders set responded_at = now(), responded_by = app_private.principal_id(),
                              response_note = coalesce(p_note, response_note)
     where id = t.id;
  end if;
  perform app_private.freight_publish(t.tenant_id, 'tender', t.id,
    (select s.event_verb from public.freight_states s where s.machine = 'tender' and s.state = p_to),
    jsonb_build_object('load_id', t.load_id, 'carrier_party_id', t.carrier_party_id, 'from', t.status, 'to', p_to)
      || coalesce(p_payload, '{}'::jsonb));
  perform app_private.audit_write(t.tenant_id, 'freight.tender.transition', 'tender', t.id::text,
    jsonb_build_object('status', t.status), jsonb_build_object('status', p_to), p_note);
  select * into t from public.tenders where id = p_tender_id;
  return t;
end $$;
comment on function app_private.freight_tender_move(uuid, text, text, jsonb) is
  'THE tender status change: transition table, status, outbox event freight.tender.<verb>, audit.';
revoke execute on function app_private.freight_tender_move(uuid, text, text, jsonb) from public;

-- A load's stops, in sequence: a pickup first, a delivery last, each window ending no
-- later than the next one starts. Raises stop_window_overlap / stops_out_of_sequence.
create function app_private.freight_validate_stops(p_load_id uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  s    record;
  prev record;
  n    int := 0;
  last_kind text;
begin
  for s in select * from public.stops where load_id = p_load_id order by sequence loop
    n := n + 1;
    if n = 1 and s.kind <> 'pickup' then
      perform app_private.raise_error('stops_out_of_sequence', format('load %s: the first stop is a %s, not a pickup', p_load_id, s.kind),
        jsonb_build_object('load_id', p_load_id, 'sequence', s.sequence));
    end if;
    if n > 1 then  -- (a record IS NOT NULL only when every field is)
      if prev.appointment && s.appointment then
        perform app_private.raise_error('stop_window_overlap',
          format('load %s: the windows of stops %s and %s overlap', p_load_id, prev.sequence, s.sequence),
          jsonb_build_object('load_id', p_load_id, 'sequence', s.sequence));
      elsif not (prev.appointment << s.appointment) then
        perform app_private.raise_error('stops_out_of_sequence',
          format('load %s: stop %s''s window is before stop %s''s', p_load_id, s.sequence, prev.sequence),
          jsonb_build_object('load_id', p_load_id, 'sequence', s.sequence));
      end if;
    end if;
    prev := s;
    last_kind := s.kind;
  end loop;
  if n > 0 and last_kind <> 'delivery' then
    perform app_private.raise_error('stops_out_of_sequence', format('load %s: the last stop is a pickup, not a delivery', p_load_id),
      jsonb_build_object('load_id', p_load_id, 'sequence', prev.sequence));
  end if;
end $$;
comment on function app_private.freight_validate_stops(uuid) is
  'Checks a load''s stops: pickup first, delivery last, windows in sequence without overlap.';
revoke execute on function app_private.freight_validate_stops(uuid) from public;

-- Deferred (end of transaction) check of the stops of every load a statement touched.
create function app_private.freight_stops_check() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if exists (select 1 from public.loads where id = coalesce(new.load_id, old.load_id)) then
    perform app_private.freight_validate_stops(coalesce(new.load_id, old.load_id));
  end if;
  return null;
end $$;
revoke execute on function app_private.freight_stops_check() from public;

-- Child rows carry their load's parties (and a document the readers its kind allows).
create function app_private.freight_child_parties() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  l public.loads;
  v_kind text;
begin
  if tg_table_name = 'documents' then
    new.shipper_party_id := null; new.carrier_party_id := null; new.driver_id := null;
    if new.load_id is not null then
      select * into l from public.loads where id = new.load_id;
      if new.kind in ('bol', 'pod', 'invoice') then new.shipper_party_id := l.shipper_party_id; end if;
      if new.kind in ('bol', 'pod', 'rate_confirmation') then new.carrier_party_id := l.carrier_party_id; end if;
      if new.kind in ('bol', 'pod') then new.driver_id := l.driver_id; end if;
    end if;
    if new.party_id is not null and new.kind not in ('bol', 'pod', 'invoice', 'rate_confirmation') then
      select p.kind into v_kind from public.parties p where p.id = new.party_id;
      if v_kind = 'shipper' then new.shipper_party_id := new.party_id; end if;
      if v_kind = 'carrier' then new.carrier_party_id := new.party_id; end if;
    end if;
    return new;
  end if;
  select * into l from public.loads where id = new.load_id;
  new.shipper_party_id := l.shipper_party_id;
  new.carrier_party_id := l.carrier_party_id;
  new.driver_id := l.driver_id;
  return new;
end $$;
revoke execute on function app_private.freight_child_parties() from public;

-- When a load's carrier or driver changes, its children follow.
create function app_private.freight_propagate_parties() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.stops set carrier_party_id = new.carrier_party_id, driver_id = new.driver_id where load_id = new.id;
  update public.load_events set carrier_party_id = new.carrier_party_id, driver_id = new.driver_id where load_id = new.id;
  update public.documents set kind = kind where load_id = new.id;  -- re-derives the readers
  return null;
end $$;
revoke execute on function app_private.freight_propagate_parties() from public;

-- A charge line's party is on its side: sell lines bill a shipper, buy lines pay a carrier.
create function app_private.freight_check_charge_line() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_kind text := (select p.kind from public.parties p where p.id = new.party_id);
begin
  if (new.side = 'sell' and v_kind <> 'shipper') or (new.side = 'buy' and v_kind <> 'carrier') then
    perform app_private.raise_error('bad_request',
      format('a %s line names a %s party; sell lines bill shippers, buy lines pay carriers', new.side, v_kind));
  end if;
  return new;
end $$;
revoke execute on function app_private.freight_check_charge_line() from public;

-- Every door that creates a live tender goes through here: the functions check the full
-- eligibility first (freight_require_eligible); this guard keeps a raw INSERT (psql, an
-- import) from offering a load to a blocked or suspended carrier as well. Live: offered or
-- countered and still answerable (an imported offer already past its deadline is history).
create function app_private.freight_tender_block_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  r record;
begin
  if new.status in ('offered', 'countered') and new.sla_deadline > now() then
    select * into r from app_private.freight_party_refusal(new.carrier_party_id);
    if r.code = 'party_blocked' then
      perform app_private.raise_error('party_blocked', format('party %s: %s', new.carrier_party_id, r.reason),
        jsonb_build_object('party_id', new.carrier_party_id, 'reason', r.reason));
    end if;
  end if;
  return new;
end $$;
revoke execute on function app_private.freight_tender_block_guard() from public;

-------------------------------------------------------------------------------------------
-- triggers and party policies
-------------------------------------------------------------------------------------------
create trigger status_guard before insert or update of status on public.loads
  for each row execute function app_private.freight_status_guard('load');
create trigger status_guard before insert or update of status on public.tenders
  for each row execute function app_private.freight_status_guard('tender');
create trigger tender_block_guard before insert on public.tenders
  for each row execute function app_private.freight_tender_block_guard();
create constraint trigger stops_in_sequence after insert or update or delete on public.stops
  deferrable initially deferred for each row execute function app_private.freight_stops_check();
create trigger child_parties before insert or update of load_id on public.stops
  for each row execute function app_private.freight_child_parties();
create trigger child_parties before insert or update of load_id on public.load_events
  for each row execute function app_private.freight_child_parties();
create trigger child_parties before insert or update on public.documents
  for each row execute function app_private.freight_child_parties();
create trigger propagate_parties after update of carrier_party_id, driver_id on public.loads
  for each row when (old.carrier_party_id is distinct from new.carrier_party_id or old.driver_id is distinct from new.driver_id)
  execute function app_private.freight_propagate_parties();
create trigger check_charge_line before insert or update of side, party_id on public.charge_lines
  for each row execute function app_private.freight_check_charge_line();

select ops.party_rls('public.orders', 'shipper', 'shipper_party_id');
select ops.party_rls('public.loads', 'shipper', 'shipper_party_id');
select ops.party_rls('public.loads', 'carrier', 'carrier_party_id');
select ops.party_rls('public.loads', 'driver', 'driver_id');
select ops.party_rls('public.stops', 'shipper', 'shipper_party_id');
select ops.party_rls('public.stops', 'carrier', 'carrier_party_id');
select ops.party_rls('public.stops', 'driver', 'driver_id');
select ops.party_rls('public.load_events', 'shipper', 'shipper_party_id');
select ops.party_rls('public.load_events', 'carrier', 'carrier_party_id');
select ops.party_rls('public.load_events', 'driver', 'driver_id');
select ops.party_rls('public.documents', 'shipper', 'shipper_party_id');
select ops.party_rls('public.documents', 'carrier', 'carrier_party_id');
select ops.party_rls('public.documents', 'driver', 'driver_id');
-- buy rates: a carrier reads only the tenders and bids naming it; shippers never
select ops.party_rls('public.tenders', 'carrier', 'carrier_party_id');
select ops.party_rls('public.bids', 'carrier', 'carrier_party_id');
-- every carrier user of the tenant reads the board
select ops.party_rls('public.load_board_posts', 'carrier', null);
-- the sell side to its shipper, the buy side to its carrier (the party's kind decides)
select ops.party_rls('public.charge_lines', 'shipper', 'party_id');
select ops.party_rls('public.charge_lines', 'carrier', 'party_id');
