-- Broker portal: route a load, tender it (the rate confirmation recorded beside the
-- tender), re-tender, cancel (TONU after dispatch), message the load's shipper and carrier,
-- and the SLA timers as data. The state changes themselves are the freight core's
-- (app_private.freight_tender_*, freight_load_move): these functions compose them, each in
-- the caller's transaction with its outbox events (freight.<entity>.<verb>, source_portal
-- broker) and audit rows under the request's trace.
--
-- SLA policy (tenant-scoped flags, TMS Admin's to set): freight.tenderSlaMinutes (the
-- core's: how long a carrier has to answer), broker.checkCallMinutes (how often a load on
-- its trip must report), broker.appointmentRiskMinutes (how far ahead a silent load's next
-- window counts as at risk).
--
-- Sections: permissions and grants (error codes, permissions); flags; tables and views;
-- functions; triggers and party policies.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('route_locked',    'SY400', 409, 'Load cannot be re-routed', 'A load is routed while it is draft or open; withdraw its tenders first (DETAIL names the status).'),
  ('no_next_carrier', 'SY401', 422, 'No carrier left to tender', 'Every eligible carrier of the tenant was already tendered this load (or none is eligible on its pickup day).'),
  ('tender_superseded', 'SY402', 409, 'Tender already re-tendered', 'The tender was already re-tendered; DETAIL names the tender that replaced it (withdraw or tender that one instead).')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('broker.route',   'Route a load: its stops, equipment and appointment windows (draft or open loads)'),
  ('broker.message', 'Send messages on a load to its shipper and carrier (delivered through the outbox)')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'broker.route'), ('super_admin', 'broker.message'),
  ('ops_manager', 'broker.route'), ('ops_manager', 'broker.message'),
  ('dispatcher', 'broker.route'), ('dispatcher', 'broker.message'),
  -- the appointment-risk agent notifies the shipper
  ('agents', 'broker.message')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('broker.checkCallMinutes', 'integer', 5, 1440, null, false, '{global,tenant}', '240', 'freight.settings.manage',
   'A load on its trip (dispatched .. at_delivery) reports a check call at least this often (SLA timer check_call)'),
  ('broker.appointmentRiskMinutes', 'integer', 5, 2880, null, false, '{global,tenant}', '120', 'freight.settings.manage',
   'A silent load (check call overdue) whose next stop''s window opens within this many minutes is at risk')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables and views
