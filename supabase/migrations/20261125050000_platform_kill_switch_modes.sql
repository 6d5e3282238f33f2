-- Kill switch and modes (charter §2, §11), enforced by Postgres.
--
-- A statement-level BEFORE trigger (app_private.rails_guard) on every table under the
-- rails reads the flags on every statement, with no cache, so a committed stop refuses the
-- very next statement of every session:
--
--   STOP       autonomy.emergencyStop = true   -> machine writes fail: autonomy_halted (SY001)
--              (the system principal keeps break-glass rights: flags and DR only, through
--              its permissions; humans keep working)
--   STEP-DOWN  autonomy.mode = 'STEP-DOWN'      -> machine writes to domain tables and outbox
--              publishing fail: autonomy_step_down (SY002); DLQ replays need a human's
--              approval (see the outbox migration)
--   DEGRADE    autonomy.mode = 'DEGRADE'        -> DLQ replays paused (dlq_paused, SY007);
--              budget.agents.maxConcurrent lowered (lease_acquire), portals turned off
--   agents.autonomousEnabled = false             -> the agents account may not write (SY003)
--   a quarantined tenant                         -> the agents account may not write there:
--              quarantined (SY060; the quarantine migration)
--   portal.enabled = false for the request's portal (claim `portal`) -> writes through that
--              portal fail for everyone: portal_disabled (SY004)
--
-- Rail classes (trigger argument):
--   domain    domain tables and outbox publishing: every rail above
--   delivery  outbox delivery state, deliveries log, DLQ, subscriptions (a receiver's 410
--             switches one off), alerts, spans: emergency stop and agents switch
--   control   flags and replay requests: emergency stop only (with break-glass)
--
-- A principal is a machine when its public.principals row says so (never the claim); a
-- service_role session with no principal counts as a machine too (autonomous by default).
--
-- Delivery is not autonomous (issue 12). The outbox relay acts as relay@, a service account
-- marked non-autonomous (service_accounts.autonomous = false) that holds outbox.deliver and
-- nothing else: it decides nothing, it delivers events that a human's or a machine's
-- committed transaction published. Its writes of class delivery (claim, extend, acknowledge,
-- the deliveries log, the DLQ entry and the alert of an event that exhausted its attempts or
-- whose receiver is gone) are its delivery bookkeeping and pass every rail here: delivery
-- goes on under STOP, STEP-DOWN, DEGRADE and with agents off. Under STOP nothing new is
-- published by machines (class domain), so relay@ only finishes delivering what was already
-- committed; any other write of relay@ is refused like every machine's.
--
-- No machine write commits after the stop. The guard reads autonomy.emergencyStop at the
-- start of every statement, so on its own a machine transaction that passed its last guard
-- just before the stop committed could still commit just after it. So:
--   - a machine principal's guard takes a shared transaction-level advisory lock before it
--     reads the flag, and reads it with a fresh snapshot (app_private.emergency_stop_now is
--     VOLATILE), so the lock is held from its first guarded statement to its commit;
--   - the stop (autonomy.emergencyStop set true at global scope, by the charter's UPDATE or
--     any other statement) takes that lock exclusively before its row is written
--     (app_private.kill_switch_drain), so it waits for the machine transactions in flight
--     to commit or roll back, and machine statements arriving meanwhile queue behind it,
--     then read the committed stop and are refused. Every machine write thus commits before
--     the flag does, or not at all.
--   The wait is bounded: after 2 s (a machine transaction left open, e.g. an idle session)
--   or on a deadlock the stop goes through without waiting (a WARNING says so); it never
--   fails because of this. Humans and break-glass principals take no lock. Lock key: the
--   two-int advisory key (2026, 1125), apart from the bigint keys used for idempotency.
--
-- Tenants and machine keys (every door, in the same guard):
--   a suspended tenant (tenants.status) refuses every write made in it: tenant_suspended
--              (SY050), for humans and machines alike (trusted operator sessions excepted);
--   a machine request signed with a service key (claim key_id, set by the edge after the
--              HMAC check) acts only in the tenants the key names (service_account_keys.
--              tenant_ids; null only for keys of platform accounts: autopilot, agents, dlq,
--              ci, system): forbidden (SY021) in any other (app_private.check_machine_tenant).
--
-- Sections: permissions and grants; functions; triggers (on the switchboard). The demo
-- domain table that shows ops.attach_rails lives in the freight migration
-- (20261125300000_freight_demo_shipments).

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('tenant_suspended', 'SY050', 403, 'Tenant suspended', 'The tenant is suspended: it refuses every write.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- A request signed with a service key (claim key_id) acts only in the tenants that key
-- names: raises forbidden for any other tenant (and for none when the key is tenant-bound),
-- and for a key that is not a live key of the calling principal.
create function app_private.check_machine_tenant(p_tenant_id uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  v_key  text := app_private.claim('key_id');
  v_ok   boolean;
begin
  if v_key is null then
    return;
  end if;
  select p_tenant_id is not null and (k.tenant_ids is null or p_tenant_id = any (k.tenant_ids)) into v_ok
  from public.service_account_keys k
  where k.key_id = v_key and k.principal_id = auth.uid() and k.revoked_at is null and k.expires_at > now();
  if not coalesce(v_ok, false) then
    perform app_private.raise_error('forbidden',
      format('service key %s does not serve tenant %s', v_key, coalesce(p_tenant_id::text, '(none)')),
      jsonb_build_object('key_id', v_key, 'tenant_id', p_tenant_id));
  end if;
end $$;
comment on function app_private.check_machine_tenant(uuid) is
  'Raises forbidden when the request''s service key (claim key_id) does not serve the tenant.';
create function app_private.claim_portal() returns text
language sql stable set search_path = '' as $$
  select app_private.claim('portal')
$$;

-- The stop flag as committed right now (VOLATILE: a fresh snapshot even inside a statement
-- that started before the stop committed).
create function app_private.emergency_stop_now() returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  return coalesce(app_private.flag_raw('autonomy.emergencyStop')::boolean, false);
end $$;
comment on function app_private.emergency_stop_now() is
  'autonomy.emergencyStop as committed right now (VOLATILE: a fresh snapshot).';
revoke execute on function app_private.emergency_stop_now() from public;

-- Raises the rail that refuses a write of p_class by the calling principal, if any.
-- For machine principals it takes the shared kill-switch lock and reads the stop fresh (see the header).
create function app_private.check_rails(p_class text, p_tenant_id uuid default null,
                                                   p_target text default null)
returns void
language plpgsql stable security definer set search_path = '' as $$
declare
  v_p        public.principals;
  v_machine  boolean;
  v_break    boolean;
  v_tenant   uuid := coalesce(p_tenant_id, app_private.claim_tenant());
  v_portal   text := app_private.claim_portal();
  v_who      text;
  v_target   text := coalesce(' to ' || p_target, '');
begin
  if p_class not in ('domain', 'delivery', 'control') then
    raise exception 'check_rails: unknown rail class %', p_class;
  end if;
  -- another tenant than the request's: the caller must be entitled to that tenant's rails
  if p_tenant_id is distinct from app_private.claim_tenant() and p_tenant_id is not null then
    perform app_private.require_rails_caller(p_tenant_id);
  end if;
  if v_tenant is not null and not app_private.is_trusted_session() then
    perform app_private.check_machine_tenant(v_tenant);
    if exists (select 1 from public.tenants t where t.id = v_tenant and t.status = 'suspended') then
      perform app_private.raise_error('tenant_suspended',
        format('tenant %s is suspended; no writes%s', v_tenant, v_target),
        jsonb_build_object('tenant_id', v_tenant));
    end if;
  end if;
  select * into v_p from public.principals p where p.id = auth.uid() and p.disabled_at is null;
  v_machine := coalesce(v_p.kind = 'machine', false)
               or (v_p.id is null and (auth.role() = 'service_role'
                                       or current_setting('role', true) = 'service_role'));
  -- relay@'s delivery bookkeeping is not autonomous work (see the header)
  if v_machine and p_class = 'delivery'
     and exists (select 1 from public.service_accounts s where s.principal_id = v_p.id and not s.autonomous) then
    v_machine := false;
  end if;
  if v_machine then
    v_who := coalesce(v_p.name || '@', 'service_role');
    v_break := v_p.id is not null and app_private.has_permission(null, 'rails.break_glass');
    if not v_break then
      -- held until this transaction ends: a stop waits for it (see the header)
      perform pg_advisory_xact_lock_shared(2026, 1125);
      if app_private.emergency_stop_now() then
        perform app_private.raise_error('autonomy_halted',
          format('autonomy.emergencyStop is true; %s may not write%s', v_who, v_target),
          jsonb_build_object('flag', 'autonomy.emergencyStop', 'principal', v_who));
      end if;
    end if;
    if p_class = 'domain' and not v_break and app_private.flag_text('autonomy.mode') = 'STEP-DOWN' then
      perform app_private.raise_error('autonomy_step_down',
        format('autonomy.mode is STEP-DOWN; %s is read-only%s', v_who, v_target),
        jsonb_build_object('flag', 'autonomy.mode', 'principal', v_who));
    end if;
    if p_class in ('domain', 'delivery') and v_p.name = 'agents'
       and not app_private.flag_bool('agents.autonomousEnabled', v_tenant) then
      perform app_private.raise_error('agents_disabled',
        format('agents.autonomousEnabled is false; agents@ may not write%s', v_target),
        jsonb_build_object('flag', 'agents.autonomousEnabled', 'tenant_id', v_tenant));
    end if;
    -- a quarantined tenant's agents stand down (20261126130000_platform_quarantine)
    if p_class = 'domain' and v_p.name = 'agents' and v_tenant is not null
       and app_private.is_quarantined('tenant', v_tenant::text) then
      perform app_private.raise_error('quarantined',
        format('tenant %s is quarantined; agents@ may not write%s', v_tenant, v_target),
        jsonb_build_object('kind', 'tenant', 'tenant_id', v_tenant));
    end if;
  end if;
  if p_class = 'domain' and v_portal is not null
     and not app_private.flag_bool('portal.enabled', v_tenant, v_portal) then
    perform app_private.raise_error('portal_disabled',
      format('portal %s is disabled%s; no writes%s', v_portal, coalesce(' for tenant ' || v_tenant::text, ''), v_target),
      jsonb_build_object('flag', 'portal.enabled', 'portal', v_portal, 'tenant_id', v_tenant));
  end if;
end $$;
comment on function app_private.check_rails(text, uuid, text) is
  'Raises the rail (kill switch, step-down, agents switch, portal flag) that refuses a write of this class by the caller.';

-- Statement-level guard: TG_ARGV[0] is the rail class.
create function app_private.rails_guard() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform app_private.check_rails(coalesce(tg_argv[0], 'domain'), null,
                                  tg_table_schema || '.' || tg_table_name);
  return null;
end $$;
comment on function app_private.rails_guard() is
  'Statement-level guard trigger of every table under the rails; argument: rail class.';

-- The rails state for a request context, in one round trip (the edge checks early). A
-- tenant's state needs flags.read there; the platform's (no tenant) every principal reads.
create function app_private.rails_state(p_tenant_id uuid default null, p_portal text default null)
returns table (emergency_stop boolean, mode text, agents_enabled boolean, portal_enabled boolean,
               dlq_paused boolean, max_concurrent int)
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_tenant_id is not null then
    perform app_private.require_permission(p_tenant_id, 'flags.read');
  end if;
  return query
  select app_private.flag_bool('autonomy.emergencyStop'),
         app_private.flag_text('autonomy.mode'),
         app_private.flag_bool('agents.autonomousEnabled', p_tenant_id),
         app_private.flag_bool('portal.enabled', p_tenant_id, p_portal),
         app_private.flag_bool('dlq.paused', p_tenant_id) or app_private.flag_text('autonomy.mode') = 'DEGRADE',
         app_private.flag_number('budget.agents.maxConcurrent', p_tenant_id)::int;
end $$;

grant execute on function app_private.claim_portal(), app_private.check_rails(text, uuid, text),
  app_private.rails_state(uuid, text) to authenticated, service_role;
-- check_machine_tenant runs inside the definer rails (check_rails, action_begin) only.
revoke all on function app_private.check_machine_tenant(uuid) from public, anon, authenticated;
-- Puts a tenant table under the rails in one call: RLS policies from permissions (see
-- ops.tenant_rls), the kill-switch/mode guard and the row audit trigger.
--   select ops.attach_rails('public.quotes');                       -- domain defaults
--   select ops.attach_rails('public.invoices', 'finance.read', 'finance.write', 'finance.write', null);
--   select ops.attach_rails('public.rates_quotes', ..., p_audit => 'deferred');
-- p_audit, the row audit mode:
--   immediate  (default) an AFTER ROW trigger appends to the tenant's hash chain as each row
--              changes;
--   deferred   the same trigger as a DEFERRABLE INITIALLY DEFERRED constraint trigger: it
--              runs at COMMIT (same transaction, same claims and trace context; all or
--              nothing as before), so the tenant's chain lock (ops.audit_chain_heads, FOR
--              UPDATE) is held only from the audit insert to the commit record, never across
--              a client round trip. For the hot tables of the action pipeline: with the
--              audit at the INSERT, one tenant's actions ran one at a time at the speed of
--              the edge's event loop (bench/README.md). The row image is the row as the
--              statement left it; only the audit row's position moves to the end of its
--              transaction. A session that must see its audit rows before commit runs
--              `set constraints all immediate`;
--   none       no row audit (bulk tables whose writers audit themselves).
create function ops.attach_rails(
  p_table regclass,
  p_select text default 'domain.read',
  p_insert text default 'domain.write',
  p_update text default 'domain.write',
  p_delete text default 'domain.delete',
  p_rail_class text default 'domain',
  p_audit text default 'immediate',
  p_tenant_column name default 'tenant_id')
returns void
language plpgsql set search_path = '' as $$
begin
  if p_audit is null or p_audit not in ('immediate', 'deferred', 'none') then
    raise exception 'ops.attach_rails: audit mode must be immediate, deferred or none (got %)', p_audit;
  end if;
  perform ops.tenant_rls(p_table, p_select, p_insert, p_update, p_delete, p_tenant_column);
  execute format('drop trigger if exists rails_guard on %s', p_table);
  execute format('create trigger rails_guard before insert or update or delete or truncate on %s '
                 'for each statement execute function app_private.rails_guard(%L)', p_table, p_rail_class);
  execute format('drop trigger if exists audit_row on %s', p_table);
  if p_audit = 'immediate' then
    execute format('create trigger audit_row after insert or update or delete on %s '
                   'for each row execute function app_private.audit_row_change(%L)', p_table, p_tenant_column);
  elsif p_audit = 'deferred' then
    execute format('create constraint trigger audit_row after insert or update or delete on %s '
                   'deferrable initially deferred '
                   'for each row execute function app_private.audit_row_change(%L)', p_table, p_tenant_column);
  end if;
end $$;
comment on function ops.attach_rails(regclass, text, text, text, text, text, text, name) is
  'Puts a tenant table under the rails: generated RLS policies, the kill-switch guard and the row audit (immediate | deferred | none).';
revoke execute on function ops.attach_rails(regclass, text, text, text, text, text, text, name) from public;

-- The stop side: BEFORE the stop's row is written (after validate_flag), wait for the
-- machine transactions in flight. Bounded (2 s) and never an error.
create function app_private.kill_switch_drain() returns trigger
language plpgsql security definer set search_path = '' set lock_timeout = '2s' as $$
begin
  if new.key <> 'autonomy.emergencyStop' or new.scope <> 'global' then
    return new;
  end if;
  -- (validate_flag has run: the value is a boolean)
  if new.value::boolean and (tg_op = 'INSERT' or old.value::boolean is distinct from true) then
    begin
      perform pg_advisory_xact_lock(2026, 1125);
    exception when lock_not_available or deadlock_detected then
      raise warning 'autonomy.emergencyStop: did not wait for every machine transaction in flight (%); '
                    'one still open may commit after the stop', sqlerrm;
    end;
  end if;
  return new;
end $$;
comment on function app_private.kill_switch_drain() is
  'Before the stop is written: waits (at most 2 s) for the machine transactions in flight.';
revoke execute on function app_private.kill_switch_drain() from public;

-------------------------------------------------------------------------------------------
-- triggers
-------------------------------------------------------------------------------------------
-- Flags are under the rails too (class control): while stopped only break-glass (system,
-- whose permissions reach autonomy.emergencyStop alone) or a human may change them.
create trigger rails_guard before insert or update or delete or truncate on public.feature_flags_v2
  for each statement execute function app_private.rails_guard('control');

-- The stop waits for the machine writers in flight (after validate_flag: triggers fire in name order).
create trigger wait_for_machine_writers before insert or update on public.feature_flags_v2
  for each row execute function app_private.kill_switch_drain();
