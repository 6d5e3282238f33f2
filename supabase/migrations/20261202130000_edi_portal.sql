-- EDI portal (issue 16): X12 004010 interchanges with the tenant's trading partners
-- (tms_admin_edi_partners, configured in TMS Admin). The edge parses and checks the syntax
-- (packages/portals/edi/domain, node-x12); Postgres is the authority for everything else:
--   edi_interchanges     every interchange, inbound and outbound, raw with its sha256; state
--                        received -> applied | partially_applied | duplicate | rejected;
--                        outbound ones wait in the partner's mailbox until picked up
--   edi_transactions     each transaction set: its control numbers, state, errors by
--                        segment / element, the load it booked or moved; outbound ones carry
--                        their 997 expectation (ack_status, due_at)
--   edi_control_counters per partner, gap-free and never reused: a number is taken by an
--                        UPDATE in the transaction that writes the interchange using it
-- edi_receive applies each set through the freight functions every door calls
-- (freight_order_book, freight_load_transition, freight_load_event_record,
-- freight_tender_accept / _decline), each set in a subtransaction of its own: applied
-- whole or not at all. Duplicates as translators detect them: the exact bytes again (sha256),
-- ISA13 per sender / receiver within edi.duplicateWindowDays, and the business duplicate (a
-- 204 original whose B204 shipment id was booked for the partner already). GS06 / ST02
-- uniqueness within their envelope is a syntax check at the edge (AK9 / AK5 23).
--
-- Sections: permissions and grants (error codes, permissions, flags); tables; functions.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('edi_partner_unknown', 'SY220', 404, 'Unknown EDI partner',          'No active trading partner of the tenant has this ISA qualifier and id.'),
  ('edi_shipment_unknown', 'SY221', 422, 'Unknown shipment',            'The transaction set names a shipment (B204 / B1002 / B102) this partner has no load for.'),
  ('edi_facility_unknown', 'SY222', 422, 'Unknown facility',            'A 204 stop names a facility (N102 name + N403 postal code) not in the tenant''s directory.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('edi.receive', 'Submit inbound X12 interchanges and pick up outbound ones (the EDI gateway)'),
  ('edi.read',    'Read the tenant''s EDI interchanges, transaction sets and their errors')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('n8n', 'edi.receive'), ('n8n', 'edi.read'), ('agents', 'edi.receive'), ('agents', 'edi.read'),
  -- a 204 cancel moves the load (the gateway books and records events already)
  ('n8n', 'freight.load.transition'),
  ('super_admin', 'edi.receive'), ('super_admin', 'edi.read'), ('tenant_admin', 'edi.read'), ('ops_manager', 'edi.read'), ('dispatcher', 'edi.read')
) as m(r, p)
on conflict do nothing;

insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('edi.duplicateWindowDays', 'integer', 1, 365, null, false, '{global,tenant}', '30', 'tms_admin.manage',
   'An inbound ISA13 seen again from the same sender / receiver within this many days is a duplicate')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.edi_interchanges (
  id                 uuid primary key default gen_random_uuid(),
  tenant_id          uuid not null references public.tenants (id) on delete cascade,
  partner_id         uuid references public.tms_admin_edi_partners (id) on delete restrict,
  direction          text not null constraint edi_interchanges_direction_allowed_check check (direction in ('in', 'out')),
  sender_qualifier   text,
  sender_id          text,
  receiver_qualifier text,
  receiver_id        text,
  -- ISA13 (nine digits); null when the envelope could not be read
  control_number     text constraint edi_interchanges_control_number_format_check check (control_number ~ '^\d{9}$'),
  functional_id      text,
  raw                text not null constraint edi_interchanges_raw_length_check check (length(raw) between 1 and 2000000),
  sha256             text not null constraint edi_interchanges_sha256_format_check check (sha256 ~ '^[0-9a-f]{64}$'),
  state              text not null default 'received' constraint edi_interchanges_state_allowed_check
                     check (state in ('received', 'applied', 'partially_applied', 'duplicate', 'rejected', 'queued', 'picked_up')),
  duplicate_of       uuid references public.edi_interchanges (id),
  -- the 997 we sent for it (inbound) / the inbound interchange it answers (outbound)
  related_id         uuid references public.edi_interchanges (id),
  -- a readable account: {"envelope": {code, note}} or {"reason": ...}
  errors             jsonb not null default '{}',
  trace_id           text,
  picked_up_at       timestamptz,
  created_at         timestamptz not null default now()
);
comment on table public.edi_interchanges is
  'EDI interchanges in and out, raw with sha256; inbound state received/applied/partially_applied/duplicate/rejected, outbound queued/picked_up (the mailbox).';
