-- Performance (issue 7, bench/README.md): the permission helpers behind every RLS policy,
-- permission check and rail. Same results; measured costs before -> after are in
-- bench/README.md.
--
-- 1. app_private.permission_grants: auth.uid() (which parses the JWT claims) sat in the
--    WHERE clause, so it ran once per row of role_assignments scanned; it is read once now.
--    And its result is memoized for the rest of the transaction, per principal: one
--    price_one asked for the same grants about ten times (every RLS policy it meets, the
--    rails, the rate limit, the Live Feed). The memo lives in the transaction-local setting
--    app.grants_memo and is cleared by any change to role_assignments, role_permissions,
--    principals, tenants or permissions in the same transaction; a change committed by
--    another session applies from the caller's next transaction (as a REPEATABLE READ
--    caller would see it). A session that can set settings can already set
--    request.jwt.claims, so the memo adds no way around the checks.
-- 2. app_private.permitted_tenants (the initPlan of every tenant policy): PL/pgSQL (plans
--    cached per session) instead of SQL (planned on every call), with the tenant claim read
--    once instead of twice per row of public.tenants -- its cost grew with the number of
--    tenants -- and a primary-key lookup when the request is narrowed to a tenant.
-- 3. public.rates_evidence: PL/pgSQL, so its seven-part query is planned once per session,
--    not on every quote (still SECURITY INVOKER: RLS applies as before).

create or replace function app_private.permission_grants(p_permission text)
returns table (tenant_id uuid)
language plpgsql stable security definer set search_path = '' as $$
declare
  v_uid  uuid;
  v_memo text;
  v_at   int;
  v_list text[];
begin
  if not exists (select 1 from public.permissions x where x.permission = p_permission) then
    perform app_private.raise_error('unknown_permission',
      format('"%s" is not a permission', p_permission));
  end if;
  v_uid := auth.uid();
  if v_uid is null then
    return;  -- no principal, no grants
  end if;
  -- memo: '<uid>;<permission>:<tenant ids, * = global>;...'
  v_memo := coalesce(current_setting('app.grants_memo', true), '');
  if left(v_memo, 37) = v_uid::text || ';' then
    v_at := strpos(v_memo, ';' || p_permission || ':');
    if v_at > 0 then
      return query
        select nullif(x, '*')::uuid
        from unnest(string_to_array(split_part(substr(v_memo, v_at + length(p_permission) + 2), ';', 1), ',')) x;
      return;
    end if;
  else
    v_memo := v_uid::text || ';';
  end if;
  select coalesce(array_agg(coalesce(ra.tenant_id::text, '*')), '{}') into v_list
  from public.role_assignments ra
  join public.role_permissions rp on rp.role = ra.role and rp.permission = p_permission
  join public.principals p on p.id = ra.principal_id and p.disabled_at is null
  left join public.tenants t on t.id = ra.tenant_id
  where ra.principal_id = v_uid
    and (ra.tenant_id is null or t.status = 'active');
  perform set_config('app.grants_memo', v_memo || p_permission || ':' || array_to_string(v_list, ',') || ';', true);
  return query select nullif(x, '*')::uuid from unnest(v_list) x;
end $$;

-- Any change to what grants are made of clears the memo (statement level, same transaction).
create function app_private.grants_memo_clear() returns trigger
language plpgsql set search_path = '' as $$
begin
  perform set_config('app.grants_memo', '', true);
  return null;
end $$;
revoke execute on function app_private.grants_memo_clear() from public;

create trigger grants_memo_clear after insert or update or delete or truncate on public.role_assignments
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.role_permissions
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.principals
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.tenants
  for each statement execute function app_private.grants_memo_clear();
create trigger grants_memo_clear after insert or update or delete or truncate on public.permissions
  for each statement execute function app_private.grants_memo_clear();

create or replace function app_private.permitted_tenants(p_permission text)
returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  v_claim  uuid := app_private.claim_tenant();
  v_global boolean;
  v_grants uuid[];
begin
  -- (permission_grants raises unknown_permission for a permission that does not exist)
  select coalesce(bool_or(g.tenant_id is null), false), array_agg(g.tenant_id) filter (where g.tenant_id is not null)
    into v_global, v_grants
  from app_private.permission_grants(p_permission) g;
  if v_claim is not null then
    if v_global or v_claim = any (v_grants) then
      return coalesce((select array_agg(t.id) from public.tenants t where t.id = v_claim), '{}'::uuid[]);
    end if;
    return '{}'::uuid[];
  end if;
  if v_global then
    return (select coalesce(array_agg(t.id), '{}'::uuid[]) from public.tenants t);
  end if;
  return (select coalesce(array_agg(t.id), '{}'::uuid[]) from public.tenants t where t.id = any (v_grants));
