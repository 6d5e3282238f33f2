-- Performance and the kill switch under load (issue 7, bench/README.md).
--
-- 1. Flag reads on the rails' hot path. app_private.flag_bool/number/text went through
--    flag_effective, which read the definition, then the rows, then built a typed jsonb
--    value the caller threw away: about 80 us per read, three or four reads per guarded
--    statement. app_private.flag_raw reads the winning row's raw text (or the default) in
--    one query; same precedence (tenant+portal > tenant > portal > global > default), same
--    unknown_flag error.
--
-- 2. No machine write commits after the stop. The guard reads autonomy.emergencyStop at the
--    start of every statement, so a machine transaction that passed its last guard just
--    before the stop committed could still commit just after it (measured: 2 to 6 writes
--    committed after the flag in every run at 60-130 machine tx/s). Now:
--    - a machine principal's guard takes a shared transaction-level advisory lock before it
--      reads the flag, and reads it with a fresh snapshot (app_private.emergency_stop_now is
--      VOLATILE), so the lock is held from its first guarded statement to its commit;
--    - the stop (autonomy.emergencyStop set true at global scope, by the charter's UPDATE or
--      any other statement) takes that lock exclusively before its row is written, so it
--      waits for the machine transactions in flight to commit or roll back, and machine
--      statements arriving meanwhile queue behind it, then read the committed stop and are
--      refused. Every machine write thus commits before the flag does, or not at all.
--    The wait is bounded: after 2 s (a machine transaction left open, e.g. an idle
--    session) or on a deadlock the stop goes through without waiting (a WARNING says so);
--    it never fails because of this. Humans and break-glass principals take no lock.
--    Lock key: the two-int advisory key (2026, 1125), apart from the bigint keys used for
--    idempotency.

-------------------------------------------------------------------------------------------
-- 1. Flags
-------------------------------------------------------------------------------------------
create function app_private.flag_raw(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns text
language plpgsql stable security definer set search_path = '' as $$
declare
  v text;
begin
  select f.value into v
  from public.feature_flags_v2 f
  where f.key = p_key
    and (f.tenant_id is null or f.tenant_id = p_tenant_id)
    and (f.portal is null or f.portal = p_portal)
  order by (f.tenant_id is not null)::int * 2 + (f.portal is not null)::int desc
  limit 1;
  if v is null then
    select d.default_value into v from public.flag_definitions d where d.key = p_key;
    if not found then
      perform app_private.flag_definition(p_key);  -- raises unknown_flag
    end if;
  end if;
  return v;
end $$;
revoke execute on function app_private.flag_raw(text, uuid, text) from public;

create or replace function app_private.flag_bool(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return app_private.flag_raw(p_key, p_tenant_id, p_portal)::boolean;
end $$;
create or replace function app_private.flag_number(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns numeric
language plpgsql stable security definer set search_path = '' as $$
begin
  return app_private.flag_raw(p_key, p_tenant_id, p_portal)::numeric;
end $$;
create or replace function app_private.flag_text(p_key text, p_tenant_id uuid default null, p_portal text default null)
returns text
language plpgsql stable security definer set search_path = '' as $$
begin
  return app_private.flag_raw(p_key, p_tenant_id, p_portal);
end $$;

-------------------------------------------------------------------------------------------
-- 2. Kill switch: machine writes drain before the stop commits
-------------------------------------------------------------------------------------------

-- The stop flag as committed right now (VOLATILE: a fresh snapshot even inside a statement
-- that started before the stop committed).
create function app_private.emergency_stop_now() returns boolean
language plpgsql volatile security definer set search_path = '' as $$
begin
  return coalesce(app_private.flag_raw('autonomy.emergencyStop')::boolean, false);
end $$;
revoke execute on function app_private.emergency_stop_now() from public;

-- check_rails as in 20261125050000_kill_switch_modes.sql, plus the shared lock and the fresh
-- read of the stop for machine principals.
create or replace function app_private.check_rails(p_class text, p_tenant_id uuid default null,
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
  select * into v_p from public.principals p where p.id = auth.uid() and p.disabled_at is null;
  v_machine := coalesce(v_p.kind = 'machine', false)
               or (v_p.id is null and (auth.role() = 'service_role'
                                       or current_setting('role', true) = 'service_role'));
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
  end if;
  if p_class = 'domain' and v_portal is not null
     and not app_private.flag_bool('portal.enabled', v_tenant, v_portal) then
    perform app_private.raise_error('portal_disabled',
      format('portal %s is disabled%s; no writes%s', v_portal, coalesce(' for tenant ' || v_tenant::text, ''), v_target),
      jsonb_build_object('flag', 'portal.enabled', 'portal', v_portal, 'tenant_id', v_tenant));
  end if;
end $$;

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
revoke execute on function app_private.kill_switch_drain() from public;

create trigger wait_for_machine_writers before insert or update on public.feature_flags_v2
  for each row execute function app_private.kill_switch_drain();
