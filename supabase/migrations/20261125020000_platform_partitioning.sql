-- Time partitioning (issue item 8): outbox, audit, spans and request metrics are range
-- partitioned by time. Partitions live in schema app_partitions, which no API role can use:
-- every read and write goes through the partitioned parent in public, where RLS applies.
-- ops.rotate_partitions() (daily, see the schedules migration) creates partitions ahead and
-- drops those past their TTL.
--
-- Sections: permissions and grants; tables; functions.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
create schema if not exists app_partitions;
revoke all on schema app_partitions from public;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table ops.partitioned_tables (
  table_name   regclass primary key,
  granularity  text not null constraint partitioned_tables_granularity_allowed_check check (granularity in ('day', 'month')),
  premake      int  not null constraint partitioned_tables_premake_range_check check (premake between 1 and 90),   -- periods created ahead
  retention    interval not null,                               -- dropped when older
  -- a partition is kept past its TTL while it has rows matching this predicate
  keep_if      text,
  -- called with the partition's regclass right before it is dropped
  before_drop  regproc,
  append_only  boolean not null default false
);
comment on table ops.partitioned_tables is
  'Time-partitioned tables: granularity, partitions made ahead, retention (ops.rotate_partitions).';

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
create function ops.partition_start(p_granularity text, p_at timestamptz)
returns timestamptz
language sql stable set search_path = '' as $$
  select date_trunc(p_granularity, p_at, 'UTC')
$$;

create function ops.partition_step(p_granularity text)
returns interval
language sql immutable set search_path = '' as $$
  select case p_granularity when 'day' then interval '1 day' else interval '1 month' end
$$;

-- Creates the partition holding p_at (no-op when it exists); returns its name.
create function ops.ensure_partition(p_table regclass, p_at timestamptz)
returns text
language plpgsql set search_path = '' as $$
declare
  v_cfg   ops.partitioned_tables;
  v_from  timestamptz;
  v_to    timestamptz;
  v_name  text;
  v_base  text;
begin
  select * into v_cfg from ops.partitioned_tables where table_name = p_table;
  if not found then
    raise exception 'ops.ensure_partition: % is not registered in ops.partitioned_tables', p_table;
  end if;
  v_from := ops.partition_start(v_cfg.granularity, p_at);
  v_to   := v_from + ops.partition_step(v_cfg.granularity);
  select c.relname into v_base from pg_catalog.pg_class c where c.oid = p_table;
  v_name := v_base || '_p' || to_char(v_from at time zone 'UTC',
                                      case v_cfg.granularity when 'day' then 'YYYYMMDD' else 'YYYYMM' end);
  if to_regclass('app_partitions.' || quote_ident(v_name)) is not null then
    return v_name;
  end if;
  execute format('create table app_partitions.%I partition of %s for values from (%L) to (%L)',
                 v_name, p_table, v_from, v_to);
  -- No API role can reach app_partitions; RLS on (no policies) is a second lock.
  execute format('alter table app_partitions.%I enable row level security', v_name);
  if v_cfg.append_only then
    execute format('create trigger append_only_truncate before truncate on app_partitions.%I '
                   'for each statement execute function app_private.refuse_audit_change()', v_name);
  end if;
  return v_name;
end $$;

-- Upper bound of a partition, read from its bound expression.
create function ops.partition_upper_bound(p_partition regclass)
returns timestamptz
language sql stable set search_path = '' as $$
  select (regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
  from pg_catalog.pg_class c where c.oid = p_partition
$$;

-- Creates partitions from the current period through `premake` periods ahead, and drops
-- partitions whose upper bound is older than now - retention (unless keep_if matches rows).
-- p_now lets tests rotate "in the future".
create function ops.rotate_partitions(p_now timestamptz default now())
returns table (table_name text, partition_name text, action text)
language plpgsql set search_path = '' as $$
declare
  v_cfg  ops.partitioned_tables;
  v_part record;
  v_keep boolean;
  i      int;
begin
  for v_cfg in select * from ops.partitioned_tables pt order by pt.table_name::text loop
    for i in 0 .. v_cfg.premake loop
      partition_name := ops.ensure_partition(v_cfg.table_name,
                          p_now + ops.partition_step(v_cfg.granularity) * i);
      table_name := v_cfg.table_name::text;
      action := 'ensured';
      return next;
    end loop;

    for v_part in
      select inh.inhrelid::regclass as part, c.relname
      from pg_catalog.pg_inherits inh join pg_catalog.pg_class c on c.oid = inh.inhrelid
      where inh.inhparent = v_cfg.table_name
      order by c.relname
    loop
      continue when ops.partition_upper_bound(v_part.part) > p_now - v_cfg.retention;
      table_name := v_cfg.table_name::text;
      partition_name := v_part.relname;
      v_keep := false;
      if v_cfg.keep_if is not null then
        execute format('select exists (select 1 from %s where %s)', v_part.part, v_cfg.keep_if) into v_keep;
      end if;
      if v_keep then
        action := 'kept';
      else
        if v_cfg.before_drop is not null then
          execute format('select %s(%L::regclass)', v_cfg.before_drop, v_part.part);
        end if;
        execute format('drop table %s', v_part.part);
        action := 'dropped';
      end if;
      return next;
    end loop;
  end loop;
end $$;
comment on function ops.rotate_partitions(timestamptz) is
  'Creates partitions ahead and drops those past their retention (daily).';

-- Registers a partitioned table and creates its first partitions.
create function ops.register_partitioned(p_table regclass, p_granularity text, p_premake int,
                                         p_retention interval, p_keep_if text default null,
                                         p_before_drop regproc default null,
                                         p_append_only boolean default false)
returns void
language plpgsql set search_path = '' as $$
declare
  i int;
begin
  insert into ops.partitioned_tables (table_name, granularity, premake, retention, keep_if, before_drop, append_only)
  values (p_table, p_granularity, p_premake, p_retention, p_keep_if, p_before_drop, p_append_only)
  on conflict (table_name) do update set granularity = excluded.granularity, premake = excluded.premake,
    retention = excluded.retention, keep_if = excluded.keep_if, before_drop = excluded.before_drop,
    append_only = excluded.append_only;
  -- the previous period too, so rows stamped just before midnight UTC have a home
  for i in -1 .. p_premake loop
    perform ops.ensure_partition(p_table, now() + ops.partition_step(p_granularity) * i);
  end loop;
end $$;
comment on function ops.register_partitioned(regclass, text, int, interval, text, regproc, boolean) is
  'Registers a time-partitioned table and creates its first partitions.';