end $$;

-- 3. rates_evidence: the same query (see 20261125200000_rates.sql), in PL/pgSQL.
create or replace function public.rates_evidence(
  p_tenant_id uuid, p_equipment text,
  p_origin_zip3 text, p_destination_zip3 text, p_origin_region text, p_destination_region text,
  p_pickup date)
returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  return (
  select jsonb_build_object(
      'history_zip3', coalesce((
        select jsonb_agg(h.rate_per_mile) from (
          select rate_per_mile from public.rates_lane_history
          where tenant_id = p_tenant_id and equipment = p_equipment
            and origin_zip3 = p_origin_zip3 and destination_zip3 = p_destination_zip3
          order by shipped_on desc limit 50) h), '[]'),
      'history_region', coalesce((
        select jsonb_agg(h.rate_per_mile) from (
          select rate_per_mile from public.rates_lane_history
          where tenant_id = p_tenant_id and equipment = p_equipment
            and origin_region = p_origin_region and destination_region = p_destination_region
          order by shipped_on desc limit 50) h), '[]'),
      'index_zip3', coalesce((
        select jsonb_agg(jsonb_build_object('rate_per_mile', i.rate_per_mile, 'sample_size', i.sample_size,
                                            'effective_date', i.effective_date, 'source', i.source))
        from (select distinct on (source) * from public.rates_index
              where tenant_id = p_tenant_id and equipment = p_equipment
                and origin_zip3 = p_origin_zip3 and destination_zip3 = p_destination_zip3
                and effective_date <= p_pickup
              order by source, effective_date desc) i), '[]'),
      'index_region', coalesce((
        select jsonb_agg(jsonb_build_object('rate_per_mile', i.rate_per_mile, 'sample_size', i.sample_size,
                                            'effective_date', i.effective_date, 'source', i.source))
        from (select distinct on (source, origin_zip3, destination_zip3) * from public.rates_index
              where tenant_id = p_tenant_id and equipment = p_equipment
                and origin_region = p_origin_region and destination_region = p_destination_region
                and effective_date <= p_pickup
              order by source, origin_zip3, destination_zip3, effective_date desc) i), '[]'),
      'diesel', coalesce((
        select jsonb_agg(jsonb_build_object('week_of', d.week_of, 'price', d.price) order by d.week_of desc)
        from (select * from public.rates_diesel_weeks where week_of <= p_pickup
              order by week_of desc limit 8) d), '[]'),
      'contracts', coalesce((
        select jsonb_agg(jsonb_build_object('id', c.id, 'origin', c.origin, 'destination', c.destination,
                 'equipment', c.equipment, 'rate', c.rate, 'valid_from', c.valid_from,
                 'valid_to', c.valid_to, 'customer_ref', c.customer_ref))
        from public.rates_contracts c
        where c.tenant_id = p_tenant_id and c.equipment = p_equipment
          and p_pickup between c.valid_from and c.valid_to), '[]'),
      'guards', coalesce((
        select jsonb_agg(jsonb_strip_nulls(to_jsonb(g) - 'tenant_id'))
        from public.rates_guards g where g.tenant_id = p_tenant_id), '[]')
    )
  );
end $$;

-- 4. rates/price_one's post-condition read. As an ad-hoc statement it was planned on every
--    call against every outbox partition (about 6 ms of planning at 16 daily partitions,
--    for a 0.4 ms read; the edge sends unnamed statements, whose plans are not kept). As a
--    function its plan is cached per session. The quote's event is looked up by tenant,
--    aggregate type and id, which the outbox's aggregate index serves (by aggregate id
--    alone it was a scan of every partition: seconds at a million rows).
create function app_private.rates_quote_proof(p_tenant_id uuid, p_quote_id uuid,
                                              out total numeric, out status text, out events int)
language plpgsql stable security definer set search_path = '' as $$
begin
  select q.total, q.status into total, status
  from public.rates_quotes q where q.id = p_quote_id and q.tenant_id = p_tenant_id;
  select count(*)::int into events
  from public.outbox_events o
  where o.tenant_id = p_tenant_id and o.aggregate_type = 'rates_quote' and o.aggregate_id = p_quote_id::text
    and o.event_type = 'rates.quote.created';
end $$;
revoke execute on function app_private.rates_quote_proof(uuid, uuid) from public;
