-- Driver portal: a driver's phone (a principal with a party_members row naming its drivers
-- row) sees the stops of the loads assigned to it (the core's party RLS on loads, stops,
-- load_events, documents by driver_id; a load gets its driver at dispatch,
-- freight_load_dispatch) and reports what happens at them.
--
-- The phone works offline and sends batches: app_private.driver_sync(device, events) takes
-- a whole batch in ONE call and answers per event (applied / duplicate / rejected with a
-- reason code / superseded / held). Each event is recorded once by its client uuid (a
-- resent batch changes nothing), applied in device-sequence order (an event whose
-- predecessor has not arrived waits, state held, and is applied when it comes, or after
-- driver.holdMaxMinutes without it), each in its own subtransaction (a bad event never
-- loses the good ones). Stop events are the core's 214 codes through the core's
-- freight_load_event_record (the same transition a 214 or a carrier makes): arrived X3 / X1,
-- loaded CP, departed AF / CD, unloaded D1. A POD references a document uploaded through
-- the documents function (kind pod, hash verified there), completes the delivery stop (D1
-- when not reported) and, once every delivery stop has one, the load (delivered ->
-- completed). Position pings feed the ETA agent. Conflict rules: packages/portals/driver/README.md.
--
-- public.driver_changes is the phone's delta feed (driver_changes_since): a row per change of
-- a load or stop assigned to a driver, written by triggers on the core's loads and stops.
--
-- Sections: permissions and grants (error codes, permissions); flags; tables; functions;
-- triggers and party policies.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('driver_not_linked', 'SY180', 403, 'Not a driver',
   'The caller is no driver of the tenant (no party_members row naming a drivers row).'),
  ('driver_stop_not_assigned', 'SY181', 404, 'Not your stop',
   'The stop does not exist or belongs to a load that is not assigned to the calling driver.'),
  ('driver_event_in_future', 'SY182', 422, 'Event time in the future',
   'The event''s client timestamp is later than now plus driver.futureToleranceSeconds.'),
  ('driver_pod_invalid', 'SY183', 422, 'POD document invalid',
   'A POD references a document of kind pod uploaded for the stop''s load (POST /documents/upload?kind=pod&load_id=...), at a delivery stop, with a signer name.'),
  ('driver_event_id_reused', 'SY184', 409, 'Client event id reused',
   'The client event id was recorded before with other content (or by another driver).'),
  ('driver_batch_too_large', 'SY185', 422, 'Sync batch too large',
   'A sync batch holds 1 to driver.syncMaxEvents events.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('driver.sync', 'Send a driver phone''s event batches (stop status, POD, position) for the loads assigned to oneself')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission) values ('driver', 'driver.sync'), ('super_admin', 'driver.sync')
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- flags
-------------------------------------------------------------------------------------------
insert into public.flag_definitions
  (key, value_type, min_value, max_value, allowed_values, is_budget, allowed_scopes, default_value, write_permission, description)
values
  ('driver.futureToleranceSeconds', 'integer', 0, 86400, null, false, '{global,tenant}', '300', 'flags.global.write',
   'driver/sync rejects an event whose client timestamp is later than now plus this many seconds (phone clocks drift)'),
  ('driver.syncMaxEvents', 'integer', 1, 5000, null, false, '{global,tenant}', '2000', 'flags.global.write',
   'The most events one driver/sync batch may carry'),
  ('driver.holdMaxMinutes', 'integer', 1, 10080, null, false, '{global,tenant}', '60', 'flags.global.write',
   'A held event (its device-sequence predecessor missing) waits this long; the next sync after it applies it past the gap'),
  ('driver.etaMarginMinutes', 'integer', 0, 1440, null, false, '{global,tenant}', '30', 'flags.global.write',
   'The ETA agent flags a stop at risk when its ETA is later than the window end minus this margin'),
  ('driver.podMissingHours', 'integer', 1, 720, null, false, '{global,tenant}', '24', 'flags.global.write',
   'Hours after delivery without a POD before the agent asks the dispatcher for it (driver.pod_missing)')
on conflict (key) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- Every event a phone sent (once per client uuid), with its fate. Written by
-- app_private.driver_sync only.
create table public.driver_sync_events (
  id              uuid primary key default gen_random_uuid(),
  tenant_id       uuid not null references public.tenants (id) on delete cascade,
  driver_id       uuid not null,
  device_id       text not null constraint driver_sync_events_device_id_length_check check (length(device_id) between 1 and 100),
  device_seq      bigint not null constraint driver_sync_events_device_seq_positive_check check (device_seq > 0),
  client_event_id uuid not null,
  client_at       timestamptz,
  kind            text constraint driver_sync_events_kind_allowed_check
                  check (kind in ('arrived', 'loaded', 'departed', 'unloaded', 'pod', 'position')),
  stop_id         uuid,
  load_id         uuid,
  payload         jsonb not null default '{}'::jsonb,
  content_hash    text not null,
  state           text not null constraint driver_sync_events_state_allowed_check
                  check (state in ('held', 'applied', 'rejected', 'superseded')),
  reason          text,
  detail          jsonb,
  load_event_id   uuid,
  received_at     timestamptz not null default now(),
  applied_at      timestamptz,
  trace_id        text,
  constraint driver_sync_events_reason_required_check check ((state in ('rejected', 'superseded')) = (reason is not null)),
  constraint driver_sync_events_client_event_unique unique (tenant_id, client_event_id),
  constraint driver_sync_events_driver_fk foreign key (tenant_id, driver_id) references public.drivers (tenant_id, id) on delete cascade
);
comment on table public.driver_sync_events is
  'Events a driver''s phone sent (once per client uuid), their device sequence and fate (held / applied / rejected / superseded); written by app_private.driver_sync.';
create index driver_sync_events_device_idx on public.driver_sync_events (tenant_id, driver_id, device_id, device_seq);
create index driver_sync_events_load_idx on public.driver_sync_events (load_id) where load_id is not null;
select ops.attach_rails('public.driver_sync_events', 'domain.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.driver_sync_events',
  '{"tenant_id": "$tenant", "driver_id": "$driver", "device_id": "matrix", "device_seq": "$n", "client_event_id": "$uuid",
    "kind": "position", "content_hash": "matrix", "state": "applied"}');

-- A device's sequence watermark: every event up to applied_seq has been dealt with.
create table public.driver_devices (
  tenant_id   uuid not null references public.tenants (id) on delete cascade,
  driver_id   uuid not null,
  device_id   text not null constraint driver_devices_device_id_length_check check (length(device_id) between 1 and 100),
  applied_seq bigint not null default 0 constraint driver_devices_applied_seq_nonnegative_check check (applied_seq >= 0),
  last_sync_at timestamptz not null default now(),
  primary key (tenant_id, driver_id, device_id),
  constraint driver_devices_driver_fk foreign key (tenant_id, driver_id) references public.drivers (tenant_id, id) on delete cascade
);
comment on table public.driver_devices is 'Per driver phone: the device sequence dealt with so far (events after a gap are held).';
select ops.attach_rails('public.driver_devices', 'domain.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.driver_devices', '{"tenant_id": "$tenant", "driver_id": "$driver", "device_id": "matrix-$n"}');

-- Position pings (the ETA agent's input): where the driver was, how fast.
create table public.driver_positions (
  id              uuid primary key default gen_random_uuid(),
  tenant_id       uuid not null references public.tenants (id) on delete cascade,
  driver_id       uuid not null,
  load_id         uuid,
  recorded_at     timestamptz not null,
  lat             double precision not null constraint driver_positions_lat_range_check check (lat between -90 and 90),
  lon             double precision not null constraint driver_positions_lon_range_check check (lon between -180 and 180),
  speed_mph       double precision constraint driver_positions_speed_mph_range_check check (speed_mph between 0 and 120),
  client_event_id uuid not null,
  constraint driver_positions_driver_fk foreign key (tenant_id, driver_id) references public.drivers (tenant_id, id) on delete cascade,
  constraint driver_positions_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade
);
comment on table public.driver_positions is 'Position pings from drivers'' phones (lat/lon, speed), by load; the ETA agent reads them.';
create index driver_positions_load_idx on public.driver_positions (load_id, recorded_at desc);
create index driver_positions_driver_idx on public.driver_positions (driver_id, recorded_at desc);
select ops.attach_rails('public.driver_positions', 'domain.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.driver_positions',
  '{"tenant_id": "$tenant", "driver_id": "$driver", "recorded_at": "$now", "lat": 41.9, "lon": -87.6, "client_event_id": "$uuid"}');

-- Proofs of delivery: the document (bytes behind the documents function, sha256 verified
-- there), who signed (PII: never in events, spans or the audit), when and where.
create table public.driver_pods (
  id               uuid primary key default gen_random_uuid(),
  tenant_id        uuid not null references public.tenants (id) on delete cascade,
  load_id          uuid not null,
  stop_id          uuid not null,
  document_id      uuid not null,
  driver_id        uuid not null,
  signer_name      text not null constraint driver_pods_signer_name_length_check check (length(btrim(signer_name)) between 1 and 200),
  signed_at        timestamptz not null,
  lat              double precision constraint driver_pods_lat_range_check check (lat between -90 and 90),
  lon              double precision constraint driver_pods_lon_range_check check (lon between -180 and 180),
  client_event_id  uuid not null,
  created_at       timestamptz not null default now(),
  shipper_party_id uuid not null,
  carrier_party_id uuid,
  constraint driver_pods_stop_unique unique (stop_id),
  constraint driver_pods_load_fk foreign key (tenant_id, load_id) references public.loads (tenant_id, id) on delete cascade,
  constraint driver_pods_stop_fk foreign key (tenant_id, stop_id) references public.stops (tenant_id, id) on delete cascade,
  constraint driver_pods_document_fk foreign key (document_id) references public.documents (id),
  constraint driver_pods_driver_fk foreign key (tenant_id, driver_id) references public.drivers (tenant_id, id)
);
comment on table public.driver_pods is
  'Proofs of delivery per delivery stop: the POD document, signer name (PII), time and position; written by app_private.driver_sync.';
create index driver_pods_load_idx on public.driver_pods (load_id);
select ops.attach_rails('public.driver_pods', 'domain.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.driver_pods',
  '{"tenant_id": "$tenant", "load_id": "$ref:loads", "stop_id": "$ref:stops", "document_id": "$ref:documents", "driver_id": "$driver",
    "signer_name": "Matrix Signer", "signed_at": "$now", "client_event_id": "$uuid", "shipper_party_id": "$shipper",
    "carrier_party_id": "$carrier"}');

-- The phone's delta feed: one row per change of a load or stop assigned to a driver (the
-- old driver too when a load is reassigned), by_driver false when someone else (a
-- dispatcher, a 214) made it: the conflict rules read those.
create table public.driver_changes (
  id           bigint generated always as identity primary key,
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  driver_id    uuid not null,
  load_id      uuid not null,
  stop_id      uuid,
  fields       text[] not null,
  by_driver    boolean not null,
  principal_id uuid,
  changed_at   timestamptz not null default now()
);
comment on table public.driver_changes is
  'Changes of loads and stops assigned to a driver (the delta feed driver/changes reads; the sync''s conflict rules too); written by triggers.';
create index driver_changes_driver_idx on public.driver_changes (driver_id, id);
create index driver_changes_stop_idx on public.driver_changes (stop_id, changed_at) where not by_driver;
select ops.attach_rails('public.driver_changes', 'domain.read', null, null, null, p_audit => 'none');
select ops.set_rls_sample('public.driver_changes',
  '{"tenant_id": "$tenant", "driver_id": "$driver", "load_id": "$ref:loads", "fields": ["status"], "by_driver": false}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- The calling driver (its membership in the request's tenant) or driver_not_linked.
create function app_private.driver_me() returns public.party_members
language plpgsql stable security definer set search_path = '' as $$
declare
  m public.party_members;
begin
  select * into m from public.party_members
   where principal_id = auth.uid() and tenant_id = app_private.claim_tenant() and driver_id is not null;
  if m.driver_id is null then
    perform app_private.raise_error('driver_not_linked',
      format('principal %s is no driver of tenant %s', coalesce(auth.uid()::text, 'none'), coalesce(app_private.claim_tenant()::text, 'none')));
  end if;
  return m;
end $$;
revoke execute on function app_private.driver_me() from public;

-- The 214 code a driver's stop event is (null: not at this kind of stop).
create function app_private.driver_status_code(p_kind text, p_stop_kind text) returns text
language sql immutable set search_path = '' as $$
  select case p_stop_kind
    when 'pickup'   then case p_kind when 'arrived' then 'X3' when 'loaded' then 'CP' when 'departed' then 'AF' end
    when 'delivery' then case p_kind when 'arrived' then 'X1' when 'unloaded' then 'D1' when 'departed' then 'CD' end end
$$;
revoke execute on function app_private.driver_status_code(text, text) from public;

-- Applies one recorded (held) event as the driver; raises on refusal (driver_sync keeps
-- the refusal as the event's fate). Returns (state, reason, detail, load_event_id).
create function app_private.driver_apply(e public.driver_sync_events, out state text, out reason text, out detail jsonb,
                                         out load_event_id uuid)
language plpgsql security definer set search_path = '' as $$
declare
  l      public.loads;
  st     public.stops;
  v_code text;
  v_prev public.load_events;
  v_doc  public.documents;
  v_r    jsonb;
  v_conflicts text[] := '{}';
begin
  state := 'applied';
  if e.kind = 'position' then
    insert into public.driver_positions (tenant_id, driver_id, load_id, recorded_at, lat, lon, speed_mph, client_event_id)
    values (e.tenant_id, e.driver_id, e.load_id, e.client_at, (e.payload ->> 'lat')::float8, (e.payload ->> 'lon')::float8,
            (e.payload ->> 'speed_mph')::float8, e.client_event_id);
    return;
  end if;
  select * into st from public.stops where id = e.stop_id;
  select * into l from public.loads where id = st.load_id for update;
  -- rule 4: reassigned while the phone was offline: the new driver's events count
  if l.driver_id is distinct from e.driver_id then
    perform app_private.raise_error('driver_stop_not_assigned', format('stop %s is no longer assigned to driver %s', st.id, e.driver_id),
      jsonb_build_object('stop_id', st.id));
  end if;

  if e.kind = 'pod' then
    select * into v_doc from public.documents d
     where d.id = (e.payload ->> 'document_id')::uuid and d.tenant_id = e.tenant_id and d.load_id = l.id and d.kind = 'pod';
    if v_doc.id is null or st.kind <> 'delivery' then
      perform app_private.raise_error('driver_pod_invalid',
        format('document %s is no POD of load %s, or stop %s is no delivery', e.payload ->> 'document_id', l.id, st.id),
        jsonb_build_object('document_id', e.payload ->> 'document_id', 'stop_id', st.id));
    end if;
    if exists (select 1 from public.driver_pods p where p.stop_id = st.id) then
      state := 'superseded'; reason := 'already_reported';
      detail := jsonb_build_object('pod_id', (select p.id from public.driver_pods p where p.stop_id = st.id));
      return;
    end if;
    -- the POD completes the stop: unloading is done (D1, when not reported; walks the load)
    if not exists (select 1 from public.load_events x where x.stop_id = st.id and x.status_code = 'D1') and l.status <> 'completed' then
      v_r := app_private.freight_load_event_record(l.id, jsonb_build_object(
        'source_event_id', 'driver:' || e.client_event_id || '#D1', 'status_code', 'D1', 'stop_id', st.id,
        'occurred_at', e.client_at, 'source', 'driver_app', 'note', 'POD captured'));
      load_event_id := (v_r ->> 'event_id')::uuid;
    end if;
    insert into public.driver_pods (tenant_id, load_id, stop_id, document_id, driver_id, signer_name, signed_at, lat, lon,
                                    client_event_id, shipper_party_id, carrier_party_id)
    values (e.tenant_id, l.id, st.id, v_doc.id, e.driver_id, btrim(e.payload ->> 'signer_name'), e.client_at,
            (e.payload ->> 'lat')::float8, (e.payload ->> 'lon')::float8, e.client_event_id, l.shipper_party_id, l.carrier_party_id);
    insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
    values (e.tenant_id, 'load', l.id::text, 'driver.pod.captured',
            jsonb_build_object('load_id', l.id, 'stop_id', st.id, 'document_id', v_doc.id, 'sha256', v_doc.sha256,
                               'signed_at', e.client_at, 'driver_id', e.driver_id, 'source_portal', app_private.freight_source_portal()));
    perform app_private.audit_write(e.tenant_id, 'driver.pod.capture', 'stop', st.id::text, null,
      jsonb_build_object('document_id', v_doc.id, 'sha256', v_doc.sha256, 'signed_at', e.client_at, 'client_event_id', e.client_event_id));
    -- every delivery stop proven: the load is completed (POD received)
    if (select status from public.loads where id = l.id) = 'delivered'
       and not exists (select 1 from public.stops s where s.load_id = l.id and s.kind = 'delivery'
                         and not exists (select 1 from public.driver_pods p where p.stop_id = s.id)) then
      perform app_private.freight_load_move(l.id, 'completed', 'POD received', 'driver:' || e.client_event_id || '#completed',
        jsonb_build_object('document_id', v_doc.id), load_event_id, e.client_at);
    end if;
    return;
  end if;

  v_code := app_private.driver_status_code(e.kind, st.kind);
  if v_code is null then
    perform app_private.raise_error('bad_request', format('"%s" is not reported at a %s stop', e.kind, st.kind),
      jsonb_build_object('kind', e.kind, 'stop_kind', st.kind));
  end if;
  -- rule 1: the milestone is on the timeline already (a dispatcher, a 214, an earlier event): the first stands
  select * into v_prev from public.load_events x where x.stop_id = st.id and x.status_code = v_code order by x.recorded_at limit 1;
  if v_prev.id is not null then
    state := 'superseded'; reason := 'already_reported';
    detail := jsonb_build_object('load_event_id', v_prev.id, 'source', v_prev.source, 'occurred_at', v_prev.occurred_at);
    return;
  end if;
  -- rules 2 and 3: someone else edited the stop's actuals or its plan (recorded, the event still applies)
  select coalesce(array_agg(distinct f), '{}') into v_conflicts
    from public.driver_changes c, unnest(c.fields) f
   where c.stop_id = st.id and not c.by_driver
     and (f = case when v_code in ('X3', 'X1') then 'actual_arrival_at' when v_code in ('AF', 'CD') then 'actual_departure_at' end
          or (f in ('appointment', 'facility_id') and c.changed_at > e.client_at));
  v_r := app_private.freight_load_event_record(l.id, jsonb_build_object(
    'source_event_id', 'driver:' || e.client_event_id, 'status_code', v_code, 'stop_id', st.id,
    'occurred_at', e.client_at, 'source', 'driver_app', 'note', left(e.payload ->> 'note', 500)));
  load_event_id := (v_r ->> 'event_id')::uuid;
  detail := jsonb_build_object('status_code', v_code, 'load_status', v_r ->> 'status');
  if cardinality(v_conflicts) > 0 then
    detail := detail || jsonb_build_object('conflict', to_jsonb(v_conflicts));
  end if;
end $$;
comment on function app_private.driver_apply(public.driver_sync_events) is
  'Applies one driver phone event (stop status through freight_load_event_record, POD, position); the conflict rules of the Driver portal README.';
revoke execute on function app_private.driver_apply(public.driver_sync_events) from public;

-- THE sync: a batch of a device's events in one call. p_events: [{"client_event_id" uuid,
-- "client_at" timestamptz, "device_seq" int > 0, "kind", "stop_id"?, "payload"?}]. Answers
-- {"device_id", "applied_seq", "results": [{index, client_event_id, status, reason?, detail?}],
-- "counts"}. See the header and the README for the rules.
create function app_private.driver_sync(p_device_id text, p_events jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  m        public.party_members := app_private.driver_me();
  v_tenant uuid := m.tenant_id;
  v_max    int;
  v_tol    interval;
  v_hold   interval;
  v_trace  text := (app_private.request_context()).trace_id;
  v_seq    bigint;
  e        jsonb;
  i        int := 0;
  v_id     uuid;
  v_at     timestamptz;
  v_dseq   bigint;
  v_kind   text;
  v_stop   uuid;
  v_pay    jsonb;
  v_hash   text;
  v_prev   public.driver_sync_events;
  st       public.stops;
  v_reason text;
  v_detail jsonb;
  v_load   uuid;
  r        public.driver_sync_events;
  a        record;
  v_state  text;
  v_event  uuid;
  v_out    jsonb := '[]'::jsonb;
  v_fate   jsonb := '{}'::jsonb;
  v_ids    uuid[] := '{}';
begin
  perform app_private.require_permission(v_tenant, 'driver.sync');
  v_max  := (public.flag_value('driver.syncMaxEvents', v_tenant))::text::int;
  v_tol  := make_interval(secs => (public.flag_value('driver.futureToleranceSeconds', v_tenant))::text::int);
  v_hold := make_interval(mins => (public.flag_value('driver.holdMaxMinutes', v_tenant))::text::int);
  if p_device_id is null or length(p_device_id) not between 1 and 100 then
    perform app_private.raise_error('bad_request', 'device_id is 1..100 characters');
  end if;
  if jsonb_typeof(p_events) is distinct from 'array' or jsonb_array_length(p_events) not between 1 and v_max then
    perform app_private.raise_error('driver_batch_too_large', format('a batch holds 1..%s events', v_max),
      jsonb_build_object('max', v_max));
  end if;
  -- one sync per device at a time (the watermark is its lock)
  insert into public.driver_devices (tenant_id, driver_id, device_id) values (v_tenant, m.driver_id, p_device_id)
  on conflict do nothing;
  select applied_seq into v_seq from public.driver_devices
   where tenant_id = v_tenant and driver_id = m.driver_id and device_id = p_device_id for update;

  -- 1. record each event once (or answer it now: malformed, duplicate, rejected)
  for e in select value from jsonb_array_elements(p_events) loop
    i := i + 1;
    v_id := null; v_reason := null; v_detail := null; v_stop := null; v_load := null; st := null;
    begin
      v_id := (e ->> 'client_event_id')::uuid;
      v_at := (e ->> 'client_at')::timestamptz;
      v_dseq := (e ->> 'device_seq')::bigint;
      v_kind := e ->> 'kind';
      v_stop := (e ->> 'stop_id')::uuid;
    exception when others then
      v_reason := 'validation_failed';
      v_detail := jsonb_build_object('message', 'client_event_id and stop_id are uuids, client_at a timestamp, device_seq an integer');
    end;
    v_pay := coalesce(e -> 'payload', '{}'::jsonb);
    if v_reason is null then
      v_reason := case
        when jsonb_typeof(e) <> 'object' then 'validation_failed'
        when v_id is null or v_at is null or v_dseq is null or v_dseq < 1 then 'validation_failed'
        when v_kind is null or v_kind not in ('arrived', 'loaded', 'departed', 'unloaded', 'pod', 'position') then 'validation_failed'
        when jsonb_typeof(v_pay) <> 'object' or length(v_pay::text) > 4096 then 'validation_failed'
        when v_kind <> 'position' and v_stop is null then 'validation_failed'
        when v_kind = 'position' and not (jsonb_typeof(v_pay -> 'lat') = 'number' and jsonb_typeof(v_pay -> 'lon') = 'number'
                                          and (v_pay ->> 'lat')::float8 between -90 and 90 and (v_pay ->> 'lon')::float8 between -180 and 180
                                          and (not v_pay ? 'speed_mph' or (jsonb_typeof(v_pay -> 'speed_mph') = 'number'
                                               and (v_pay ->> 'speed_mph')::float8 between 0 and 120))) then 'validation_failed'
        when v_kind = 'pod' and not (jsonb_typeof(v_pay -> 'document_id') = 'string' and (v_pay ->> 'document_id') ~* '^[0-9a-f-]{36}$'
                                     and length(btrim(coalesce(v_pay ->> 'signer_name', ''))) between 1 and 200) then 'driver_pod_invalid'
        when v_pay ? 'lat' and not (jsonb_typeof(v_pay -> 'lat') = 'number' and (v_pay ->> 'lat')::float8 between -90 and 90) then 'validation_failed'
        when v_pay ? 'lon' and not (jsonb_typeof(v_pay -> 'lon') = 'number' and (v_pay ->> 'lon')::float8 between -180 and 180) then 'validation_failed'
      end;
      if v_reason is not null and v_detail is null then
        v_detail := jsonb_build_object('message', case v_reason when 'driver_pod_invalid' then 'a POD names document_id (uuid) and signer_name'
          else 'an event is {client_event_id, client_at, device_seq > 0, kind (arrived, loaded, departed, unloaded, pod, position), stop_id (all but position), payload (object; position: lat, lon, speed_mph?)}' end);
      end if;
    end if;
    if v_reason is not null and (v_id is null or v_dseq is null or v_dseq < 1) then
      -- not even keyed: answered, never recorded (nothing to deduplicate it by)
      v_out := v_out || jsonb_build_array(jsonb_build_object('index', i - 1, 'client_event_id', e ->> 'client_event_id',
                                          'status', 'rejected', 'reason', v_reason, 'detail', v_detail));
      continue;
    end if;
    v_hash := md5(jsonb_build_object('k', v_kind, 's', v_stop, 'a', v_at, 'q', v_dseq, 'd', p_device_id, 'p', v_pay)::text);
    select * into v_prev from public.driver_sync_events x where x.tenant_id = v_tenant and x.client_event_id = v_id;
    if v_prev.id is not null then
      if v_prev.driver_id = m.driver_id and v_prev.content_hash = v_hash then
        v_out := v_out || jsonb_build_array(jsonb_build_object('index', i - 1, 'client_event_id', v_id, 'status', 'duplicate',
                                            'ref', v_prev.id, 'first', v_prev.state));
      else
        v_out := v_out || jsonb_build_array(jsonb_build_object('index', i - 1, 'client_event_id', v_id, 'status', 'rejected',
                                            'reason', 'driver_event_id_reused', 'detail', jsonb_build_object('message', 'recorded before with other content')));
      end if;
      continue;
    end if;
    if v_reason is null and v_at > now() + v_tol then
      v_reason := 'driver_event_in_future';
      v_detail := jsonb_build_object('client_at', v_at, 'tolerance_seconds', extract(epoch from v_tol)::int);
    end if;
    if v_reason is null and v_stop is not null then
      select * into st from public.stops s where s.id = v_stop and s.tenant_id = v_tenant and s.driver_id = m.driver_id;
      if st.id is null then
        v_reason := 'driver_stop_not_assigned';
        v_detail := jsonb_build_object('stop_id', v_stop);
      end if;
    end if;
    if v_kind = 'position' and v_reason is null then
      -- a ping is for the stop's load, else the driver's load on its way
      v_load := coalesce(st.load_id, (select l.id from public.loads l where l.tenant_id = v_tenant and l.driver_id = m.driver_id
                                        and l.status in ('dispatched', 'at_pickup', 'picked_up', 'in_transit', 'at_delivery')
                                      order by l.status_changed_at desc limit 1));
    end if;
    insert into public.driver_sync_events (tenant_id, driver_id, device_id, device_seq, client_event_id, client_at, kind, stop_id,
                                           load_id, payload, content_hash, state, reason, detail, trace_id)
    values (v_tenant, m.driver_id, p_device_id, v_dseq, v_id, v_at,
            case when v_kind in ('arrived', 'loaded', 'departed', 'unloaded', 'pod', 'position') then v_kind end,
            st.id, coalesce(st.load_id, v_load),
            -- a rejected event keeps no payload (a signer name stays out of what was refused)
            case when v_reason is null then v_pay else '{}'::jsonb end, v_hash,
            case when v_reason is null then 'held' else 'rejected' end, v_reason, v_detail, v_trace)
    returning id into v_id;
    v_ids := v_ids || v_id;
    v_out := v_out || jsonb_build_array(jsonb_build_object('index', i - 1, 'client_event_id', e ->> 'client_event_id', 'ref', v_id));
  end loop;

  -- 2. apply what is held, in device order: late ones (at or below the watermark) first,
  --    then from the watermark on while the sequence has no gap (a gap older than
  --    driver.holdMaxMinutes is given up)
  for r in select * from public.driver_sync_events x
            where x.tenant_id = v_tenant and x.driver_id = m.driver_id and x.device_id = p_device_id
              and (x.device_seq > v_seq or x.state = 'held')
            order by (x.device_seq > v_seq), x.device_seq, x.received_at loop
    if r.device_seq > v_seq + 1 then
      if r.received_at > now() - v_hold then
        exit;
      end if;
      perform app_private.audit_write(v_tenant, 'driver.sync.gap_skipped', 'driver', m.driver_id::text,
        jsonb_build_object('device_id', p_device_id, 'applied_seq', v_seq), jsonb_build_object('next_seq', r.device_seq));
    end if;
    if r.state = 'held' then
      begin
        perform set_config('app.driver_sync', 'on', true);
        select * into a from app_private.driver_apply(r);
        perform set_config('app.driver_sync', '', true);
        v_state := a.state; v_reason := a.reason; v_detail := a.detail; v_event := a.load_event_id;
      exception when others then
        -- the refusal is this event's fate (its writes rolled back); the batch goes on
        v_state := 'rejected'; v_event := null;
        v_detail := jsonb_build_object('message', left(sqlerrm, 300), 'sqlstate', sqlstate);
        v_reason := coalesce((select x.code from public.rail_errors x where x.sqlstate = v_detail ->> 'sqlstate'), 'rejected_by_database');
      end;
      update public.driver_sync_events set state = v_state, reason = v_reason, detail = v_detail, load_event_id = v_event,
                                           applied_at = case when v_state = 'applied' then now() end
       where id = r.id;
      if v_state = 'superseded' or v_detail ? 'conflict' then
        perform app_private.audit_write(v_tenant, 'driver.sync.' || case when v_state = 'superseded' then 'superseded' else 'conflict' end,
          'stop', r.stop_id::text, jsonb_build_object('client_event_id', r.client_event_id, 'kind', r.kind, 'client_at', r.client_at),
          jsonb_build_object('state', v_state, 'reason', v_reason, 'detail', v_detail));
      end if;
    end if;
    v_seq := greatest(v_seq, r.device_seq);
  end loop;
  update public.driver_devices set applied_seq = v_seq, last_sync_at = now()
   where tenant_id = v_tenant and driver_id = m.driver_id and device_id = p_device_id;

  -- 3. the answer: each event's fate now
  select coalesce(jsonb_object_agg(x.id::text, jsonb_strip_nulls(jsonb_build_object('status', x.state, 'reason', x.reason, 'detail', x.detail))), '{}')
    into v_fate from public.driver_sync_events x where x.id = any(v_ids);
  -- (a duplicate of an event of this batch answers the fate its original has now)
  select coalesce(jsonb_agg(case when o ->> 'status' = 'duplicate' then o || jsonb_build_object('first', coalesce(v_fate -> (o ->> 'ref') ->> 'status', o ->> 'first'))
                                 when o ? 'status' then o else (o - 'ref') || (v_fate -> (o ->> 'ref')) end order by (o ->> 'index')::int), '[]')
    into v_out from jsonb_array_elements(v_out) o;
  perform app_private.audit_write(v_tenant, 'driver.sync', 'driver', m.driver_id::text, null,
    jsonb_build_object('device_id', p_device_id, 'events', i, 'applied_seq', v_seq,
                       'counts', (select jsonb_object_agg(s, n) from (select o ->> 'status' as s, count(*) as n
                                                                      from jsonb_array_elements(v_out) o group by 1) c)));
  return jsonb_build_object('device_id', p_device_id, 'applied_seq', v_seq, 'results', v_out,
    'counts', (select coalesce(jsonb_object_agg(s, n), '{}') from (select o ->> 'status' as s, count(*) as n
                                                                  from jsonb_array_elements(v_out) o group by 1) c));
end $$;
comment on function app_private.driver_sync(text, jsonb) is
  'A driver phone''s batch in one call (driver.sync): recorded once per client uuid, applied in device order, answered per event.';
grant execute on function app_private.driver_sync(text, jsonb) to authenticated;

-- The delta feed since a cursor: the calling driver's loads and stops that changed (their
-- current state; a load no longer assigned to it: removed), and the next cursor.
create function app_private.driver_changes_since(p_cursor bigint, p_limit int default 500) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  m     public.party_members := app_private.driver_me();
  v_max bigint;