create index edi_interchanges_tenant_partner_idx on public.edi_interchanges (tenant_id, partner_id, direction, created_at desc);
create index edi_interchanges_sha_idx on public.edi_interchanges (tenant_id, sha256) where direction = 'in';
create index edi_interchanges_control_idx on public.edi_interchanges (tenant_id, partner_id, control_number) where direction = 'in';
-- our own control numbers are never reused
create unique index edi_interchanges_out_control_unique on public.edi_interchanges (partner_id, control_number) where direction = 'out';
create index edi_interchanges_duplicate_of_idx on public.edi_interchanges (duplicate_of);
create index edi_interchanges_related_idx on public.edi_interchanges (related_id);
select ops.attach_rails('public.edi_interchanges', 'edi.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.edi_interchanges', '{"tenant_id": "$tenant", "direction": "in", "raw": "ISA matrix $n", "sha256": "0000000000000000000000000000000000000000000000000000000000000000"}');

create table public.edi_transactions (
  id              uuid primary key default gen_random_uuid(),
  tenant_id       uuid not null references public.tenants (id) on delete cascade,
  interchange_id  uuid not null references public.edi_interchanges (id) on delete cascade,
  partner_id      uuid references public.tms_admin_edi_partners (id) on delete restrict,
  direction       text not null constraint edi_transactions_direction_allowed_check check (direction in ('in', 'out')),
  functional_id   text not null,
  group_control   text not null,
  set_id          text not null,
  control_number  text not null,
  state           text not null constraint edi_transactions_state_allowed_check
                  check (state in ('applied', 'duplicate', 'rejected', 'queued')),
  -- 204: B204 shipment id and B2A01 purpose (the business duplicate's key)
  shipment_id     text,
  purpose         text,
  load_id         uuid,
  order_id        uuid,
  -- AK5 code we answered (inbound) / the partner's 997 said (outbound)
  ack_code        text,
  errors          jsonb not null default '[]',
  -- outbound: the 997 expected by due_at (null for a 997, never acknowledged)
  ack_status      text constraint edi_transactions_ack_status_allowed_check check (ack_status in ('pending', 'accepted', 'rejected', 'overdue', 'resent')),
  due_at          timestamptz,
  resent_as       uuid references public.edi_transactions (id),
  created_at      timestamptz not null default now(),
  constraint edi_transactions_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id)
);
comment on table public.edi_transactions is
  'EDI transaction sets (in and out): control numbers, state, errors by segment/element, the load; outbound ones their 997 expectation.';
create index edi_transactions_interchange_idx on public.edi_transactions (interchange_id);
create index edi_transactions_load_idx on public.edi_transactions (load_id);
create index edi_transactions_partner_idx on public.edi_transactions (partner_id);
create index edi_transactions_resent_as_idx on public.edi_transactions (resent_as);
create index edi_transactions_ack_idx on public.edi_transactions (tenant_id, due_at) where ack_status = 'pending';
-- the business duplicate: one booked original per partner and shipment id
create unique index edi_transactions_shipment_unique on public.edi_transactions (partner_id, shipment_id)
  where direction = 'in' and set_id = '204' and purpose = '00' and state = 'applied';
