-- Workers portal: the tenant's own staff at work. Shifts per staff member, coverage rules
-- per work queue (at least min_coverage people holding the queue's skill on shift at every
-- moment: a dispatcher 24/7), gaps found by workers_coverage_gaps; work queues (exceptions,
-- approvals, tenders to cover, DLQ triage, ...) whose items any portal adds through
-- app_private.workers_enqueue from its own SQL or actions.
--
-- Load balancing in SQL: an item goes to the on-shift worker holding the queue's skill with
-- the fewest open items (below its max_open), ties by principal id. Every assigning function
-- takes the tenant's transaction advisory lock (workers_lock) and claims items with FOR
-- UPDATE SKIP LOCKED, so two concurrent assigners never count the same worker's load
-- differently nor assign one item twice, and a worker closing an item never waits for them.
-- Ending a shift hands that worker's open items to the others; workers_rebalance moves items
-- off workers who left, are over max_open or carry more than one item above the least
-- loaded eligible worker.
--
-- Sections: permissions and grants (error codes, permissions); tables; functions.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
-- Mirrored in packages/shared/http/catalogue.ts and docs/security-model.md.
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('shift_overlap', 'SY195', 409, 'Shift overlaps',
   'The worker already has a shift overlapping this one (a shift starts before it ends, within 7 days).'),
  ('worker_unknown', 'SY196', 422, 'Not a worker of the tenant',
   'The principal is not on the tenant''s worker roster (workers_staff), or the queue does not exist.'),
  ('queue_item_closed', 'SY197', 409, 'Queue item closed',
   'The queue item is done or cancelled already.')
on conflict (code) do nothing;

insert into public.permissions (permission, description) values
  ('workers.read',     'Read the tenant''s worker roster, shifts, queues and queue items'),
  ('workers.schedule', 'Maintain the worker roster, queues and coverage rules, schedule and end shifts'),
  ('workers.enqueue',  'Add an item to a work queue (workers_enqueue)'),
  ('workers.balance',  'Assign and rebalance queue items (the agents, ops managers)'),
  ('workers.work',     'Close one''s own queue items')
on conflict (permission) do nothing;

insert into public.role_permissions (role, permission)
select r, p from (values
  ('super_admin', 'workers.read'), ('super_admin', 'workers.schedule'), ('super_admin', 'workers.enqueue'),
  ('super_admin', 'workers.balance'), ('super_admin', 'workers.work'),
  ('tenant_admin', 'workers.read'), ('tenant_admin', 'workers.schedule'),
  ('ops_manager', 'workers.read'), ('ops_manager', 'workers.schedule'), ('ops_manager', 'workers.enqueue'),
  ('ops_manager', 'workers.balance'), ('ops_manager', 'workers.work'),
  ('dispatcher', 'workers.read'), ('dispatcher', 'workers.enqueue'), ('dispatcher', 'workers.work'),
  ('finance_manager', 'workers.read'), ('finance_manager', 'workers.enqueue'), ('finance_manager', 'workers.work'),
  ('agents', 'workers.read'), ('agents', 'workers.enqueue'), ('agents', 'workers.balance'),
  ('n8n', 'workers.enqueue')
) as m(r, p)
on conflict do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
-- The roster: staff principals of the tenant who take queue items, their skills and cap.
create table public.workers_staff (
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  principal_id uuid not null references public.principals (id) on delete cascade,
  skills       text[] not null default '{}' constraint workers_staff_skills_format_check
               check (array_position(skills, null) is null and cardinality(skills) <= 20),
  max_open     int not null default 25 constraint workers_staff_max_open_range_check check (max_open between 1 and 500),
  active       boolean not null default true,
  created_at   timestamptz not null default now(),
  primary key (tenant_id, principal_id)
);
comment on table public.workers_staff is
  'The tenant''s worker roster: staff principals, their skills (e.g. dispatch, finance, edi) and how many open items they carry at most.';
select ops.attach_rails('public.workers_staff', 'workers.read', 'workers.schedule', 'workers.schedule', 'workers.schedule', p_audit => 'deferred');
select ops.set_rls_sample('public.workers_staff', '{"tenant_id": "$tenant", "principal_id": "$principal", "skills": "{dispatch}"}');

