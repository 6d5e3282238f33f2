-- The function sweep (issue 11, item 4 and its class): every function `anon` or
-- `authenticated` may execute, in ANY schema the role can use, is enumerated from pg_proc.
-- Each one is either
--   * in pg_temp.tenant_fns (it takes a tenant): as a viewer of tenant A, the call naming
--     tenant B is refused, and so is NULL (unless NULL is documented to mean the caller's
--     own claim tenant, or the platform values every principal may read); a positive
--     control shows the same call answers for a principal entitled in tenant A, so the
--     refusal is the tenant check and not a broken call; or
--   * in pg_temp.allowlist with why it is safe to expose (it takes no tenant and derives
--     everything from the caller's claims, or is pure).
-- A new executable function that is in neither table fails the sweep: cover it, or do not
-- grant it. Then the specific holes of item 4 (subject parameters, forged principals,
-- invite across tenants, PUBLIC EXECUTE on ops / app_private).
-- (tests.act_as / tests.act_as_owner: supabase/tests/_helpers.sql)
begin;
-- pg_temp.try below is called as authenticated: this transaction's own functions are
-- executable (rolled back with it).
alter default privileges grant execute on functions to public;

insert into public.tenants (id, slug, name) values ('b0000000-0000-4000-8000-00000000000b', 'other-co', 'Other Co');
insert into public.principals (id, kind, name, display_name) values
  ('f0000000-0000-4000-8000-0000000000b2', 'human', 'lead@other-co.test', 'Lead of Other Co');
insert into public.role_assignments (principal_id, role, tenant_id) values
  ('f0000000-0000-4000-8000-0000000000b2', 'dispatcher', 'b0000000-0000-4000-8000-00000000000b');

-- Every function anon or authenticated can execute: schema USAGE and EXECUTE, outside the
-- catalogs, not an extension's own (pgcrypto, pg_cron: their owners' grants).
create temp view exposed as
  select p.oid, n.nspname || '.' || p.proname || '(' || replace(oidvectortypes(p.proargtypes), ', ', ',') || ')' as sig,
         has_function_privilege('anon', p.oid, 'execute') and has_schema_privilege('anon', n.oid, 'usage') as anon,
         exists (select 1 from unnest(p.proargnames, p.proargmodes::text[]) a(name, mode)
                 where a.name ~ 'tenant' and coalesce(a.mode, 'i') in ('i', 'b', 'v')) as takes_tenant  -- an input naming a tenant
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast_)?temp_'
    and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
    and exists (select 1 from unnest(array['anon', 'authenticated']) r(role)
                where has_schema_privilege(r.role, n.oid, 'usage') and has_function_privilege(r.role, p.oid, 'execute'));
grant select on exposed to public;

