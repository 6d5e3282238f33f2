-- Function privileges: Postgres lets PUBLIC execute every new function. For the internal
-- schemas only the explicit grants made next to each function stand (execute for
-- authenticated / service_role on the helpers the policies and the edge call); everything
-- else (platform operations in ops, internal writers and trigger functions in app_private)
-- is callable by the owner only. Triggers fire regardless of EXECUTE privilege.
revoke execute on all functions in schema app_private from public;
revoke execute on all functions in schema ops from public;

-- Called as the invoker from non-definer code paths (claim parsing, the audit append-only
-- trigger, span redaction), so API roles need them.
grant execute on function app_private.raise_error(text, text, jsonb) to authenticated, service_role;
