-- Function privileges, belt and braces. No function of the migration role is PUBLIC-
-- executable since the default privileges of 20261125000000, and every file revokes and
-- grants explicitly next to each function; this pass makes sure that, for the internal
-- schemas, only the explicit grants stand (execute for authenticated / service_role on the
-- helpers the policies and the edge call). Everything else (platform operations in ops,
-- internal writers and trigger functions in app_private) is callable by the owner only.
-- Triggers fire regardless of EXECUTE privilege.
--
-- Sections: permissions and grants.

-------------------------------------------------------------------------------------------
-- permissions and grants
-------------------------------------------------------------------------------------------
revoke execute on all functions in schema app_private from public;
revoke execute on all functions in schema ops from public;

-- Called as the invoker from non-definer code paths (claim parsing, the audit append-only
-- trigger, span redaction), so API roles need them.
grant execute on function app_private.raise_error(text, text, jsonb) to authenticated, service_role;