begin
  perform app_private.require_permission(m.tenant_id, 'freight.driver.read');
  if p_cursor is null or p_cursor < 0 or p_limit is null or p_limit not between 1 and 1000 then
    perform app_private.raise_error('bad_request', 'cursor >= 0 and limit 1..1000');
  end if;
  select max(id) into v_max from (select c.id from public.driver_changes c
                                   where c.driver_id = m.driver_id and c.tenant_id = m.tenant_id and c.id > p_cursor
                                   order by c.id limit p_limit) k;
  return jsonb_build_object(
    'cursor', coalesce(v_max, p_cursor),
    'more', exists (select 1 from public.driver_changes c where c.driver_id = m.driver_id and c.id > coalesce(v_max, p_cursor)),
    'loads', coalesce((select jsonb_agg(jsonb_build_object('load_id', x.load_id, 'removed', l.id is null, 'status', l.status,
                                                           'exception', l.exception, 'reference', l.reference) order by x.load_id)
                       from (select distinct c.load_id from public.driver_changes c
                              where c.driver_id = m.driver_id and c.id > p_cursor and c.id <= v_max) x
                       left join public.loads l on l.id = x.load_id and l.driver_id = m.driver_id), '[]'),
    'stops', coalesce((select jsonb_agg(jsonb_build_object('stop_id', s.id, 'load_id', s.load_id, 'sequence', s.sequence, 'kind', s.kind,
                                                           'window_start', lower(s.appointment), 'window_end', upper(s.appointment),
                                                           'facility_id', s.facility_id, 'actual_arrival_at', s.actual_arrival_at,
                                                           'actual_departure_at', s.actual_departure_at) order by s.load_id, s.sequence)
                       from public.stops s
                       where s.driver_id = m.driver_id
                         and s.id in (select c.stop_id from public.driver_changes c
                                       where c.driver_id = m.driver_id and c.id > p_cursor and c.id <= v_max)), '[]'));