-- Work queues: the skill an item needs, its SLA and the coverage rule.
create table public.workers_queues (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  key          text not null constraint workers_queues_key_format_check check (key ~ '^[a-z][a-z0-9_]{1,39}$'),
  name         text not null constraint workers_queues_name_not_blank_check check (length(btrim(name)) > 0),
  skill        text not null constraint workers_queues_skill_format_check check (skill ~ '^[a-z][a-z0-9_]{1,39}$'),
  sla_minutes  int not null default 60 constraint workers_queues_sla_minutes_range_check check (sla_minutes between 1 and 10080),
  -- at least this many workers with the skill on shift at every moment (0: no rule)
  min_coverage int not null default 0 constraint workers_queues_min_coverage_range_check check (min_coverage between 0 and 50),
  created_at   timestamptz not null default now(),
  constraint workers_queues_key_unique unique (tenant_id, key),
  constraint workers_queues_tenant_id_unique unique (tenant_id, id)
);
comment on table public.workers_queues is
  'Work queues (exceptions, approvals, tenders, dlq, ...): the skill an item needs, its SLA in minutes, the 24/7 coverage rule.';
select ops.attach_rails('public.workers_queues', 'workers.read', 'workers.schedule', 'workers.schedule', 'workers.schedule', p_audit => 'deferred');
select ops.set_rls_sample('public.workers_queues', '{"tenant_id": "$tenant", "key": "matrix_$n", "name": "Matrix $n", "skill": "dispatch"}');

-- Shifts: [starts_at, ends_at); ended_at when ended early (ends_at is then moved to it).
create table public.workers_shifts (
  id           uuid primary key default gen_random_uuid(),
  tenant_id    uuid not null references public.tenants (id) on delete cascade,
  principal_id uuid not null,
  starts_at    timestamptz not null,
  ends_at      timestamptz not null,
  ended_at     timestamptz,
  created_by   uuid default auth.uid(),
  created_at   timestamptz not null default now(),
  constraint workers_shifts_order_check check (ends_at > starts_at and ends_at <= starts_at + interval '24 hours'),
  constraint workers_shifts_tenant_id_unique unique (tenant_id, id),
  -- (the roster is checked by workers_shift_add, the only writer)
  constraint workers_shifts_principal_fk foreign key (principal_id) references public.principals (id) on delete cascade
);
comment on table public.workers_shifts is 'Shifts of the tenant''s workers, [starts_at, ends_at); written through workers_shift_add / workers_shift_end.';
create index workers_shifts_time_idx on public.workers_shifts (tenant_id, starts_at, ends_at);
create index workers_shifts_principal_idx on public.workers_shifts (principal_id, starts_at);
select ops.attach_rails('public.workers_shifts', 'workers.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.workers_shifts',
  '{"tenant_id": "$tenant", "principal_id": "$principal", "starts_at": "2030-01-01T08:00:00Z", "ends_at": "2030-01-01T16:00:00Z"}');

