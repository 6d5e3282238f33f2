-- Performance (issue 7, bench/README.md): the per-tenant audit hash chain lock.
--
-- Each audited row change appends to its tenant's hash chain under the chain head's row lock
-- (ops.audit_chain_heads, FOR UPDATE), held until the transaction ends. With the row audit
-- firing at the INSERT, an action held its tenant's lock across the rest of its writes, the
-- round trip back to the edge function and the COMMIT round trip, so one tenant's actions
-- ran one at a time at the speed of the edge's event loop (measured: 40 ms mean wait on the
-- lock at 25 price_one/s, p95 > 200 ms).
--
-- For the hot domain tables of the action pipeline the row audit becomes a DEFERRABLE
-- INITIALLY DEFERRED constraint trigger: it runs at COMMIT (same transaction, same claims,
-- same trace context; all or nothing as before), so the chain lock is held only from the
-- audit insert to the commit record, never across a client round trip. The row image is
-- the row as the statement left it, exactly as before; only the audit row's position moves
-- to the end of its transaction. A session that must see its audit rows before commit runs
-- `set constraints all immediate`.
--
-- ops.defer_row_audit(table) applies the same to any table put under the rails with
-- ops.attach_rails (run it after attach_rails, which recreates an immediate trigger).
create function ops.defer_row_audit(p_table regclass, p_tenant_column name default 'tenant_id')
returns void
language plpgsql set search_path = '' as $$
begin
  execute format('drop trigger if exists audit_row on %s', p_table);
  execute format('create constraint trigger audit_row after insert or update or delete on %s '
                 'deferrable initially deferred '
                 'for each row execute function app_private.audit_row_change(%L)', p_table, p_tenant_column);
end $$;

select ops.defer_row_audit('public.rates_quotes');
select ops.defer_row_audit('public.rates_contracts');
