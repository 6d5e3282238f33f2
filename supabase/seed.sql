-- Seed: runs on every `up` (idempotent). The charter's switchboard values (charter §3) and a
-- demo tenant with demo users of different roles.
--
-- Every statement inserts only what is missing (`on conflict ... do nothing`): the stack
-- re-runs this file on every `up`, and a restart must never undo an operator's decision (a
-- STOP, agents off, a lowered budget). The charter's own fragment, which resets these rows
-- with `on conflict do update`, is kept verbatim in docs/charter-switchboard.md for an
-- operator who means to reset them (tests/unit/seeds.test.ts holds seeds to this rule).

-- Charter §3: global mode & kill switch (the charter's values, inserted if missing)
insert into feature_flags_v2(key,scope,value,reason,owner_name) values
('autonomy.emergencyStop','global',false,'enable autonomy','system'),
('autonomy.mode','global','FULL','full authority mode','system'),
('agents.autonomousEnabled','global',true,'run agents','system'),
('obs.otelEnabled','global',true,'tracing on','system')
on conflict (key,scope) do nothing;

-- Charter §3: budgets / safety rails (the charter's values, inserted if missing)
insert into feature_flags_v2(key,scope,value,reason,owner_name) values
('budget.agents.maxConcurrent','global',150,'concurrency cap','autopilot'),
('budget.replay.maxBatch','global',50,'dlq cap','dlq'),
('budget.replay.maxPayloadMB','global',2,'payload cap','dlq'),
('rate.replay.per5m','global',3,'rate limit','dlq')
on conflict (key,scope) do nothing;

-- Demo tenant (fixed id) ------------------------------------------------------------------
insert into public.tenants (id, slug, name) values
  ('d0000000-0000-4000-8000-000000000001', 'demo-freight', 'Demo Freight Co')
on conflict (id) do nothing;

-- Demo humans: one per role (the JWT `sub` of a demo login is the id below).
insert into public.principals (id, kind, name, display_name) values
  ('e0000000-0000-4000-8000-000000000001', 'human', 'super@switchyard.test',       'Sam Super (super_admin)'),
  ('e0000000-0000-4000-8000-000000000002', 'human', 'admin@demo-freight.test',     'Ada Admin (tenant_admin)'),
  ('e0000000-0000-4000-8000-000000000003', 'human', 'ops@demo-freight.test',       'Otto Ops (ops_manager)'),
  ('e0000000-0000-4000-8000-000000000004', 'human', 'dispatch@demo-freight.test',  'Dee Dispatch (dispatcher)'),
  ('e0000000-0000-4000-8000-000000000005', 'human', 'finance@demo-freight.test',   'Fin Finance (finance_manager)'),
  ('e0000000-0000-4000-8000-000000000006', 'human', 'analyst@demo-freight.test',   'Ana Analyst (analyst)'),
  ('e0000000-0000-4000-8000-000000000007', 'human', 'dev@demo-freight.test',       'Dev Developer (developer)'),
  ('e0000000-0000-4000-8000-000000000008', 'human', 'viewer@demo-freight.test',    'Vi Viewer (viewer)')
on conflict (id) do nothing;

insert into public.role_assignments (principal_id, role, tenant_id) values
  ('e0000000-0000-4000-8000-000000000001', 'super_admin',     null),
  ('e0000000-0000-4000-8000-000000000002', 'tenant_admin',    'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000003', 'ops_manager',     'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000004', 'dispatcher',      'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000005', 'finance_manager', 'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000006', 'analyst',         'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000007', 'developer',       'd0000000-0000-4000-8000-000000000001'),
  ('e0000000-0000-4000-8000-000000000008', 'viewer',          'd0000000-0000-4000-8000-000000000001')
on conflict on constraint role_assignments_unique do nothing;