create index edi_transactions_out_match_idx on public.edi_transactions (partner_id, group_control, control_number) where direction = 'out';
select ops.attach_rails('public.edi_transactions', 'edi.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.edi_transactions', '{"tenant_id": "$tenant", "interchange_id": "$ref:edi_interchanges", "direction": "in", "functional_id": "SM", "group_control": "$n", "set_id": "204", "control_number": "$n", "state": "applied"}');

create table public.edi_control_counters (
  tenant_id  uuid not null references public.tenants (id) on delete cascade,
  partner_id uuid not null references public.tms_admin_edi_partners (id) on delete cascade,
  kind       text not null constraint edi_control_counters_kind_allowed_check check (kind in ('isa', 'gs', 'st')),
  last_value bigint not null default 0 constraint edi_control_counters_last_value_range_check check (last_value between 0 and 999999999),
  primary key (partner_id, kind)
);
comment on table public.edi_control_counters is
  'Per-partner outbound control numbers (ISA13, GS06, ST02): taken in the writing transaction, so gap-free and never reused.';
create index edi_control_counters_tenant_idx on public.edi_control_counters (tenant_id);
select ops.attach_rails('public.edi_control_counters', 'edi.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.edi_control_counters', '{"tenant_id": "$tenant", "partner_id": "$ref:tms_admin_edi_partners", "kind": "isa"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The error code of a caught SQLSTATE (rail_errors), or null for one that is not a
-- freight / EDI refusal (those are re-raised: a rail that trips stops the interchange).
create function app_private.edi_refusal_code(p_state text) returns text
language sql stable security definer set search_path = '' as $$
  select coalesce((select e.code from public.rail_errors e where e.sqlstate = p_state and (p_state like 'SY1%' or p_state like 'SY2%')),
                  case when p_state like '22%' or p_state like '23%' then 'bad_request' end)
$$;
revoke execute on function app_private.edi_refusal_code(text) from public;

-- The shipper's load a 204 change / cancel names: the booking of its original.
create function app_private.edi_booked_load(p_partner uuid, p_shipment text) returns uuid
language sql stable security definer set search_path = '' as $$
  select t.load_id from public.edi_transactions t
  where t.partner_id = p_partner and t.shipment_id = p_shipment and t.direction = 'in' and t.set_id = '204'
    and t.purpose = '00' and t.state = 'applied'
$$;
revoke execute on function app_private.edi_booked_load(uuid, text) from public;

-- Applies one sound inbound set (p_set: the edge's SetPlan) for the partner and returns what
-- it did; a refusal is re-raised with its HINT naming the locator of the element at fault
-- (edi.locator=<key>: the 997's AK3/AK4 point there).
create function app_private.edi_apply_set(p_partner public.tms_admin_edi_partners, p_set jsonb, out result jsonb)
language plpgsql security definer set search_path = '' as $$
declare
  p_locator text;
  v_state text;
  v_msg   text;
  v_detail text;
  d       jsonb := p_set -> 'data';
  s       jsonb;
  e       jsonb;
  v_load  uuid;
  v_fac   uuid;
  v_stops jsonb := '[]';
  v_book  jsonb;
  v_tz    text;
  v_tender uuid;
  v_n     int := 0;
begin
  case p_set ->> 'set_id'
  when '204' then
    p_locator := 'shipment';
    v_load := app_private.edi_booked_load(p_partner.id, d ->> 'shipment_id');
    if d ->> 'purpose' = 'original' then
      if v_load is not null then
        result := jsonb_build_object('state', 'duplicate', 'load_id', v_load);
        return;
      end if;
      for s in select * from jsonb_array_elements(d -> 'stops') loop
        p_locator := s ->> 'locator';
        select f.id into v_fac from public.facilities f
         where f.tenant_id = p_partner.tenant_id and lower(f.name) = lower(s ->> 'facility_name')
           and coalesce(f.postal_code, '') = left(s ->> 'postal_code', 5)
         order by f.id limit 1;
        if v_fac is null then
          perform app_private.raise_error('edi_facility_unknown',
            format('stop %s: no facility "%s" at %s', s ->> 'sequence', s ->> 'facility_name', s ->> 'postal_code'));
        end if;
        v_stops := v_stops || jsonb_build_object('kind', s ->> 'kind', 'facility_id', v_fac,
          'window_start_local', s ->> 'window_start_local',
          'window_end_local', coalesce(s ->> 'window_end_local', ((s ->> 'window_start_local')::timestamp + interval '2 hours')::text),
          'reference', d ->> 'shipment_id');
      end loop;
      p_locator := 'shipment';
      v_book := app_private.freight_order_book(jsonb_strip_nulls(jsonb_build_object(
        'shipper_party_id', p_partner.party_id, 'customer_reference', coalesce(d ->> 'customer_reference', d ->> 'shipment_id'),
        'equipment_type', d ->> 'equipment_type', 'weight_lbs', d -> 'weight_lbs',
        'sell', jsonb_build_object('linehaul_cents', coalesce(d -> 'linehaul_cents', '0'::jsonb)), 'stops', v_stops)));
      result := jsonb_build_object('state', 'applied', 'load_id', v_book ->> 'load_id', 'order_id', v_book ->> 'order_id');
      return;
    end if;
    if v_load is null then
      perform app_private.raise_error('edi_shipment_unknown', format('no booked shipment %s for this partner', d ->> 'shipment_id'));
    end if;
    p_locator := 'purpose';
    if d ->> 'purpose' = 'cancel' then
      perform app_private.freight_load_transition(v_load, 'cancelled', 'EDI 204 cancel');
    else
      -- a change: what the load carries (a cancelled or moving load refuses: illegal_transition)
      perform app_private.freight_transition_check('load', v_load, (select status from public.loads where id = v_load), 'open')
        where (select status from public.loads where id = v_load) not in ('draft', 'open', 'tendered', 'covered');
      update public.loads set equipment_type = coalesce(d ->> 'equipment_type', equipment_type),
                              weight_lbs = coalesce((d ->> 'weight_lbs')::int, weight_lbs)
       where id = v_load;
    end if;
    result := jsonb_build_object('state', 'applied', 'load_id', v_load);
  when '214' then
    p_locator := 'shipment';
    select l.id into v_load from public.loads l
     where l.tenant_id = p_partner.tenant_id and l.reference = d ->> 'shipment_id' and l.carrier_party_id = p_partner.party_id;
    if v_load is null then
      perform app_private.raise_error('edi_shipment_unknown', format('no load %s covered by this partner', d ->> 'shipment_id'));
    end if;
    for e in select * from jsonb_array_elements(d -> 'events') loop
      p_locator := e ->> 'locator';
      select f.time_zone into v_tz from public.stops st join public.facilities f on f.id = st.facility_id
       where st.load_id = v_load and st.sequence = (e ->> 'stop_sequence')::int;
      perform app_private.freight_load_event_record(v_load, jsonb_strip_nulls(jsonb_build_object(
        'source_event_id', format('edi:%s:%s:%s:%s:%s%s', p_partner.id, d ->> 'shipment_id', e ->> 'status_code',
                                  coalesce(e ->> 'stop_sequence', '-'), e ->> 'date', e ->> 'time'),
        'status_code', e ->> 'status_code', 'stop_sequence', e -> 'stop_sequence',
        'occurred_at', (to_timestamp((e ->> 'date') || (e ->> 'time'), 'YYYYMMDDHH24MI')::timestamp
                        at time zone case when e ->> 'time_code' in ('UT', 'GM') or v_tz is null then 'UTC' else v_tz end),
        'source', 'edi', 'city', e ->> 'city', 'region', e ->> 'region')));
      v_n := v_n + 1;
    end loop;
    result := jsonb_build_object('state', 'applied', 'load_id', v_load, 'events', v_n);
  when '990' then
    p_locator := 'shipment';
    select t.id, t.load_id into v_tender, v_load from public.tenders t join public.loads l on l.id = t.load_id
     where l.tenant_id = p_partner.tenant_id and l.reference = d ->> 'shipment_id' and t.carrier_party_id = p_partner.party_id
       and t.status in ('offered', 'countered')
     order by t.created_at desc limit 1;
    if v_tender is null then
      perform app_private.raise_error('edi_shipment_unknown', format('no open tender of %s to this partner', d ->> 'shipment_id'));
    end if;
    if d ->> 'action' = 'accept' then
      perform app_private.freight_tender_accept(v_tender, 'EDI 990');
    else
      perform app_private.freight_tender_decline(v_tender, coalesce(d ->> 'reason', 'EDI 990 decline'));
    end if;
    result := jsonb_build_object('state', 'applied', 'load_id', v_load);
  when '997' then
    -- our outbound sets the partner acknowledged (AK1 group, AK2 sets); a 997 is never acknowledged
    update public.edi_transactions t
       set ack_status = case when a ->> 'status' in ('A', 'E') then 'accepted' else 'rejected' end, ack_code = a ->> 'status'
      from jsonb_array_elements(d -> 'sets') a
     where t.partner_id = p_partner.id and t.direction = 'out' and t.group_control = d ->> 'group_control'
       and t.control_number = a ->> 'control' and t.set_id = a ->> 'set_id' and t.ack_status in ('pending', 'overdue');
    get diagnostics v_n = row_count;
    result := jsonb_build_object('state', 'applied', 'matched', v_n);
  else
    perform app_private.raise_error('bad_request', format('transaction set %s is not applied here', p_set ->> 'set_id'));
  end case;
exception when others then
  -- (plpgsql variables survive the rollback of the block: p_locator is the step that failed)
  get stacked diagnostics v_state = returned_sqlstate, v_msg = message_text, v_detail = pg_exception_detail;
  raise exception using errcode = v_state, message = v_msg, detail = coalesce(v_detail, ''), hint = 'edi.locator=' || coalesce(p_locator, '');
end $$;
comment on function app_private.edi_apply_set(public.tms_admin_edi_partners, jsonb) is
  'Applies one inbound X12 set through the freight functions (204 book/change/cancel, 214 events, 990 accept/decline, 997 match); internal to edi_receive.';
revoke execute on function app_private.edi_apply_set(public.tms_admin_edi_partners, jsonb) from public;

-- Receives one inbound interchange as the edge read it. p:
--   {"raw", "sha256", "header": {sender_qualifier, sender_id, receiver_qualifier, receiver_id, control},
--    "rejection": {code, note} | null (TA1-style), "groups": [GroupPlan...]}
-- Stores it raw, decides duplicates, applies each sound set in a subtransaction, and returns
--   {interchange_id, partner_id, state, duplicate_of, outcomes: [[{state, code, message, locator, load_id}]]}.
create function app_private.edi_receive(p jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant  uuid := app_private.claim_tenant();
  h         jsonb := p -> 'header';
  v_partner public.tms_admin_edi_partners;
  v_id      uuid;
  v_dup     uuid;
  g         jsonb;
  s         jsonb;
  v_outs    jsonb := '[]';
  v_gouts   jsonb;
  v_out     jsonb;
  v_loc     text;
  v_state   text;
  v_msg     text;
  v_code    text;
  v_sets    text[] := '{}';
  v_window  int;
begin
  perform app_private.require_permission(v_tenant, 'edi.receive');
  select * into v_partner from public.tms_admin_edi_partners e
   where e.tenant_id = v_tenant and e.isa_qualifier = h ->> 'sender_qualifier' and e.isa_id = h ->> 'sender_id' and e.active;
  insert into public.edi_interchanges (tenant_id, partner_id, direction, sender_qualifier, sender_id, receiver_qualifier, receiver_id,
                                       control_number, functional_id, raw, sha256, trace_id)
  values (v_tenant, v_partner.id, 'in', h ->> 'sender_qualifier', h ->> 'sender_id', h ->> 'receiver_qualifier', h ->> 'receiver_id',
          h ->> 'control', p #>> '{groups,0,functional_id}', p ->> 'raw', p ->> 'sha256', (app_private.request_context()).trace_id)
  returning id into v_id;

  if v_partner.id is null then
    update public.edi_interchanges set state = 'rejected',
      errors = jsonb_build_object('reason', format('no active trading partner %s/%s', h ->> 'sender_qualifier', h ->> 'sender_id'))
     where id = v_id;
    return jsonb_build_object('interchange_id', v_id, 'partner_id', null, 'state', 'rejected', 'reason', 'edi_partner_unknown');
  end if;
  if p -> 'rejection' is not null and jsonb_typeof(p -> 'rejection') = 'object' then
    update public.edi_interchanges set state = 'rejected', errors = jsonb_build_object('envelope', p -> 'rejection') where id = v_id;
    return jsonb_build_object('interchange_id', v_id, 'partner_id', v_partner.id, 'state', 'rejected', 'reason', 'envelope');
  end if;
  if h ->> 'receiver_qualifier' <> v_partner.our_isa_qualifier or h ->> 'receiver_id' <> v_partner.our_isa_id then
    update public.edi_interchanges set state = 'rejected',
      errors = jsonb_build_object('envelope', jsonb_build_object('code', '009', 'note', format('ISA08 %s is not our id for this partner', h ->> 'receiver_id')))
     where id = v_id;
    return jsonb_build_object('interchange_id', v_id, 'partner_id', v_partner.id, 'state', 'rejected', 'reason', 'envelope');
  end if;

  -- duplicates: the same bytes, or ISA13 again from this sender to us within the window
  v_window := (public.flag_value('edi.duplicateWindowDays', v_tenant))::text::int;
  select i.id into v_dup from public.edi_interchanges i
   where i.tenant_id = v_tenant and i.partner_id = v_partner.id and i.direction = 'in' and i.id <> v_id
     and i.state in ('applied', 'partially_applied')
     and (i.sha256 = p ->> 'sha256'
          or (i.control_number = h ->> 'control' and i.receiver_id = h ->> 'receiver_id' and i.created_at > now() - make_interval(days => v_window)))
   order by i.created_at limit 1;
  if v_dup is not null then
    update public.edi_interchanges set state = 'duplicate', duplicate_of = v_dup,
      errors = jsonb_build_object('reason', 'the same interchange (bytes or ISA13) was applied already')
     where id = v_id;
    return jsonb_build_object('interchange_id', v_id, 'partner_id', v_partner.id, 'state', 'duplicate', 'duplicate_of', v_dup,
                              'ack_interchange_id', (select related_id from public.edi_interchanges where id = v_dup));
  end if;

  for g in select * from jsonb_array_elements(p -> 'groups') loop
    v_gouts := '[]';
    for s in select * from jsonb_array_elements(g -> 'sets') loop
      v_loc := null;
      if jsonb_array_length(g -> 'codes') > 0 or s ->> 'syntax_code' is not null then
        v_out := jsonb_build_object('state', 'rejected', 'code', 'syntax', 'message', coalesce(s ->> 'note', g #>> '{notes,0}'));
      elsif not (s ->> 'set_id' = any(v_partner.transaction_sets)) and s ->> 'set_id' <> '997' then
        v_out := jsonb_build_object('state', 'rejected', 'code', 'not_configured',
                                    'message', format('partner is not configured to send %s', s ->> 'set_id'));
      else
        begin
          v_out := app_private.edi_apply_set(v_partner, s);
        exception when others then
          get stacked diagnostics v_state = returned_sqlstate, v_msg = message_text, v_loc = pg_exception_hint;
          v_loc := nullif(substring(v_loc from '^edi\.locator=(.*)$'), '');
          v_code := app_private.edi_refusal_code(v_state);
          if v_code is null then
            raise;
          end if;
          v_out := jsonb_build_object('state', 'rejected', 'code', v_code, 'message', v_msg, 'locator', v_loc);
        end;
      end if;
      insert into public.edi_transactions (tenant_id, interchange_id, partner_id, direction, functional_id, group_control, set_id,
                                           control_number, state, shipment_id, purpose, load_id, order_id, errors)
      values (v_tenant, v_id, v_partner.id, 'in', g ->> 'functional_id', g ->> 'control', s ->> 'set_id', s ->> 'control',
              v_out ->> 'state', s #>> '{data,shipment_id}',
              case s #>> '{data,purpose}' when 'original' then '00' when 'cancel' then '01' when 'change' then '04' end,
              (v_out ->> 'load_id')::uuid, (v_out ->> 'order_id')::uuid,
              coalesce(s -> 'errors', '[]') || case when v_out ->> 'state' = 'rejected'
                then jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('code', v_out ->> 'code', 'message', v_out ->> 'message', 'locator', v_out ->> 'locator')))
                else '[]' end);
      v_sets := v_sets || (v_out ->> 'state');
      v_gouts := v_gouts || v_out;
    end loop;
    v_outs := v_outs || jsonb_build_array(v_gouts);
  end loop;

  v_state := case when v_sets <@ array['duplicate'] and cardinality(v_sets) > 0 then 'duplicate'
                  when v_sets <@ array['rejected'] then 'rejected'
                  when 'rejected' = any(v_sets) then 'partially_applied'
                  else 'applied' end;
  update public.edi_interchanges set state = v_state where id = v_id;
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_tenant, 'edi_interchange', v_id::text, 'edi.interchange.received',
          jsonb_build_object('interchange_id', v_id, 'partner_id', v_partner.id, 'state', v_state, 'sets', cardinality(v_sets)));
  return jsonb_build_object('interchange_id', v_id, 'partner_id', v_partner.id, 'state', v_state, 'outcomes', v_outs);
end $$;
comment on function app_private.edi_receive(jsonb) is
  'Stores an inbound X12 interchange raw (sha256), detects duplicates, applies each set in its own subtransaction (edi.receive, the claim tenant).';
grant execute on function app_private.edi_receive(jsonb) to authenticated;

-- Takes the next control numbers for an outbound interchange to the partner: one ISA13, one
-- GS06, p_sets ST02s. Gap-free and never reused: the UPDATE commits or rolls back with the
-- interchange that uses them (edi_outbound_record).
create function app_private.edi_control_next(p_partner uuid, p_sets int) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := (select tenant_id from public.tms_admin_edi_partners where id = p_partner);
  v_isa    bigint;
  v_gs     bigint;
  v_st     bigint;
begin
  if v_tenant is null or v_tenant <> app_private.claim_tenant() then
    perform app_private.raise_error('edi_partner_unknown', format('no trading partner %s', p_partner));
  end if;
  perform app_private.require_permission(v_tenant, 'edi.receive');
  if p_sets is null or p_sets not between 1 and 1000 then
    perform app_private.raise_error('bad_request', 'an interchange carries 1..1000 sets');
  end if;
  insert into public.edi_control_counters (tenant_id, partner_id, kind)
  select v_tenant, p_partner, k from unnest(array['isa', 'gs', 'st']) k
  on conflict do nothing;
  update public.edi_control_counters set last_value = last_value + 1 where partner_id = p_partner and kind = 'isa' returning last_value into v_isa;
  update public.edi_control_counters set last_value = last_value + 1 where partner_id = p_partner and kind = 'gs' returning last_value into v_gs;
  update public.edi_control_counters set last_value = last_value + p_sets where partner_id = p_partner and kind = 'st' returning last_value into v_st;
  return jsonb_build_object('isa', v_isa, 'gs', v_gs,
    'st', (select jsonb_agg(n order by n) from generate_series(v_st - p_sets + 1, v_st) n));
end $$;
comment on function app_private.edi_control_next(uuid, int) is
  'Next ISA13 / GS06 / ST02s for an outbound interchange to the partner (gap-free, never reused; edi.receive in the claim tenant).';
grant execute on function app_private.edi_control_next(uuid, int) to authenticated;

-- Records an outbound interchange the edge generated with numbers from edi_control_next, in
-- the partner's mailbox, and publishes edi.interchange.queued. p:
--   {"raw", "sha256", "control" (ISA13), "functional_id", "group_control", "related_id"?,
--    "sets": [{"set_id", "control", "load_id"?}]}
-- Every set but a 997 expects the partner's 997 within its ack window.
create function app_private.edi_outbound_record(p_partner uuid, p jsonb) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v_partner public.tms_admin_edi_partners;
  v_id      uuid;
begin
  select * into v_partner from public.tms_admin_edi_partners where id = p_partner;
  if v_partner.id is null or v_partner.tenant_id <> app_private.claim_tenant() then
    perform app_private.raise_error('edi_partner_unknown', format('no trading partner %s', p_partner));
  end if;
  perform app_private.require_permission(v_partner.tenant_id, 'edi.receive');
  insert into public.edi_interchanges (tenant_id, partner_id, direction, sender_qualifier, sender_id, receiver_qualifier, receiver_id,
                                       control_number, functional_id, raw, sha256, state, related_id, trace_id)
  values (v_partner.tenant_id, p_partner, 'out', v_partner.our_isa_qualifier, v_partner.our_isa_id, v_partner.isa_qualifier,
          v_partner.isa_id, lpad(p ->> 'control', 9, '0'), p ->> 'functional_id', p ->> 'raw', p ->> 'sha256', 'queued',
          (p ->> 'related_id')::uuid, (app_private.request_context()).trace_id)
  returning id into v_id;
  insert into public.edi_transactions (tenant_id, interchange_id, partner_id, direction, functional_id, group_control, set_id,
                                       control_number, state, load_id, ack_status, due_at)
  select v_partner.tenant_id, v_id, p_partner, 'out', p ->> 'functional_id', p ->> 'group_control', s ->> 'set_id',
         lpad(s ->> 'control', 4, '0'), 'queued', (s ->> 'load_id')::uuid,
         case when s ->> 'set_id' <> '997' then 'pending' end,
         case when s ->> 'set_id' <> '997' then now() + make_interval(mins => v_partner.ack_window_minutes) end
  from jsonb_array_elements(p -> 'sets') s;
  if (p ->> 'related_id') is not null and p ->> 'functional_id' = 'FA' then
    update public.edi_interchanges set related_id = v_id where id = (p ->> 'related_id')::uuid and direction = 'in';
  end if;
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_partner.tenant_id, 'edi_interchange', v_id::text, 'edi.interchange.queued',
          jsonb_build_object('interchange_id', v_id, 'partner_id', p_partner, 'functional_id', p ->> 'functional_id',
                             'sets', jsonb_array_length(p -> 'sets')));
  return v_id;
end $$;
comment on function app_private.edi_outbound_record(uuid, jsonb) is
  'Records an outbound X12 interchange in the partner''s mailbox (997 expected unless it is one) and publishes edi.interchange.queued.';
grant execute on function app_private.edi_outbound_record(uuid, jsonb) to authenticated;

-- The partner's mailbox: outbound interchanges not yet picked up, oldest first, marked picked up.
create function app_private.edi_mailbox_take(p_partner uuid, p_limit int default 20) returns setof public.edi_interchanges
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := (select tenant_id from public.tms_admin_edi_partners where id = p_partner);
begin
  if v_tenant is null or v_tenant <> app_private.claim_tenant() then
    perform app_private.raise_error('edi_partner_unknown', format('no trading partner %s', p_partner));
  end if;
  perform app_private.require_permission(v_tenant, 'edi.receive');
  return query
    update public.edi_interchanges i set state = 'picked_up', picked_up_at = now()
     where i.id in (select x.id from public.edi_interchanges x where x.partner_id = p_partner and x.direction = 'out' and x.state = 'queued'
                    order by x.created_at, x.control_number limit least(greatest(coalesce(p_limit, 20), 1), 100) for update skip locked)
    returning i.*;
end $$;
comment on function app_private.edi_mailbox_take(uuid, int) is
  'The partner''s mailbox: its queued outbound interchanges, marked picked up (edi.receive in the claim tenant).';
grant execute on function app_private.edi_mailbox_take(uuid, int) to authenticated;