-------------------------------------------------------------------------------------------
-- Messages on a load, one row per recipient party (a shipper's row never names the carrier
-- and the other way round); delivered by the outbox (freight.message.sent names the
-- message, never its text). Written only through the functions below.
create table public.load_messages (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  load_id          uuid not null,
  audience         text not null constraint load_messages_audience_allowed_check check (audience in ('shipper', 'carrier')),
  -- the recipient (exactly one, on the audience's side)
  shipper_party_id uuid,
  carrier_party_id uuid,
  kind             text not null default 'message' constraint load_messages_kind_allowed_check check (kind in ('message', 'notice')),
  body             text not null constraint load_messages_body_length_check check (length(btrim(body)) between 1 and 2000),
  status           text not null default 'sent' constraint load_messages_status_allowed_check check (status in ('sent', 'retracted')),
  sent_by          uuid default auth.uid(),
  created_at       timestamptz not null default now(),
  retracted_at     timestamptz,
  trace_id         text,
  constraint load_messages_recipient_check check ((audience = 'shipper') = (shipper_party_id is not null and carrier_party_id is null)
                                                 and (audience = 'carrier') = (carrier_party_id is not null and shipper_party_id is null)),
  constraint load_messages_retracted_check check ((status = 'retracted') = (retracted_at is not null)),
  constraint load_messages_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint load_messages_shipper_fk foreign key (tenant_id, shipper_party_id) references public.parties (tenant_id, id),
  constraint load_messages_carrier_fk foreign key (tenant_id, carrier_party_id) references public.parties (tenant_id, id)
);
comment on table public.load_messages is
  'Messages and notices on a load to its shipper or carrier (one row per recipient party); sent through app_private.broker_message_send.';
create index load_messages_load_idx on public.load_messages (load_id, created_at);
select ops.attach_rails('public.load_messages', 'domain.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.load_messages',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "audience": "shipper", "shipper_party_id": "$shipper", "body": "matrix $n"}');

-- SLA timers as data (security invoker: the caller's RLS): one row per timer, derived from
-- the tenders, stops and timeline, so a timer is never out of step with what happened.
--   tender_response       offered_at .. sla_deadline; met by an answer (accept, decline, counter)
--   pickup_appointment,
--   delivery_appointment  the stop's window; met by an arrival no later than its end
--   check_call            last check call (a tracking event; else the dispatch) + broker.checkCallMinutes,
--                         while the load is on its trip
-- state: running | met | breached | cancelled.
create view public.sla_timers with (security_invoker = true) as
  select t.tenant_id, 'tender_response'::text as kind, t.load_id, t.id as tender_id, null::uuid as stop_id,
         t.carrier_party_id, t.offered_at as started_at, t.sla_deadline as due_at,
         case when t.responded_at <= t.sla_deadline then t.responded_at end as met_at,
         case when t.responded_at is not null and t.responded_at <= t.sla_deadline then 'met'
              when t.status = 'cancelled' then 'cancelled'
              when t.status = 'expired' or now() > t.sla_deadline then 'breached'
              else 'running' end as state
  from public.tenders t
  union all
  select s.tenant_id, s.kind || '_appointment', s.load_id, null, s.id, l.carrier_party_id,
         lower(s.appointment), upper(s.appointment),
         case when s.actual_arrival_at <= upper(s.appointment) then s.actual_arrival_at end,
         case when s.actual_arrival_at is not null then case when s.actual_arrival_at <= upper(s.appointment) then 'met' else 'breached' end
              when l.status in ('cancelled', 'tonu', 'delivered', 'completed') then 'cancelled'
              when now() > upper(s.appointment) then 'breached'
              else 'running' end
  from public.stops s join public.loads l on l.id = s.load_id
  where l.status <> 'draft'
  union all
  select c.tenant_id, 'check_call', c.id, null, null, c.carrier_party_id, c.last_call,
         c.last_call + make_interval(mins => c.every), null,
         case when now() > c.last_call + make_interval(mins => c.every) then 'breached' else 'running' end
  from (select l.tenant_id, l.id, l.carrier_party_id,
               coalesce((select max(e.occurred_at) from public.load_events e where e.load_id = l.id and e.kind = 'tracking'),
                        l.status_changed_at) as last_call,
               (public.flag_value('broker.checkCallMinutes', l.tenant_id))::text::int as every
        from public.loads l
        where l.status in ('dispatched', 'at_pickup', 'picked_up', 'in_transit', 'at_delivery')) c;
comment on view public.sla_timers is
  'SLA timers (tender response, pickup and delivery appointments, check calls) derived from tenders, stops and load events; the caller''s RLS applies.';
revoke all on public.sla_timers from anon, authenticated;
grant select on public.sla_timers to authenticated, service_role;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Route a load (broker.route): replaces its stops ({"kind", "facility_id",
-- "window_start_local", "window_end_local"} in each facility's own time, or
-- "window_start" / "window_end" as timestamptz) and sets its equipment, weight and
-- commodity. Only while draft or open (route_locked otherwise); the stops are validated
-- (stop_window_overlap, stops_out_of_sequence). Event freight.load.routed.
create function app_private.broker_load_route(p_load_id uuid, p_route jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'broker.route');
  l        public.loads;
  v_seq    int;
begin
  select * into l from public.loads where id = p_load_id for update;
  if l.status not in ('draft', 'open') then
    perform app_private.raise_error('route_locked', format('load %s is %s: only draft or open loads are routed', l.id, l.status),
      jsonb_build_object('load_id', l.id, 'status', l.status));
  end if;
  if jsonb_typeof(p_route -> 'stops') is distinct from 'array' or jsonb_array_length(p_route -> 'stops') < 2 then
    perform app_private.raise_error('bad_request', 'a route needs at least two stops (a pickup and a delivery)');
  end if;
  delete from public.stops where load_id = l.id;
  v_seq := app_private.freight_stops_write(v_tenant, l.id, l.shipper_party_id, p_route -> 'stops');
  update public.loads set equipment_type = coalesce(p_route ->> 'equipment_type', equipment_type),
                          weight_lbs = coalesce((p_route ->> 'weight_lbs')::int, weight_lbs),
                          commodity = coalesce(p_route ->> 'commodity', commodity), updated_at = now()
   where id = l.id;
  perform app_private.freight_publish(v_tenant, 'load', l.id, 'routed',
    jsonb_build_object('status', l.status, 'stops', v_seq, 'equipment_type', coalesce(p_route ->> 'equipment_type', l.equipment_type)));
  perform app_private.audit_write(v_tenant, 'freight.load.route', 'load', l.id::text, null,
    jsonb_build_object('stops', v_seq, 'equipment_type', coalesce(p_route ->> 'equipment_type', l.equipment_type)));
  return app_private.freight_lane(l.id);
end $$;
comment on function app_private.broker_load_route(uuid, jsonb) is
  'Routes a draft or open load (broker.route): stops with windows in facility time, equipment; event freight.load.routed.';
grant execute on function app_private.broker_load_route(uuid, jsonb) to authenticated;

-- The carrier to tender a load to next: the best scorecard among the tenant's carriers that
-- were not tendered this load yet and are eligible on its pickup day (null: none left).
-- Read by the broker's actions under the caller's claims (freight.tender.offer there).
create function app_private.broker_next_carrier(p_load_id uuid) returns uuid
language plpgsql stable security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'freight.tender.offer');
  v_on     date := app_private.freight_pickup_date(p_load_id);
begin
  return (select c.carrier_party_id
          from public.freight_carrier_scorecard(v_tenant) c
          where not exists (select 1 from public.tenders t where t.load_id = p_load_id and t.carrier_party_id = c.carrier_party_id)
            and (select r.code from app_private.freight_party_refusal(c.carrier_party_id, v_on) r) is null
          order by c.score desc, c.carrier_party_id
          limit 1);
end $$;
comment on function app_private.broker_next_carrier(uuid) is
  'The best-scoring eligible carrier not yet tendered the load (freight.tender.offer), or null.';
grant execute on function app_private.broker_next_carrier(uuid) to authenticated;

-- Re-tender (freight.tender.offer): the tender ends (expired when past its deadline, else
-- cancelled: the broker moves on) and the load is offered to p_carrier (default: the next
-- by scorecard) at p_rate_cents (default: the same rate) until p_sla_deadline (default: the
-- SLA policy). No carrier left: no_next_carrier, unless the tender is past its deadline,
-- which then only expires (carrier null in the result: the agent does not retry every tick).
create function app_private.broker_retender(p_tender_id uuid, p_carrier_party_id uuid default null,
                                                       p_rate_cents bigint default null, p_sla_deadline timestamptz default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.freight_tenant_of('public.tenders', p_tender_id, 'freight.tender.offer');
  t         public.tenders;
  v_ended   text;
  v_carrier uuid;
  v_new     uuid;
begin
  -- the row lock orders concurrent re-tenders: the second sees superseded_by
  select * into t from public.tenders where id = p_tender_id for update;
  if t.superseded_by is not null then
    perform app_private.raise_error('tender_superseded', format('tender %s was already re-tendered as %s', t.id, t.superseded_by),
      jsonb_build_object('tender_id', t.id, 'superseded_by', t.superseded_by, 'status', t.status));
  end if;
  if t.status = 'accepted' then
    perform app_private.raise_error('illegal_transition', format('tender %s was accepted: cancel it (or the load) instead', t.id),
      jsonb_build_object('machine', 'tender', 'id', t.id, 'from', t.status, 'to', 'expired'));
  end if;
  v_carrier := coalesce(p_carrier_party_id, app_private.broker_next_carrier(t.load_id));
  if v_carrier is null and not (t.status in ('offered', 'countered') and now() > t.sla_deadline) then
    perform app_private.raise_error('no_next_carrier', format('load %s: every eligible carrier was tendered already', t.load_id),
      jsonb_build_object('load_id', t.load_id));
  end if;
  if t.status in ('offered', 'countered') then
    if now() > t.sla_deadline then
      v_ended := app_private.freight_tender_expire(t.id);
    else
      v_ended := app_private.freight_tender_cancel(t.id, 're-tendered');
    end if;
  else
    v_ended := t.status;
  end if;
  if v_carrier is not null then
    v_new := app_private.freight_tender_offer(t.load_id, v_carrier, coalesce(p_rate_cents, t.offered_rate_cents), p_sla_deadline, t.currency);
    update public.tenders set superseded_by = v_new where id = t.id;
  end if;
  return jsonb_build_object('previous_tender_id', t.id, 'previous_status', v_ended, 'load_id', t.load_id,
                            'tender_id', v_new, 'carrier_party_id', v_carrier,
                            'rate_cents', case when v_new is not null then coalesce(p_rate_cents, t.offered_rate_cents) end,
                            'sla_deadline', (select sla_deadline from public.tenders where id = v_new));
end $$;
comment on function app_private.broker_retender(uuid, uuid, bigint, timestamptz) is
  'Ends a tender (expired past its deadline, else cancelled) and offers the load to the next carrier by scorecard, once per tender (tender_superseded after; freight.tender.offer).';
grant execute on function app_private.broker_retender(uuid, uuid, bigint, timestamptz) to authenticated;

-- Cancel a load (freight.load.transition). Before dispatch: its tenders are withdrawn and
-- the load is cancelled. After dispatch (dispatched, at_pickup): the truck was ordered and
-- not used, so the load goes to tonu with a TONU charge line paid to the carrier
-- (p_tonu_cents, default the catalogue's TONU rate) and, when p_bill_shipper_cents is given,
-- one billed to the shipper. Later states refuse (illegal_transition).
create function app_private.broker_load_cancel(p_load_id uuid, p_reason text, p_tonu_cents bigint default null,
                                               p_bill_shipper_cents bigint default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'freight.load.transition');
  l        public.loads;
  t        record;
  v_acc    public.accessorials;
  v_to     text;
  v_tonu   bigint;
  v_lines  jsonb := '[]';
begin
  if p_reason is null or length(btrim(p_reason)) = 0 then
    perform app_private.raise_error('bad_request', 'a cancellation needs a reason');
  end if;
  select * into l from public.loads where id = p_load_id for update;
  v_to := case when l.status in ('dispatched', 'at_pickup') then 'tonu' else 'cancelled' end;
  perform app_private.freight_transition_check('load', l.id, l.status, v_to);
  for t in select id from public.tenders where load_id = l.id and status in ('offered', 'countered', 'accepted') loop
    perform app_private.freight_tender_move(t.id, 'cancelled', 'load ' || v_to || ': ' || p_reason);
  end loop;
  if v_to = 'tonu' then
    select * into v_acc from public.accessorials a where a.tenant_id = v_tenant and a.code = 'TONU' and a.active;
    v_tonu := coalesce(p_tonu_cents, v_acc.default_rate_cents);
    if v_tonu is null or v_tonu < 0 then
      perform app_private.raise_error('bad_amount', 'TONU needs an amount in integer cents (no TONU rate in the accessorial catalogue)');
    end if;
    if p_bill_shipper_cents is not null and p_bill_shipper_cents < 0 then
      perform app_private.raise_error('bad_amount', 'the TONU billed to the shipper is non-negative integer cents');
    end if;
    insert into public.charge_lines (tenant_id, load_id, side, party_id, kind, accessorial_id, description, amount_cents, currency,
                                     source_type, source_id)
    values (v_tenant, l.id, 'buy', l.carrier_party_id, 'accessorial', v_acc.id, 'TONU', v_tonu,
            coalesce((select t2.currency from public.tenders t2 where t2.load_id = l.id and t2.accepted_rate_cents is not null
                      order by t2.offered_at desc limit 1), 'USD'), 'cancel', l.id);
    v_lines := v_lines || jsonb_build_object('side', 'buy', 'party_id', l.carrier_party_id, 'amount_cents', v_tonu);
    if p_bill_shipper_cents is not null then
      insert into public.charge_lines (tenant_id, load_id, side, party_id, kind, accessorial_id, description, amount_cents, currency,
                                       source_type, source_id)
      values (v_tenant, l.id, 'sell', l.shipper_party_id, 'accessorial', v_acc.id, 'TONU', p_bill_shipper_cents,
              (select o.currency from public.orders o where o.id = l.order_id), 'cancel', l.id);
      v_lines := v_lines || jsonb_build_object('side', 'sell', 'party_id', l.shipper_party_id, 'amount_cents', p_bill_shipper_cents);
    end if;
  end if;
  perform app_private.freight_load_move(l.id, v_to, p_reason, null,
    case when v_to = 'tonu' then jsonb_build_object('tonu_cents', v_tonu, 'bill_shipper_cents', p_bill_shipper_cents) end);
  return jsonb_build_object('load_id', l.id, 'from', l.status, 'status', v_to, 'charge_lines', v_lines);
end $$;
comment on function app_private.broker_load_cancel(uuid, text, bigint, bigint) is
  'Cancels a load (freight.load.transition): before dispatch cancelled, after dispatch tonu with TONU charge lines.';
grant execute on function app_private.broker_load_cancel(uuid, text, bigint, bigint) to authenticated;

-- Send a message on a load (broker.message) to its shipper and / or its carrier: one row
-- and one outbox event freight.message.sent per recipient (ids and audience only: the text
-- stays in the table). p_kind 'notice': a system notice (the agents').
create function app_private.broker_message_send(p_load_id uuid, p_audience text[], p_body text, p_kind text default 'message')
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.loads', p_load_id, 'broker.message');
  l        public.loads;
  a        text;
  v_id     uuid;
  v_out    jsonb := '[]';
begin
  select * into l from public.loads where id = p_load_id;
  if p_audience is null or cardinality(p_audience) = 0 or not (p_audience <@ array['shipper', 'carrier']) then
    perform app_private.raise_error('bad_request', 'the audience is shipper, carrier or both');
  end if;
  if 'carrier' = any (p_audience) and l.carrier_party_id is null then
    perform app_private.raise_error('bad_request', format('load %s has no carrier yet', l.id));
  end if;
  foreach a in array (select array_agg(distinct x order by x) from unnest(p_audience) x) loop
    insert into public.load_messages (tenant_id, load_id, audience, shipper_party_id, carrier_party_id, kind, body, trace_id)
    values (v_tenant, l.id, a, case when a = 'shipper' then l.shipper_party_id end, case when a = 'carrier' then l.carrier_party_id end,
            coalesce(p_kind, 'message'), p_body, (app_private.request_context()).trace_id)
    returning id into v_id;
    perform app_private.freight_publish(v_tenant, 'message', v_id, 'sent',
      jsonb_build_object('load_id', l.id, 'audience', a, 'kind', coalesce(p_kind, 'message'),
                         'recipient_party_id', case when a = 'shipper' then l.shipper_party_id else l.carrier_party_id end));
    perform app_private.audit_write(v_tenant, 'freight.message.send', 'message', v_id::text, null,
      jsonb_build_object('load_id', l.id, 'audience', a, 'kind', coalesce(p_kind, 'message')));
    v_out := v_out || jsonb_build_object('message_id', v_id, 'audience', a);
  end loop;
  return v_out;
end $$;
comment on function app_private.broker_message_send(uuid, text[], text, text) is
  'Messages a load''s shipper and / or carrier (broker.message): a row and a freight.message.sent event per recipient.';
grant execute on function app_private.broker_message_send(uuid, text[], text, text) to authenticated;

-- Retract a sent message (broker.message): marked retracted, event freight.message.retracted.
create function app_private.broker_message_retract(p_message_id uuid) returns text
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.freight_tenant_of('public.load_messages', p_message_id, 'broker.message');
  m        public.load_messages;
begin
  select * into m from public.load_messages where id = p_message_id for update;
  if m.status = 'retracted' then
    return 'retracted';
  end if;
  update public.load_messages set status = 'retracted', retracted_at = now() where id = m.id;
  perform app_private.freight_publish(v_tenant, 'message', m.id, 'retracted',
    jsonb_build_object('load_id', m.load_id, 'audience', m.audience));
  perform app_private.audit_write(v_tenant, 'freight.message.retract', 'message', m.id::text,
    jsonb_build_object('status', m.status), jsonb_build_object('status', 'retracted'));
  return 'retracted';
end $$;
comment on function app_private.broker_message_retract(uuid) is
  'Retracts a message (broker.message); event freight.message.retracted.';
grant execute on function app_private.broker_message_retract(uuid) to authenticated;

-- A rate confirmation is addressed to one carrier (its party_id): only that carrier reads
-- it, whichever carrier the load ends up with (the core derives the reader from the load's
-- carrier, which would show an earlier carrier's rate to the one that covers it).
create function app_private.broker_rate_confirmation_reader() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.kind = 'rate_confirmation' and new.party_id is not null
     and (select p.kind from public.parties p where p.id = new.party_id) = 'carrier' then
    new.carrier_party_id := new.party_id;
  end if;
  return new;
end $$;
revoke execute on function app_private.broker_rate_confirmation_reader() from public;

-------------------------------------------------------------------------------------------
-- triggers and party policies
-------------------------------------------------------------------------------------------
-- (after the core's child_parties: BEFORE triggers run in name order)
create trigger rate_confirmation_reader before insert or update on public.documents
  for each row execute function app_private.broker_rate_confirmation_reader();

select ops.party_rls('public.load_messages', 'shipper', 'shipper_party_id');
select ops.party_rls('public.load_messages', 'carrier', 'carrier_party_id');