-- Queue items (any portal's work for a human): assigned_to the worker holding it.
create table public.workers_items (
  id          uuid primary key default gen_random_uuid(),
  tenant_id   uuid not null references public.tenants (id) on delete cascade,
  queue_id    uuid not null,
  source_type text not null constraint workers_items_source_type_format_check check (source_type ~ '^[a-z][a-z0-9_.]{1,59}$'),
  source_id   text,
  summary     text not null constraint workers_items_summary_length_check check (length(summary) between 1 and 300),
  priority    int not null default 3 constraint workers_items_priority_range_check check (priority between 1 and 5),
  dedupe_key  text constraint workers_items_dedupe_key_length_check check (length(dedupe_key) between 1 and 200),
  status      text not null default 'open' constraint workers_items_status_allowed_check check (status in ('open', 'done', 'cancelled')),
  assigned_to uuid,
  assigned_at timestamptz,
  due_at      timestamptz not null,
  created_at  timestamptz not null default now(),
  closed_at   timestamptz,
  resolution  text,
  trace_id    text,
  constraint workers_items_closed_check check ((status = 'open') = (closed_at is null)),
  constraint workers_items_queue_fk foreign key (tenant_id, queue_id) references public.workers_queues (tenant_id, id) on delete cascade,
  constraint workers_items_assignee_fk foreign key (tenant_id, assigned_to) references public.workers_staff (tenant_id, principal_id)
);
comment on table public.workers_items is
  'Work queue items (a source row of some portal, a summary without PII, a due time from the queue SLA); assigned by the load balancer.';
-- one open item per dedupe key (an enqueue repeated returns it)
create unique index workers_items_dedupe_unique on public.workers_items (tenant_id, dedupe_key) where status = 'open' and dedupe_key is not null;
create index workers_items_assignee_idx on public.workers_items (tenant_id, assigned_to) where status = 'open';
create index workers_items_queue_idx on public.workers_items (queue_id, created_at) where status = 'open';
select ops.attach_rails('public.workers_items', 'workers.read', null, null, null, p_audit => 'deferred');
select ops.set_rls_sample('public.workers_items',
  '{"tenant_id": "$tenant", "queue_id": "$ref:workers_queues", "source_type": "matrix", "summary": "matrix $n", "due_at": "2030-01-01T00:00:00Z"}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Serializes the tenant's assigners (enqueue, rebalance, shift end) for the transaction.
create function app_private.workers_lock(p_tenant_id uuid) returns void
language sql security definer set search_path = '' as $$
  select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('workers:' || p_tenant_id::text, 0))
$$;
revoke execute on function app_private.workers_lock(uuid) from public;

-- A worker on shift now, and its open items: the two figures every assignment compares
-- (plain SQL, inlined into the definer functions that call them).
create function app_private.workers_on_shift(p_tenant_id uuid, p_principal_id uuid) returns boolean
language sql stable set search_path = '' as $$
  select exists (select 1 from public.workers_shifts w where w.tenant_id = p_tenant_id and w.principal_id = p_principal_id
                   and w.starts_at <= now() and w.ends_at > now())
$$;
revoke execute on function app_private.workers_on_shift(uuid, uuid) from public;

create function app_private.workers_open_items(p_tenant_id uuid, p_principal_id uuid) returns bigint
language sql stable set search_path = '' as $$
  select count(*) from public.workers_items i where i.tenant_id = p_tenant_id and i.assigned_to = p_principal_id and i.status = 'open'
$$;
revoke execute on function app_private.workers_open_items(uuid, uuid) from public;

-- The worker an item of the skill goes to now: on shift, active, holding the skill, below
-- max_open, fewest open items (ties: principal id). The row is locked for the transaction.
create function app_private.workers_pick(p_tenant_id uuid, p_skill text, p_except uuid default null) returns uuid
language plpgsql security definer set search_path = '' as $$
declare
  v uuid;
begin
  select s.principal_id into v
  from public.workers_staff s
  cross join lateral (select app_private.workers_open_items(s.tenant_id, s.principal_id) as n) o
  where s.tenant_id = p_tenant_id and s.active and p_skill = any(s.skills) and o.n < s.max_open
    and s.principal_id is distinct from p_except and app_private.workers_on_shift(s.tenant_id, s.principal_id)
  order by o.n, s.principal_id
  limit 1
  for update of s;
  return v;
end $$;
revoke execute on function app_private.workers_pick(uuid, text, uuid) from public;

-- Assigns the open unassigned items of the tenant (oldest, highest priority first), each to
-- workers_pick; items another transaction holds are skipped. Returns how many it assigned.
-- The caller holds workers_lock.
create function app_private.workers_assign_pending(p_tenant_id uuid) returns int
language plpgsql security definer set search_path = '' as $$
declare
  it record;
  v_to uuid;
  v_n  int := 0;
begin
  for it in select i.id, q.skill from public.workers_items i
            join public.workers_queues q on q.id = i.queue_id
            where i.tenant_id = p_tenant_id and i.status = 'open' and i.assigned_to is null
            order by i.priority, i.created_at, i.id
            for update of i skip locked loop
    v_to := app_private.workers_pick(p_tenant_id, it.skill);
    if v_to is not null then
      update public.workers_items set assigned_to = v_to, assigned_at = now() where id = it.id;
      v_n := v_n + 1;
    end if;
  end loop;
  return v_n;
end $$;
revoke execute on function app_private.workers_assign_pending(uuid) from public;

-- Adds an item to a queue (workers.enqueue) and assigns it: the door other portals use
-- (from their definer functions, or their actions under the caller's claims). A repeated
-- open dedupe_key returns the open item. Returns {item_id, assigned_to, due_at, replayed}.
create function app_private.workers_enqueue(p_tenant_id uuid, p_queue_key text, p_source_type text, p_source_id text,
                                            p_summary text, p_priority int default 3, p_dedupe_key text default null)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  q   public.workers_queues;
  i   public.workers_items;
begin
  if p_tenant_id is null then
    perform app_private.raise_error('bad_request', 'p_tenant_id is required');
  end if;
  perform app_private.require_permission(p_tenant_id, 'workers.enqueue');
  select * into q from public.workers_queues where tenant_id = p_tenant_id and key = p_queue_key;
  if q.key is null then
    perform app_private.raise_error('worker_unknown', format('no work queue %s in the tenant', coalesce(p_queue_key, 'null')));
  end if;
  perform app_private.workers_lock(p_tenant_id);
  if p_dedupe_key is not null then
    select * into i from public.workers_items where tenant_id = p_tenant_id and dedupe_key = p_dedupe_key and status = 'open';
    if i.id is not null then
      return jsonb_build_object('item_id', i.id, 'assigned_to', i.assigned_to, 'due_at', i.due_at, 'replayed', true);
    end if;
  end if;
  insert into public.workers_items (tenant_id, queue_id, source_type, source_id, summary, priority, dedupe_key, due_at, trace_id)
  values (p_tenant_id, q.id, p_source_type, p_source_id, p_summary, coalesce(p_priority, 3), p_dedupe_key,
          now() + make_interval(mins => q.sla_minutes), (app_private.request_context()).trace_id)
  returning * into i;
  i.assigned_to := app_private.workers_pick(p_tenant_id, q.skill);
  if i.assigned_to is not null then
    update public.workers_items set assigned_to = i.assigned_to, assigned_at = now() where id = i.id;
  end if;
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (p_tenant_id, 'queue_item', i.id::text, 'workers.item.enqueued',
          jsonb_build_object('item_id', i.id, 'queue_key', p_queue_key, 'source_type', p_source_type, 'source_id', p_source_id,
                             'priority', i.priority, 'assigned_to', i.assigned_to, 'due_at', i.due_at,
                             'source_portal', app_private.freight_source_portal()));
  return jsonb_build_object('item_id', i.id, 'assigned_to', i.assigned_to, 'due_at', i.due_at, 'replayed', false);
end $$;
comment on function app_private.workers_enqueue(uuid, text, text, text, text, int, text) is
  'Adds an item to a work queue and assigns it to the least loaded on-shift worker with the skill (workers.enqueue); idempotent by open dedupe_key.';
grant execute on function app_private.workers_enqueue(uuid, text, text, text, text, int, text) to authenticated;

-- Moves items so that: no open item stays with a worker off shift or inactive (or without
-- the skill), none above max_open, and no worker carries more than one item more than the
-- least loaded eligible worker of that item's queue; then assigns what is unassigned.
-- Returns {moved, assigned}. The caller holds workers_lock.
create function app_private.workers_rebalance_internal(p_tenant_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_moved int := 0;
  v_released int;
  it record;
  v_to uuid;
  v_guard int := 0;
begin
  -- items of workers who cannot hold them: back to the pool
  with released as (
    update public.workers_items i set assigned_to = null, assigned_at = null
    from public.workers_queues q
    where q.id = i.queue_id and i.tenant_id = p_tenant_id and i.status = 'open' and i.assigned_to is not null
      and not exists (select 1 from public.workers_staff s
                      where s.tenant_id = i.tenant_id and s.principal_id = i.assigned_to and s.active and q.skill = any(s.skills)
                        and app_private.workers_on_shift(s.tenant_id, s.principal_id))
    returning i.id)
  select count(*) into v_released from released;
  -- overloaded: the newest item of the most loaded worker moves to the least loaded, while the gap is > 1
  loop
    v_guard := v_guard + 1;
    exit when v_guard > 1000;
    select i.id, i.assigned_to, q.skill, o.n, s.max_open into it
    from public.workers_items i
    join public.workers_queues q on q.id = i.queue_id
    join public.workers_staff s on s.tenant_id = i.tenant_id and s.principal_id = i.assigned_to
    cross join lateral (select app_private.workers_open_items(i.tenant_id, i.assigned_to) as n) o
    where i.tenant_id = p_tenant_id and i.status = 'open' and i.assigned_to is not null
      and (o.n > s.max_open
           or o.n > 1 + coalesce((select min(c.n) from public.workers_staff s2
                                  cross join lateral (select app_private.workers_open_items(s2.tenant_id, s2.principal_id) as n) c
                                  where s2.tenant_id = i.tenant_id and s2.active and q.skill = any(s2.skills) and c.n < s2.max_open
                                    and app_private.workers_on_shift(s2.tenant_id, s2.principal_id)), o.n))
    order by o.n desc, i.created_at desc, i.id
    limit 1
    for update of i skip locked;
    exit when not found;
    v_to := app_private.workers_pick(p_tenant_id, it.skill, it.assigned_to);
    exit when v_to is null;
    update public.workers_items set assigned_to = v_to, assigned_at = now() where id = it.id;
    v_moved := v_moved + 1;
  end loop;
  return jsonb_build_object('released', v_released, 'moved', v_moved, 'assigned', app_private.workers_assign_pending(p_tenant_id));
end $$;
revoke execute on function app_private.workers_rebalance_internal(uuid) from public;

-- Rebalance the tenant's queues (workers.balance: the agents, ops managers). Evented and
-- audited when it moved something.
create function app_private.workers_rebalance(p_tenant_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  r jsonb;
begin
  if p_tenant_id is null then
    perform app_private.raise_error('bad_request', 'p_tenant_id is required');
  end if;
  perform app_private.require_permission(p_tenant_id, 'workers.balance');
  perform app_private.workers_lock(p_tenant_id);
  r := app_private.workers_rebalance_internal(p_tenant_id);
  -- a rebalance that changed nothing leaves no trace (the agents may find nothing to move)
  if r <> '{"moved": 0, "assigned": 0, "released": 0}'::jsonb then
    insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
    values (p_tenant_id, 'tenant', p_tenant_id::text, 'workers.queues.rebalanced', r || jsonb_build_object('source_portal', app_private.freight_source_portal()));
    perform app_private.audit_write(p_tenant_id, 'workers.rebalance', 'tenant', p_tenant_id::text, null, r);
  end if;
  return r;
end $$;
comment on function app_private.workers_rebalance(uuid) is
  'Moves queue items off workers who left or are overloaded, evens the load within one item, assigns the unassigned (workers.balance).';
grant execute on function app_private.workers_rebalance(uuid) to authenticated;

-- Schedules a shift (workers.schedule) for a worker on the roster; overlaps refused.
create function app_private.workers_shift_add(p_tenant_id uuid, p_principal_id uuid, p_starts_at timestamptz, p_ends_at timestamptz)
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  v_id uuid;
begin
  if p_tenant_id is null or p_starts_at is null or p_ends_at is null then
    perform app_private.raise_error('bad_request', 'tenant, starts_at and ends_at are required');
  end if;
  perform app_private.require_permission(p_tenant_id, 'workers.schedule');
  if not exists (select 1 from public.workers_staff where tenant_id = p_tenant_id and principal_id = p_principal_id) then
    perform app_private.raise_error('worker_unknown', format('principal %s is not on the worker roster', p_principal_id));
  end if;
  if p_ends_at <= p_starts_at or p_ends_at > p_starts_at + interval '24 hours' then
    perform app_private.raise_error('bad_request', 'a shift ends after it starts, within 24 hours');
  end if;
  -- one scheduler at a time per worker: the roster row
  perform 1 from public.workers_staff where tenant_id = p_tenant_id and principal_id = p_principal_id for update;
  if exists (select 1 from public.workers_shifts where tenant_id = p_tenant_id and principal_id = p_principal_id
               and starts_at < p_ends_at and ends_at > p_starts_at) then
    perform app_private.raise_error('shift_overlap', format('principal %s has a shift overlapping %s .. %s', p_principal_id, p_starts_at, p_ends_at));
  end if;
  insert into public.workers_shifts (tenant_id, principal_id, starts_at, ends_at, created_by)
  values (p_tenant_id, p_principal_id, p_starts_at, p_ends_at, app_private.principal_id())
  returning id into v_id;
  perform app_private.audit_write(p_tenant_id, 'workers.shift.add', 'shift', v_id::text, null,
    jsonb_build_object('principal_id', p_principal_id, 'starts_at', p_starts_at, 'ends_at', p_ends_at));
  return jsonb_build_object('shift_id', v_id, 'principal_id', p_principal_id, 'starts_at', p_starts_at, 'ends_at', p_ends_at);
end $$;
comment on function app_private.workers_shift_add(uuid, uuid, timestamptz, timestamptz) is
  'Schedules a shift for a worker on the roster (workers.schedule); overlapping shifts are refused (shift_overlap).';
grant execute on function app_private.workers_shift_add(uuid, uuid, timestamptz, timestamptz) to authenticated;

-- Ends a shift now (workers.schedule, or the worker its own shift) and hands that worker's
-- open items to the on-shift others. Returns {shift_id, ended_at, reassigned, unassigned}.
create function app_private.workers_shift_end(p_shift_id uuid) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  w        public.workers_shifts;
  v_tenant uuid := (select tenant_id from public.workers_shifts where id = p_shift_id);
  v_held   int;
  r        jsonb;
begin
  if v_tenant is null or not (app_private.is_trusted_session() or app_private.has_permission(v_tenant, 'workers.read')) then
    perform app_private.raise_error('freight_not_found', format('no shift %s', p_shift_id));
  end if;
  select * into w from public.workers_shifts where id = p_shift_id;
  if w.principal_id is distinct from app_private.principal_id() then
    perform app_private.require_permission(v_tenant, 'workers.schedule');
  end if;
  if w.ends_at <= now() then
    perform app_private.raise_error('illegal_transition', format('shift %s is over', p_shift_id),
      jsonb_build_object('machine', 'shift', 'from', 'ended', 'to', 'ended'));
  end if;
  perform app_private.workers_lock(v_tenant);
  update public.workers_shifts set ends_at = greatest(starts_at + interval '1 microsecond', least(ends_at, now())), ended_at = now()
   where id = p_shift_id;
  v_held := app_private.workers_open_items(v_tenant, w.principal_id);
  r := app_private.workers_rebalance_internal(v_tenant);
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_tenant, 'shift', p_shift_id::text, 'workers.shift.ended',
          jsonb_build_object('shift_id', p_shift_id, 'principal_id', w.principal_id, 'held', v_held, 'source_portal', app_private.freight_source_portal()) || r);
  perform app_private.audit_write(v_tenant, 'workers.shift.end', 'shift', p_shift_id::text,
    jsonb_build_object('ends_at', w.ends_at), jsonb_build_object('ended_at', now(), 'held', v_held) || r);
  return jsonb_build_object('shift_id', p_shift_id, 'ended_at', now(), 'held', v_held,
    'still_unassigned', (select count(*) from public.workers_items where tenant_id = v_tenant and status = 'open' and assigned_to is null)) || r;
end $$;
comment on function app_private.workers_shift_end(uuid) is
  'Ends a shift now (workers.schedule, or the worker its own) and reassigns that worker''s open items to on-shift workers.';
grant execute on function app_private.workers_shift_end(uuid) to authenticated;

-- Closes an item (done / cancelled): its assignee (workers.work) or a balancer.
create function app_private.workers_item_close(p_item_id uuid, p_status text, p_resolution text default null) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  i        public.workers_items;
  v_tenant uuid := (select tenant_id from public.workers_items where id = p_item_id);
begin
  if v_tenant is null or not (app_private.is_trusted_session() or app_private.has_permission(v_tenant, 'workers.read')) then
    perform app_private.raise_error('freight_not_found', format('no queue item %s', p_item_id));
  end if;
  if p_status is null or p_status not in ('done', 'cancelled') then
    perform app_private.raise_error('bad_request', 'an item closes as done or cancelled');
  end if;
  select * into i from public.workers_items where id = p_item_id for update;
  if i.assigned_to is not distinct from app_private.principal_id() then
    perform app_private.require_permission(v_tenant, 'workers.work');
  else
    perform app_private.require_permission(v_tenant, 'workers.balance');
  end if;
  if i.status <> 'open' then
    perform app_private.raise_error('queue_item_closed', format('queue item %s is %s', p_item_id, i.status));
  end if;
  update public.workers_items set status = p_status, closed_at = now(), resolution = p_resolution where id = p_item_id;
  insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
  values (v_tenant, 'queue_item', p_item_id::text, 'workers.item.closed',
          jsonb_build_object('item_id', p_item_id, 'queue_id', i.queue_id, 'status', p_status, 'assigned_to', i.assigned_to,
                             'source_portal', app_private.freight_source_portal()));
  return jsonb_build_object('item_id', p_item_id, 'status', p_status, 'assigned_to', i.assigned_to);
end $$;
comment on function app_private.workers_item_close(uuid, text, text) is
  'Closes a queue item as done or cancelled (its assignee: workers.work; others: workers.balance).';
grant execute on function app_private.workers_item_close(uuid, text, text) to authenticated;

-- Coverage gaps of the tenant's queues in [p_from, p_to): the stretches where fewer than
-- min_coverage active workers holding the queue's skill are on shift (shifts' boundaries
-- cut the window into segments; adjacent short segments merge through range_agg).
create function app_private.workers_coverage_gaps(p_tenant_id uuid, p_from timestamptz, p_to timestamptz)
returns table (queue_key text, gap_start timestamptz, gap_end timestamptz, min_coverage int)
language plpgsql stable security definer set search_path = '' as $$
#variable_conflict use_column
begin
  if p_tenant_id is null or p_from is null or p_to is null or p_to <= p_from or p_to > p_from + interval '31 days' then
    perform app_private.raise_error('bad_request', 'a window [from, to) of at most 31 days');
  end if;
  perform app_private.require_permission(p_tenant_id, 'workers.read');
  return query
  with q as (select * from public.workers_queues where tenant_id = p_tenant_id and min_coverage > 0),
  cover as (select q.key, w.starts_at, w.ends_at from q
            join public.workers_staff s on s.tenant_id = q.tenant_id and s.active and q.skill = any(s.skills)
            join public.workers_shifts w on w.tenant_id = s.tenant_id and w.principal_id = s.principal_id
                                        and w.starts_at < p_to and w.ends_at > p_from),
  cuts as (select q.key, p_from as t from q union select q.key, p_to from q
           union select key, greatest(starts_at, p_from) from cover union select key, least(ends_at, p_to) from cover),
  segs as (select key, t as s, lead(t) over (partition by key order by t) as e from cuts),
  short as (select g.key, tstzrange(g.s, g.e) as r from segs g join q on q.key = g.key
            where g.e is not null and g.e > g.s
              and (select count(*) from cover c where c.key = g.key and c.starts_at <= g.s and c.ends_at >= g.e) < q.min_coverage),
  merged as (select key, unnest(range_agg(r)) as r from short group by key)
  select m.key, lower(m.r), upper(m.r), q.min_coverage from merged m join q on q.key = m.key order by m.key, lower(m.r);
end $$;
comment on function app_private.workers_coverage_gaps(uuid, timestamptz, timestamptz) is
  'Stretches of [from, to) where a queue has fewer than min_coverage skilled workers on shift (workers.read).';
grant execute on function app_private.workers_coverage_gaps(uuid, timestamptz, timestamptz) to authenticated;
