-- Reversible actions (owner: platform; the pipeline writes these rows for every portal).
--
-- An action that declares `reverse` leaves one row per run, written in the action's own
-- transaction: who ran it, its input and result, and (for agents) the task key. A human
-- reverts it by its trace id (`npm run ops -- revert <trace> --as <principal>`, or the
-- console): the portal's reverse action runs and the row is marked reverted in the same
-- transaction. While a reverted row is not cleared, the agents do not redo that task key.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
insert into public.rail_errors (code, sqlstate, http_status, title, description) values
  ('already_reverted', 'SY031', 409, 'Already reverted', 'The action of this trace was reverted before; a revert runs once.'),
  ('not_reverted',     'SY032', 409, 'Not reverted',     'The action of this trace is not reverted, so there is nothing to clear.')
on conflict (code) do nothing;

-------------------------------------------------------------------------------------------
-- tables
-------------------------------------------------------------------------------------------
create table public.action_runs (
  trace_id        text primary key,
  tenant_id       uuid not null references public.tenants (id) on delete cascade,
  portal          text not null,
  action          text not null,
  task_key        text,                      -- the agent's task key (null for humans)
  principal_id    uuid not null references public.principals (id),
  input           jsonb not null,
  result          jsonb not null,
  created_at      timestamptz not null default now(),
  reverted_at     timestamptz,
  reverted_by     uuid references public.principals (id),
  revert_trace_id text,
  cleared_at      timestamptz,
  cleared_by      uuid references public.principals (id),
  constraint action_runs_trace_id_format_check check (trace_id ~ '^[0-9a-f]{32}$'),
  constraint action_runs_reverted_pair_check check ((reverted_at is null) = (reverted_by is null)),
  constraint action_runs_cleared_after_revert_check check (cleared_at is null or reverted_at is not null)
);
comment on table public.action_runs is
  'One row per run of a reversible action (trace id, input, result, agent task key) and its revert; written only by app_private.action_run_* in the action''s transaction.';
create index action_runs_blocked_idx on public.action_runs (tenant_id, portal, task_key)
  where reverted_at is not null and cleared_at is null;
-- Readers: the tenant's operational readers. Writes only through the functions below.
select ops.attach_rails('public.action_runs', 'domain.read', null, null, null);
select ops.set_rls_sample('public.action_runs',
  '{"trace_id": "$hex32", "tenant_id": "$tenant", "portal": "rates", "action": "escalate_quote", "principal_id": "a0000000-0000-4000-8000-000000000001", "input": {}, "result": {}}');

-------------------------------------------------------------------------------------------
-- functions
-------------------------------------------------------------------------------------------
-- Records a run of a reversible action, as the calling principal in the claims' tenant.
create function app_private.action_run_record(p_trace_id text, p_portal text, p_action text, p_task_key text,
                                              p_input jsonb, p_result jsonb)
returns void
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
begin
  perform app_private.require_rails_caller(v_tenant);
  insert into public.action_runs (trace_id, tenant_id, portal, action, task_key, principal_id, input, result)
  values (p_trace_id, v_tenant, p_portal, p_action, p_task_key, app_private.principal_id(), p_input, p_result);
end $$;
comment on function app_private.action_run_record(text, text, text, text, jsonb, jsonb) is
  'Records a run of a reversible action in the action''s own transaction (the pipeline calls it).';

-- Marks a run reverted by the calling human (once: a second revert raises already_reverted).
create function app_private.action_run_revert(p_trace_id text, p_revert_trace_id text)
returns public.action_runs
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_row    public.action_runs;
begin
  perform app_private.require_rails_caller(v_tenant);
  update public.action_runs set reverted_at = now(), reverted_by = app_private.principal_id(),
         revert_trace_id = p_revert_trace_id
   where trace_id = p_trace_id and tenant_id = v_tenant and reverted_at is null
  returning * into v_row;
  if v_row.trace_id is null then
    perform app_private.raise_error('already_reverted', format('the action of trace %s was already reverted', p_trace_id));
  end if;
  return v_row;
end $$;

comment on function app_private.action_run_revert(text, text) is
  'Marks a reversible run reverted by the calling principal, once (already_reverted after).';

-- A human clears a revert: the agents may take that task key up again.
create function app_private.action_run_clear(p_trace_id text)
returns public.action_runs
language plpgsql security definer set search_path = '' as $$
declare
  v_tenant uuid := app_private.claim_tenant();
  v_row    public.action_runs;
begin
  perform app_private.require_rails_caller(v_tenant);
  update public.action_runs set cleared_at = now(), cleared_by = app_private.principal_id()
   where trace_id = p_trace_id and tenant_id = v_tenant and reverted_at is not null and cleared_at is null
  returning * into v_row;
  if v_row.trace_id is null then
    perform app_private.raise_error('not_reverted', format('the action of trace %s is not reverted (or was cleared)', p_trace_id));
  end if;
  return v_row;
end $$;

comment on function app_private.action_run_clear(text) is
  'Clears a revert so the agents may take the task key up again (not_reverted otherwise).';

revoke all on function app_private.action_run_record(text, text, text, text, jsonb, jsonb) from public;
revoke all on function app_private.action_run_revert(text, text) from public;
revoke all on function app_private.action_run_clear(text) from public;
grant execute on function app_private.action_run_record(text, text, text, text, jsonb, jsonb) to authenticated;
grant execute on function app_private.action_run_revert(text, text) to authenticated;
grant execute on function app_private.action_run_clear(text) to authenticated;