-- Functions that take a tenant. call: the statement, %1$L the tenant; kind: 'raises' (a
-- refusal must raise) or 'empty' (RLS / a boolean check: nothing, false, 0 is a refusal);
-- control: a principal of tenant A for whom the call with A answers; on_null: 'refuse',
-- 'claim' (NULL means the claim tenant: refused when the caller has no tenant claim) or
-- 'platform' (NULL reads the platform's values, readable by every enabled principal).
create temp table tenant_fns (sig text primary key, call text, kind text, control text, on_null text, why text);
insert into tenant_fns values
  ('app_private.slo_left_out(uuid,timestamp with time zone)',
   $$select app_private.slo_left_out(%1$L, now())$$, 'empty', null, 'refuse',
   'security invoker: RLS of quarantines (metrics.read in the tenant); another tenant''s quarantine reads as none (no control: it needs a quarantined tenant)'),
  ('app_private.audit_event(text,text,text,jsonb,jsonb,text,uuid)',
   $$select app_private.audit_event('sweep.test', 'sweep', '1', null, null, null, %1$L)$$, 'raises',
   'dispatch@demo-freight.test', 'claim', 'audit.write in the tenant; NULL is the claim tenant'),
  ('app_private.check_rails(text,uuid,text)',
   $$select app_private.check_rails('domain', %1$L, null)$$, 'raises', 'viewer@demo-freight.test', 'platform',
   'another tenant needs rails.use there; NULL: the claim tenant, else global flags only'),
  ('app_private.cost_charge(uuid,numeric,text,text)',
   $$select * from app_private.cost_charge(%1$L, 0, 'sweep', 'sweep-1')$$, 'raises', 'agents', 'refuse',
   'cost.charge in the tenant; NULL is bad_request'),
  ('app_private.feed_publish(uuid,jsonb)',
   $$select app_private.feed_publish(%1$L, '[{"trace_id": "0af7651916cd43dd8448eb211c80319c", "portal": "rates", "action": "price_one", "phase": "start", "principal": "autopilot"}]')$$,
   'raises', 'agents', 'refuse', 'telemetry.write in the tenant (machines; the edge publishes on its own session)'),
  ('app_private.idempotency_abandon(text,uuid)',
   $$select app_private.idempotency_abandon('sweep-key', %1$L)$$, 'raises', 'viewer@demo-freight.test', 'claim',
   'rails.use in the tenant; NULL is the claim tenant'),
  ('app_private.idempotency_begin(text,text,uuid,integer)',
   $$select * from app_private.idempotency_begin('sweep-key', 'fp', %1$L)$$, 'raises', 'viewer@demo-freight.test', 'claim',
   'rails.use in the tenant; NULL is the claim tenant'),
  ('app_private.idempotency_complete(text,integer,jsonb,uuid)',
   $$select app_private.idempotency_complete('sweep-key', 200, '{}', %1$L)$$, 'raises', null, 'claim',
   'only the caller''s own in-flight keys in the tenant (no control: it needs a begun key)'),
  ('app_private.invite_member(uuid,text,text,text)',
   $$select app_private.invite_member(%1$L, 'sweep@demo-freight.test', 'viewer')$$, 'raises', 'admin@demo-freight.test', 'refuse',
   'members.manage in the tenant; NULL is refused'),
  ('app_private.lease_acquire(text,integer,text,uuid)',
   $$select * from app_private.lease_acquire('sweep', 60, 'agents', %1$L)$$, 'raises', 'agents', 'claim',
   'leases.acquire in the tenant; NULL is the claim tenant'),
  ('app_private.outbox_publish(text,text,text,jsonb,jsonb,uuid)',
   $$select app_private.outbox_publish('sweep', '1', 'sweep.tested', '{}', '{}', %1$L)$$, 'raises', 'dispatch@demo-freight.test', 'claim',
   'an insert under RLS (outbox.publish in the tenant); NULL is the claim tenant'),
  ('app_private.rails_state(uuid,text)',
   $$select * from app_private.rails_state(%1$L, 'rates')$$, 'raises', 'viewer@demo-freight.test', 'platform',
   'flags.read in the tenant; NULL reads the global flags'),
  ('app_private.raise_alert(uuid,text,text,text,text,jsonb,text)',
   $$select app_private.raise_alert(%1$L, 'sweep', 'info', 'sweep', 'sweep alert')$$, 'raises', 'agents', 'refuse',
   'telemetry.write in the tenant; a platform alert (NULL) needs a global grant'),
  ('app_private.record_request(text,text,uuid,numeric,boolean,timestamp with time zone)',
   $$select app_private.record_request('sweep', 'rates', %1$L, 10, true)$$, 'raises', 'agents', 'refuse',
   'telemetry.write in the tenant; platform rows (NULL) need a global grant'),
  ('app_private.record_span(text,text,text,text,timestamp with time zone,numeric,text,jsonb,uuid,text,text,text,text)',
   $$select app_private.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', null, 'sweep', now(), 1, 'error', '{}', %1$L)$$,
   'raises', 'agents', 'refuse', 'telemetry.write in the tenant; platform spans (NULL) need a global grant'),
  ('app_private.replay_request(uuid,uuid[],boolean,inet)',
   $$select * from app_private.replay_request(%1$L, '{}'::uuid[], true)$$, 'raises', null, 'refuse',
   'dlq.replay.request in the tenant (no control: an empty selection is bad_request)'),
  ('app_private.replay_selection(uuid)',
   $$select count(*) from app_private.replay_selection(%1$L)$$, 'empty', 'ops@demo-freight.test', 'refuse',
   'only with dlq.read in the tenant'),
  ('app_private.has_permission(uuid,text)',
   $$select app_private.has_permission(%1$L, 'domain.read')$$, 'empty', 'viewer@demo-freight.test', 'refuse',
   'THE check: false for another tenant and (without a global grant) for NULL'),
  ('app_private.require_permission(uuid,text)',
   $$select app_private.require_permission(%1$L, 'domain.read')$$, 'raises', 'viewer@demo-freight.test', 'refuse',
   'THE check, raising'),
  ('app_private.require_rails_caller(uuid)',
   $$select app_private.require_rails_caller(%1$L)$$, 'raises', 'viewer@demo-freight.test', 'refuse',
   'rails.use in the tenant; NULL (platform rails) needs a global grant'),
  ('public.flag_value(text,uuid,text)',
   $$select public.flag_value('portal.enabled', %1$L, 'rates')$$, 'raises', 'viewer@demo-freight.test', 'platform',
   'flags.read in the tenant; NULL reads the global value'),
  ('public.flags_effective(uuid,text)',
   $$select count(*) from public.flags_effective(%1$L, 'rates')$$, 'raises', 'viewer@demo-freight.test', 'platform',
   'flags.read in the tenant; NULL reads the global values'),
  ('public.rates_evidence(uuid,text,text,text,text,text,date)',
   $$select jsonb_array_length(e->'history_zip3') + jsonb_array_length(e->'history_region') + jsonb_array_length(e->'index_zip3')
        + jsonb_array_length(e->'index_region') + jsonb_array_length(e->'contracts') + jsonb_array_length(e->'guards')
      from public.rates_evidence(%1$L, 'van', '606', '752', null, null, current_date) e$$, 'raises', 'ops@demo-freight.test', 'refuse',
   'rates.quote in the tenant (security definer: shipper users quote without reading the evidence tables); NULL is refused');
insert into tenant_fns values
  ('app_private.freight_ledger_post(uuid,text,jsonb,text,text,uuid,text)',
   $$select app_private.freight_ledger_post(%1$L, 'USD', '[{"account": "1000", "amount_cents": 100}, {"account": "2000", "amount_cents": -100}]')$$,
   'raises', 'finance@demo-freight.test', 'refuse', 'finance.write in the tenant; NULL is bad_request');
insert into tenant_fns values
  ('app_private.financials_payout_run(uuid,text,uuid[])',
   $$select app_private.financials_payout_run(%1$L, 'sweep-run')$$,
   'raises', 'finance@demo-freight.test', 'refuse', 'finance.write in the tenant; NULL is bad_request');
insert into tenant_fns values
  ('public.freight_carrier_scorecard(uuid)',
   $$select count(*) from public.freight_carrier_scorecard(%1$L)$$, 'empty', 'ops@demo-freight.test', 'refuse',
   'security invoker: RLS answers only the caller''s tenants (and a carrier user its own party)');
-- Workers portal (supabase/migrations/*_workers_portal.sql)
insert into tenant_fns values
  ('app_private.workers_enqueue(uuid,text,text,text,text,integer,text)',
   $$select app_private.workers_enqueue(%1$L, 'sweep', 'sweep', null, 'sweep')$$, 'raises', null, 'refuse',
   'workers.enqueue in the tenant; NULL is bad_request (no control: it needs a queue of the tenant)'),
  ('app_private.workers_rebalance(uuid)',
   $$select app_private.workers_rebalance(%1$L)$$, 'raises', 'ops@demo-freight.test', 'refuse',
   'workers.balance in the tenant; NULL is bad_request'),
  ('app_private.workers_shift_add(uuid,uuid,timestamp with time zone,timestamp with time zone)',
   $$select app_private.workers_shift_add(%1$L, gen_random_uuid(), now(), now() + interval '1 hour')$$, 'raises', null, 'refuse',
   'workers.schedule in the tenant; NULL is bad_request (no control: it needs a worker on the roster)'),
  ('app_private.workers_coverage_gaps(uuid,timestamp with time zone,timestamp with time zone)',
   $$select count(*) from app_private.workers_coverage_gaps(%1$L, now(), now() + interval '1 day')$$, 'raises', 'ops@demo-freight.test', 'refuse',
   'workers.read in the tenant; NULL is bad_request');
insert into tenant_fns values
  -- the admin portal (20261202150000_admin_portal.sql): members.manage / tenant.manage / integrations.manage in the tenant
  ('app_private.admin_invite(uuid,text,text[],interval)',
   $$select token from app_private.admin_invite(%1$L, 'sweep-invite@demo-freight.test', '{viewer}')$$, 'raises', 'admin@demo-freight.test', 'refuse',
   'members.manage in the tenant (and aal2); NULL is refused'),
  ('app_private.admin_set_roles(uuid,uuid,text[])',
   $$select app_private.admin_set_roles(%1$L, 'e0000000-0000-4000-8000-000000000008', '{viewer}')$$, 'raises', 'admin@demo-freight.test', 'refuse',
   'members.manage in the tenant (and aal2, not oneself); NULL is refused'),
  ('app_private.admin_deactivate(uuid,uuid,text)',
   $$select app_private.admin_deactivate(%1$L, 'e0000000-0000-4000-8000-000000000008', 'sweep')$$, 'raises', null, 'refuse',
   'members.manage in the tenant (no control: it would deactivate the sweep''s viewer)'),
  ('app_private.admin_reactivate(uuid,uuid)',
   $$select app_private.admin_reactivate(%1$L, 'e0000000-0000-4000-8000-000000000008')$$, 'raises', null, 'refuse',
   'members.manage in the tenant (no control: it needs a deactivated member)'),
  ('app_private.admin_branding_set(uuid,text,text,text,text)',
   $$select app_private.admin_branding_set(%1$L, 'Sweep', 'https://cdn.example.com/l.png', '#000000', null)$$, 'raises', 'admin@demo-freight.test', 'refuse',
   'tenant.manage in the tenant; NULL is refused'),
  ('app_private.admin_sso_set(uuid,boolean,jsonb)',
   $$select app_private.admin_sso_set(%1$L, false, null)$$, 'raises', 'admin@demo-freight.test', 'refuse',
   'tenant.manage in the tenant (and aal2); NULL is refused'),
  ('app_private.admin_secret_put(uuid,text,text,interval)',
   $$select app_private.admin_secret_put(%1$L, 'sweep.key', 'sweep-secret-value')$$, 'raises', 'admin@demo-freight.test', 'refuse',
   'integrations.manage in the tenant; NULL is refused'),
  ('app_private.flag_effective(text,uuid,text)',
   $$select value from app_private.flag_effective('portal.enabled', %1$L, 'rates')$$, 'raises', 'viewer@demo-freight.test', 'platform',
   'flags.read in the tenant; NULL reads the global value');

-- Functions without a tenant parameter, and why API roles may run them.
create temp table allowlist (sig text primary key, why text);
insert into allowlist values
  ('public.dr_replication_status()', 'platform replication lag: needs a global metrics.read (require_permission), takes no tenant'),
  ('app_private.stream_ticket_issue()', 'a Live Feed ticket for the caller''s own principal in the claim tenant, with domain.read there'),
  ('app_private.alert_notified(uuid)', 'marks an alert sent: needs a global telemetry.write (the autopilot), under the rails'),
  ('app_private.record_run(text,timestamp with time zone,numeric,boolean,jsonb)', 'records a scheduled run: needs a global telemetry.write (the autopilot)'),
  ('app_private.rehearse_key_rotations()', 'the monthly rehearsal: needs a global keys.rehearse, control rails'),
  ('app_private.action_begin(text,text,text,text,text,timestamp with time zone,text)', 'the pipeline''s rails: tenant from the claims, the permission checked there'),
  ('app_private.action_run_clear(text)', 'by trace, in the claim tenant, with rails.use there (the pipeline''s revert)'),
  ('app_private.edi_receive(jsonb)', 'EDI inbound: in the claim tenant only, with edi.receive there (the partner looked up in that tenant)'),
  ('app_private.edi_control_next(uuid,integer)', 'EDI counters: the partner must be of the claim tenant (edi_partner_unknown otherwise), edi.receive there'),
  ('app_private.edi_outbound_record(uuid,jsonb)', 'EDI outbound: the partner must be of the claim tenant (edi_partner_unknown otherwise), edi.receive there'),
  ('app_private.edi_mailbox_take(uuid,integer)', 'EDI mailbox: the partner must be of the claim tenant (edi_partner_unknown otherwise), edi.receive there'),
  ('app_private.action_run_record(text,text,text,text,jsonb,jsonb)', 'records in the claim tenant (the pipeline, in the action''s transaction)'),
  ('app_private.action_run_revert(text,text)', 'by trace, in the claim tenant, with rails.use there (the pipeline''s revert)'),
  ('app_private.actor()', 'the caller''s own identity'),
  ('app_private.audit_verify(uuid)', 'a chain is verified only with audit.read in its tenant'),
  ('app_private.claim(text)', 'reads the caller''s own claims'),
  ('app_private.concurrency_state_save(text,numeric,numeric,numeric,numeric,integer)', 'the autopilot''s Gradient2 state: needs a global flags.concurrency.write'),
  ('app_private.detector_outcome(text,text)', 'a detector run in the claim tenant, with quarantine.open there (agents@)'),
  ('app_private.quarantine_open(text,text,text,jsonb)', 'quarantines the claim tenant or its detector, with quarantine.open there (autopilot@)'),
  ('app_private.quarantine_parked(uuid)', 'a count, only with outbox.read in the quarantine''s tenant (null otherwise)'),
  ('app_private.quarantine_release(uuid,text)', 'humans with quarantine.release in the quarantine''s tenant'),
  ('app_private.claim_portal()', 'reads the caller''s own claims'),
  ('app_private.claim_tenant()', 'reads the caller''s own claims'),
  ('app_private.current_principal()', 'the caller''s own identity'),
  ('app_private.event_matches(text[],text)', 'pure'),
  ('app_private.flag_typed(text,text)', 'pure'),
  ('app_private.flag_write_permission(text)', 'flag definition metadata (used by the policies)'),
  ('app_private.is_trusted_session()', 'reads the caller''s own session'),
  ('app_private.lease_release(uuid)', 'only the caller''s own leases'),
  ('app_private.lease_renew(uuid,integer)', 'only the caller''s own leases'),
  ('app_private.outbox_ack(uuid,boolean,text,jsonb,integer)', 'the relay: outbox.deliver in the event''s tenant'),
  ('app_private.outbox_ack_batch(jsonb)', 'the relay: outbox.deliver in each event''s tenant'),
  ('app_private.outbox_claim(integer,integer)', 'the relay: claims only events of tenants where the caller holds outbox.deliver'),
  ('app_private.outbox_extend(uuid,integer)', 'the relay: extends its own claim (a random token), in tenants where it holds outbox.deliver'),
  ('app_private.permission_grants(text)', 'the caller''s own grants'),
  ('app_private.permitted_tenants(text)', 'the caller''s own grants'),
  ('app_private.principal_id()', 'the caller''s own identity'),
  ('app_private.raise_error(text,text,jsonb)', 'raises a catalogued error; touches nothing'),
  ('app_private.redact_pii(jsonb)', 'pure'),
  ('app_private.redact_text(text)', 'pure'),
  ('app_private.replay_decide(uuid,boolean,text)', 'dlq.replay.approve in the request''s tenant, not the requester'),
  ('app_private.replay_progress(uuid)', 'dlq.read (or the relay''s outbox.deliver) in the request''s tenant'),
  ('app_private.request_context()', 'the caller''s own request headers'),
  ('public.slo_summary(interval,text,text)', 'security invoker: RLS of request_metrics'),
  ('auth.jwt()', 'Supabase baseline: the caller''s own claims'),
  ('auth.role()', 'Supabase baseline: the caller''s own claims'),
  ('auth.uid()', 'Supabase baseline: the caller''s own claims'),
  ('app_private.freight_transition_check(text,uuid,text,text)', 'pure: checks a pair against the transition table (the status guard runs it as the writer)'),
  ('app_private.party_ids(text)', 'the caller''s own party memberships in the claim tenant (what the party policies compare with)'),
  -- the freight functions take an entity, never a tenant: the tenant is the entity's, and
  -- freight_tenant_of checks the permission there (another tenant's row is freight_not_found;
  -- supabase/tests/freight/ proves it for each)
  ('app_private.freight_document_record(jsonb)', 'the load''s (or party''s) tenant, freight.document.upload there, outside users their own loads only'),
  ('app_private.freight_ledger_reverse(uuid,text)', 'the entry''s tenant, finance.write there'),
  ('app_private.freight_load_cover(uuid,uuid,bigint,text,uuid,text)', 'the load''s tenant, freight.tender.offer there'),
  ('app_private.freight_load_dispatch(uuid,uuid,uuid,uuid)', 'the load''s tenant, freight.dispatch there, the covering carrier only'),
  ('app_private.freight_load_event_record(uuid,jsonb)', 'the load''s tenant, freight.event.record there, its carrier or driver only'),
  ('app_private.freight_load_exception(uuid,boolean,text)', 'the load''s tenant, freight.event.record there, its carrier or driver only'),
  ('app_private.freight_load_transition(uuid,text,text,text)', 'the load''s tenant, freight.load.transition there'),
  ('app_private.freight_order_book(jsonb)', 'the shipper party''s tenant, freight.order.book there, a shipper user for its own party only'),
  ('app_private.freight_party_block_clear(uuid,text)', 'the block''s tenant, freight.block.manage there'),
  ('app_private.freight_party_block_set(uuid,text,text)', 'the party''s tenant, freight.block.manage there'),
  ('app_private.freight_tender_accept(uuid,text)', 'the tender''s tenant, freight.tender.respond there, the tendered carrier only'),
  ('app_private.freight_tender_cancel(uuid,text)', 'the tender''s tenant, freight.tender.offer there'),
  ('app_private.freight_tender_counter(uuid,bigint,text)', 'the tender''s tenant, freight.tender.respond there, the tendered carrier only'),
  ('app_private.freight_tender_decline(uuid,text)', 'the tender''s tenant, freight.tender.respond there, the tendered carrier only'),
  ('app_private.freight_tender_expire(uuid)', 'the tender''s tenant, freight.tender.offer there'),
  ('app_private.freight_tender_offer(uuid,uuid,bigint,timestamp with time zone,text)', 'the load''s tenant, freight.tender.offer there'),
  ('app_private.broker_load_cancel(uuid,text,bigint,bigint)', 'the load''s tenant, freight.load.transition there'),
  ('app_private.broker_load_route(uuid,jsonb)', 'the load''s tenant, broker.route there'),
  ('app_private.broker_message_retract(uuid)', 'the message''s tenant, broker.message there'),
  ('app_private.broker_message_send(uuid,text[],text,text)', 'the load''s tenant, broker.message there'),
  ('app_private.broker_next_carrier(uuid)', 'the load''s tenant, freight.tender.offer there'),
  ('app_private.broker_retender(uuid,uuid,bigint,timestamp with time zone)', 'the tender''s tenant, freight.tender.offer there'),
  ('app_private.carrier_capacity_set(uuid,text,text,text,date,integer)', 'the carrier''s tenant, carrier.capacity.write there, a carrier user its own party only'),
  ('app_private.carrier_insurance_submit(uuid,jsonb)', 'the carrier''s tenant, carrier.compliance.write there, a carrier user its own party only'),
  ('app_private.owner_operator_fuel_advance(uuid,bigint,text)', 'the owner operator''s tenant, owner_operator.settle there'),
  ('app_private.owner_operator_miles_record(uuid,integer,integer)', 'the load''s tenant, owner_operator.maintenance.write there, a carrier user its own loads only'),
  ('app_private.owner_operator_odometer_set(uuid,bigint)', 'the unit''s tenant, owner_operator.maintenance.write there, a carrier user its own units only'),
  ('app_private.owner_operator_service_interval_set(uuid,text,integer,integer)', 'the unit''s tenant, owner_operator.maintenance.write there, a carrier user its own units only'),
  ('app_private.owner_operator_service_record(uuid,jsonb)', 'the unit''s tenant, owner_operator.maintenance.write there, a carrier user its own units only'),
  ('app_private.owner_operator_settlement_create(uuid,uuid[],jsonb)', 'the owner operator''s tenant, owner_operator.settle there'),
  ('app_private.owner_operator_settlement_document(uuid,uuid)', 'the settlement''s tenant, owner_operator.settle there'),
  ('app_private.owner_operator_unit_block(uuid,text)', 'the unit''s tenant, owner_operator.unit.block there'),
  ('app_private.owner_operator_unit_unblock(uuid,text)', 'the block''s tenant, owner_operator.unit.block there'),
  ('app_private.workers_item_close(uuid,text,text)', 'the item''s tenant (another tenant''s is freight_not_found), workers.work for its assignee, else workers.balance'),
  ('app_private.workers_shift_end(uuid)', 'the shift''s tenant (another tenant''s is freight_not_found), workers.schedule there unless it is the caller''s own shift'),
  ('app_private.driver_changes_since(bigint,integer)', 'the request''s tenant, freight.driver.read there, the calling driver''s own feed only (driver_not_linked otherwise)'),
  ('app_private.driver_sync(text,jsonb)', 'the request''s tenant, driver.sync there, the calling driver''s own stops only (per event driver_stop_not_assigned)'),
  ('app_private.load_board_bid_accept(uuid)', 'the bid''s tenant, load_board.award there'),
  ('app_private.load_board_bid_expire(uuid)', 'the bid''s tenant, load_board.award there'),
  ('app_private.load_board_bid_place(uuid,bigint,text,uuid)', 'the post''s tenant, load_board.bid there, a carrier user for its own company only'),
  ('app_private.load_board_bid_reopen(uuid)', 'the bid''s tenant, load_board.award there'),
  ('app_private.load_board_bid_withdraw(uuid)', 'the bid''s tenant, load_board.bid there, its carrier only'),
  ('app_private.load_board_lane_key(text,text,text,text)', 'pure (the anti-duplicate index evaluates it on the API roles'' inserts)'),
  ('app_private.load_board_post_create(uuid,jsonb)', 'the load''s tenant, load_board.post there'),
  ('app_private.load_board_post_merge(uuid,uuid)', 'the posts'' tenant, load_board.post there'),
  ('app_private.load_board_post_unmerge(uuid)', 'the post''s tenant, load_board.post there'),
  ('app_private.load_board_post_update(uuid,jsonb)', 'the post''s tenant, load_board.post there'),
  ('app_private.load_board_post_withdraw(uuid,text)', 'the post''s tenant, load_board.post there'),
  ('app_private.financials_invoice_release(uuid,jsonb,integer)', 'the load''s tenant, finance.write there'),
  ('app_private.financials_credit_memo(uuid,jsonb,text)', 'the invoice''s tenant, finance.write there'),
  ('app_private.financials_payment_apply(uuid,jsonb,text,text)', 'the invoice''s tenant, finance.write there'),
  ('app_private.financials_bill_receive(uuid,text,jsonb)', 'the load''s tenant, finance.write there'),
  ('app_private.financials_bill_approve(uuid,text)', 'the bill''s tenant, finance.write there'),
  ('app_private.financials_bill_unapprove(uuid)', 'the bill''s tenant, finance.write there'),
  ('app_private.financials_pay_bill(uuid,uuid,uuid)', 'the bill''s tenant, finance.write there; the payee checked by the payouts trigger'),
  ('app_private.factoring_noa_record(uuid,uuid,date,uuid)', 'the carrier''s tenant, finance.write there; the factor of the same tenant'),
  ('app_private.factoring_noa_release(uuid,text)', 'the NOA''s tenant, finance.write there'),
  ('app_private.rates_quote_record(uuid,uuid,jsonb,jsonb,timestamp with time zone,text)', 'the request''s own tenant (claim), rates.quote there; the event is built from the quote'),
  ('app_private.shipper_order_book(uuid,jsonb)', 'the quote''s tenant, freight.order.book there, a shipper user its own quotes only'),
  ('app_private.site_tenant()', 'the website''s tenant id (public: the site serves its pages)'),
  ('app_private.site_form_take(text)', 'the claim tenant''s own rate limit (rails caller), a fixed bucket and allowance'),
  ('public.site_publish(text,text,text,jsonb,text)', 'the claim tenant, site.publish there'),
  ('public.site_rollback(text,integer,text)', 'the claim tenant, site.publish there'),
  ('public.site_record_audit(text,integer,integer,jsonb)', 'the claim tenant, domain.write there'),
  ('public.crm_convert_lead(uuid,bigint)', 'the claim tenant''s lead, domain.write there'),
  ('public.crm_opportunity_set_stage(uuid,text)', 'the claim tenant''s opportunity, domain.write there'),
  ('app_private.crm_stale_lead_tasks(interval)', 'the claim tenant''s leads, domain.write there'),
  ('public.admin_accept_invite(text)', 'the invite token names the tenant; only the invited principal accepts it, once, before expiry'),
  ('tests.act_as(text,uuid,jsonb)', 'pgTAP helpers: test databases only'),
  ('tests.act_as_owner()', 'pgTAP helpers: test databases only');
-- Directory and Super Admin (issue 17)
insert into allowlist values
  ('app_private.directory_sanctions_load(jsonb)', 'the claim tenant, directory.manage there'),
  ('app_private.directory_party_create(jsonb)', 'the claim tenant, directory.manage there'),
  ('app_private.directory_census_apply(jsonb,text)', 'the claim tenant, directory.safety.import there'),
  ('app_private.directory_screening_record(uuid,uuid,jsonb)', 'the party''s tenant (freight_tenant_of), directory.manage there; the list must be that tenant''s'),
  ('app_private.directory_kyc_upsert(uuid,jsonb)', 'the party''s tenant (freight_tenant_of), directory.kyc.write there'),
  ('app_private.super_admin_tenant_provision(jsonb)', 'creates a tenant: a global platform.tenants.manage (super_admin)');
insert into tenant_fns values
  ('app_private.super_admin_tenant_suspend(uuid,boolean,text)',
   $$select app_private.super_admin_tenant_suspend(%1$L, false, 'sweep')$$, 'raises', null, 'refuse',
   'a global platform.tenants.manage (super_admin only: no tenant principal is a control)'),
  ('app_private.super_admin_tenant_export(uuid)',
   $$select app_private.super_admin_tenant_export(%1$L)->>'sha256'$$, 'raises', null, 'refuse',
   'a global platform.tenants.manage (super_admin only: no tenant principal is a control)'),
  ('app_private.super_admin_tenant_delete(uuid)',
   $$select app_private.super_admin_tenant_delete(%1$L)$$, 'raises', null, 'refuse',
   'a global platform.tenants.manage (super_admin only: no tenant principal is a control)');
grant select on tenant_fns, allowlist to public;

-- Runs a statement as the current role; 'ok:<first value>' or the SQLSTATE it raised.
create function pg_temp.try(p_sql text) returns text language plpgsql as $$
declare
  v text;
begin
  execute p_sql into v;
  return 'ok:' || coalesce(v, '');
exception when others then
  return sqlstate;
end $$;
-- A refusal: a permission / principal / missing-argument error, or (kind empty) no answer.
create function pg_temp.refused(p_outcome text, p_kind text, p_null boolean) returns boolean language sql as $$
  select p_outcome in ('SY021', 'SY022', '42501')
      or (p_null and p_outcome in ('SY017', 'SY014'))
      or (p_kind = 'empty' and p_outcome in ('ok:', 'ok:0', 'ok:false'))
$$;

create temp table results (sig text, case_name text, outcome text, ok boolean);
grant all on results to public;

-- Runs every tenant function's cases (each in its own subtransaction: pg_temp.try).
create function pg_temp.sweep() returns void language plpgsql as $$
declare
  f record;
  o text;
begin
  for f in select t.* from tenant_fns t join exposed e using (sig) order by sig loop
    -- the positive control: the call answers for tenant A
    if f.control is not null then
      perform tests.act_as(f.control);
      o := pg_temp.try(format(f.call, 'd0000000-0000-4000-8000-000000000001'));
      insert into results values (f.sig, 'control (' || f.control || ', own tenant)', o, o like 'ok:%');
    end if;
    -- a viewer of A naming B
    perform tests.act_as('viewer@demo-freight.test');
    o := pg_temp.try(format(f.call, 'b0000000-0000-4000-8000-00000000000b'));
    insert into results values (f.sig, 'viewer of A names tenant B', o, pg_temp.refused(o, f.kind, false));
    -- NULL
    if f.on_null = 'refuse' then
      o := pg_temp.try(format(f.call, null));
      insert into results values (f.sig, 'viewer of A names NULL', o, pg_temp.refused(o, f.kind, true));
    elsif f.on_null = 'claim' then
      perform tests.act_as('viewer@demo-freight.test', null);
      o := pg_temp.try(format(f.call, null));
      insert into results values (f.sig, 'viewer without a tenant claim names NULL', o, pg_temp.refused(o, f.kind, true));
    end if;
    perform tests.act_as_owner();
  end loop;
end $$;

select plan(11);

select is(array(select e.sig from exposed e
                where not exists (select 1 from tenant_fns t where t.sig = e.sig)
                  and not exists (select 1 from allowlist a where a.sig = e.sig) order by 1),
  '{}'::text[], 'every function anon or authenticated may execute is swept or allowlisted with a reason');
select is(array(select e.sig from exposed e join allowlist a using (sig) where e.takes_tenant and e.sig not like 'tests.%' order by 1),
  '{}'::text[], 'no function taking a tenant is merely allowlisted');
select is(array(select s.sig from (select sig from tenant_fns union all select sig from allowlist) s
                where not exists (select 1 from exposed e where e.sig = s.sig) and s.sig not like 'tests.%' order by 1),
  '{}'::text[], 'the tables list only functions API roles can execute (no stale entries)');
select is(array(select e.sig from exposed e where e.anon and e.sig not like 'auth.%' and e.sig not like 'tests.%' order by 1),
  '{}'::text[], 'anon executes nothing but the Supabase auth helpers');

-- PUBLIC EXECUTE (a null ACL is the default, which includes PUBLIC) on nothing in the
-- project's schemas: a later USAGE grant on ops or app_private must not expose anything.
select is(array(select n.nspname || '.' || p.proname || '(' || replace(oidvectortypes(p.proargtypes), ', ', ',') || ')'
                from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname in ('public', 'app_private', 'ops', 'app_partitions')
                  and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
                  and (p.proacl is null or exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE'))
                order by 1),
  '{}'::text[], 'no function in public, app_private, ops or app_partitions is PUBLIC-executable');

select pg_temp.sweep();
select diag(format('swept %s functions executable by anon or authenticated: %s take a tenant (%s cases), %s allowlisted',
  (select count(*) from exposed), (select count(*) from exposed join tenant_fns using (sig)),
  (select count(*) from results), (select count(*) from exposed join allowlist using (sig))));
select is(array(select r.sig || ': ' || r.case_name || ' -> ' || r.outcome from results r where not r.ok order by 1),
  '{}'::text[], 'every tenant function refuses another tenant and NULL for a viewer of tenant A (and answers its own)');

-------------------------------------------------------------------------------------------
-- Subjects and principals the caller names
-------------------------------------------------------------------------------------------
-- Rate limits and nonces are internal rails (the edge's own session, or inside definer
-- functions): an API role could otherwise set another tenant's bucket or burn another
-- key's nonce by naming its subject.
select tests.act_as('viewer@demo-freight.test');
select is(pg_temp.try($$select allowed from app_private.rate_limit_take('replay', 'tenant:b0000000-0000-4000-8000-00000000000b', 1, 31536000, 1, 'd0000000-0000-4000-8000-000000000001')$$)
       || ' ' || pg_temp.try($$select app_private.webhook_nonce_use('n8n', 'nonce-of-another-key', now(), 300, 'd0000000-0000-4000-8000-000000000001')$$),
  '42501 42501', 'a viewer can neither set tenant B''s replay bucket nor pre-burn another key''s nonce');

-- Live Feed rows carry the caller's name, not one it names.
select tests.act_as('agents');
select is(pg_temp.try($$select app_private.feed_publish('d0000000-0000-4000-8000-000000000001',
  '[{"trace_id": "0af7651916cd43dd8448eb211c80319d", "portal": "rates", "action": "price_one", "phase": "start", "principal": "autopilot"}]')$$), 'ok:', 'agents@ publishes feed rows in its tenant');
select tests.act_as_owner();
select is((select principal from public.live_feed where trace_id = '0af7651916cd43dd8448eb211c80319d'), 'agents',
  'feed rows published by agents@ are recorded as agents, whatever principal they name');

-- invite_member: A's admin cannot rename or enroll B's user.
select tests.act_as('admin@demo-freight.test');
select is(pg_temp.try($$select app_private.invite_member('d0000000-0000-4000-8000-000000000001', 'lead@other-co.test', 'viewer', 'Renamed by A')$$),
  'SY021', 'A''s admin cannot invite a user who belongs to tenant B');
select tests.act_as_owner();
select results_eq($$select p.display_name, (select count(*)::int from public.role_assignments ra where ra.principal_id = p.id)
                    from public.principals p where p.name = 'lead@other-co.test'$$,
  $$values ('Lead of Other Co'::text, 1)$$, 'B''s user keeps its name and its only assignment');

select * from finish();
rollback;
