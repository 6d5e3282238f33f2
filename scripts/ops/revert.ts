/**
 * ops revert <trace-id> --as <principal> [--clear]: undoes the reversible action that trace
 * ran (typically an agent's), as the named human, through the portal's own `revert` action
 * (runAction: permission, rails, audit, outbox, Live Feed, prove), so it refuses exactly as
 * the console's button would: `already_reverted`, `revert_state_changed` (and why), ...
 * --clear lets the agents take that work up again.
 */
import pino from "pino";
import { loadManifest } from "../../packages/portals/registry.ts";
import { createLogger } from "../../packages/shared/observability/logger.ts";
import { runAction } from "../../packages/shared/pipeline/run.ts";
import { createTelemetry } from "../../packages/shared/pipeline/telemetry.ts";
import type { Command } from "./command.ts";
import { EXIT, notFound, OpsError, usage } from "./errors.ts";

const TRACE = /^[0-9a-f]{32}$/;

/** Exit codes of the problems a revert answers (the catalogue's SQLSTATE where it has one). */
const EXITS: Record<string, number> = { not_found: EXIT.notFound, forbidden: EXIT.refused, already_reverted: 41, not_reverted: 42 };

export const revert: Command = async ({ sql, out, argv }) => {
  const clear = argv.includes("--clear");
  const asIdx = argv.indexOf("--as");
  const as = asIdx >= 0 ? argv[asIdx + 1] : undefined;
  const trace = argv.find((a, i) => !a.startsWith("--") && i !== asIdx + 1);
  if (!trace || !TRACE.test(trace)) throw usage("usage: ops revert <trace-id (32 hex)> --as <principal> [--clear]");
  // The CLI's own session is the database owner: a revert is always a named human's act.
  if (!as) throw usage("ops revert needs --as <principal> (the human who reverts; the CLI otherwise acts as the database owner)");

  const [run] = await sql`select tenant_id, portal, action from public.action_runs where trace_id = ${trace}`;
  if (!run) throw notFound(`no reversible action ran under trace ${trace}`);
  const [who] = await sql`select id, kind, name from public.principals
                          where (name = ${as} or id::text = ${as}) and disabled_at is null`;
  if (!who) throw notFound(`no enabled principal ${as}`);

  const manifest = await loadManifest(run.portal);
  const def = manifest.actions.find((a) => a.name === (clear ? "revert_clear" : "revert"));
  if (!def) throw new OpsError(`portal ${run.portal} has no revert action`, EXIT.failure, "not_reversible");
  const log = createLogger("ops", pino.destination(2)); // stderr: stdout carries the result
  const telemetry = createTelemetry(sql, "ops", log);
  const r = await runAction({ fn: "ops", sql, telemetry, log }, def, {
    claims: { sub: who.id, role: "authenticated", tenant_id: run.tenant_id, portal: run.portal, principal_kind: who.kind, principal_name: who.name },
    input: { trace_id: trace },
    parent: null, ip: null, idempotencyKey: null, fingerprint: null, nonce: null,
  });
  await telemetry.flush();
  if (!r.outcome.ok) {
    const p = r.outcome.problem;
    throw new OpsError(`${p.detail ?? p.title} (trace ${r.traceId})`, EXITS[p.code] ?? EXIT.failure, p.code, { trace_id: r.traceId });
  }
  const body = r.outcome.value.body as { data: Record<string, unknown>; trace_id: string };
  out.result({ ...body.data, portal: run.portal, revert_trace_id: body.trace_id },
    clear
      ? `cleared the revert of ${run.portal}/${run.action} (trace ${trace}): the agents may take it up again`
      : `reverted ${run.portal}/${run.action} of trace ${trace} as ${who.name} (revert trace ${body.trace_id})`);
};