end $$;
comment on function app_private.driver_changes_since(bigint, int) is
  'The calling driver''s delta feed since a cursor (loads and stops changed, removed ones flagged) and the next cursor.';
grant execute on function app_private.driver_changes_since(bigint, int) to authenticated;

-- Feed rows for a load's or stop's change (triggers on the core's loads and stops).
create function app_private.driver_change_log() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_fields text[];
  v_by     boolean := coalesce(current_setting('app.driver_sync', true), '') = 'on';
  v_load   uuid;
  v_stop   uuid;
  d        uuid;
begin
  -- (each branch names only its own table's columns: plpgsql resolves a record field when it runs)
  if tg_table_name = 'loads' then
    v_load := new.id;
    v_fields := array_remove(array[
      case when old.status is distinct from new.status then 'status' end,
      case when old.driver_id is distinct from new.driver_id then 'driver_id' end,
      case when old.exception is distinct from new.exception then 'exception' end], null);
  else
    v_load := new.load_id;
    v_stop := new.id;
    v_fields := array_remove(array[
      case when old.appointment is distinct from new.appointment then 'appointment' end,
      case when old.facility_id is distinct from new.facility_id then 'facility_id' end,
      case when old.actual_arrival_at is distinct from new.actual_arrival_at then 'actual_arrival_at' end,
      case when old.actual_departure_at is distinct from new.actual_departure_at then 'actual_departure_at' end,
      case when old.driver_id is distinct from new.driver_id then 'driver_id' end], null);
  end if;
  if cardinality(v_fields) = 0 then
    return null;
  end if;
  foreach d in array array_remove(array[new.driver_id, case when old.driver_id is distinct from new.driver_id then old.driver_id end], null) loop
    insert into public.driver_changes (tenant_id, driver_id, load_id, stop_id, fields, by_driver, principal_id)
    values (new.tenant_id, d, v_load, v_stop, v_fields, v_by, app_private.principal_id());
  end loop;
  return null;
end $$;
revoke execute on function app_private.driver_change_log() from public;

-------------------------------------------------------------------------------------------
-- triggers and party policies
-------------------------------------------------------------------------------------------
create trigger driver_change_log after update on public.loads
  for each row when (old.driver_id is not null or new.driver_id is not null)
  execute function app_private.driver_change_log();
create trigger driver_change_log after update on public.stops
  for each row when (old.driver_id is not null or new.driver_id is not null)
  execute function app_private.driver_change_log();

select ops.party_rls('public.driver_sync_events', 'driver', 'driver_id');
select ops.party_rls('public.driver_devices', 'driver', 'driver_id');
select ops.party_rls('public.driver_positions', 'driver', 'driver_id');
select ops.party_rls('public.driver_changes', 'driver', 'driver_id');
select ops.party_rls('public.driver_pods', 'driver', 'driver_id');
-- a POD's signer, time and place: its shipper and carrier read it too (the document is theirs already)
select ops.party_rls('public.driver_pods', 'shipper', 'shipper_party_id');
select ops.party_rls('public.driver_pods', 'carrier', 'carrier_party_id');
