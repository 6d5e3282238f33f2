import type { Span } from "@opentelemetry/api";
import { SpanStatusCode } from "@opentelemetry/api";
import { jsonb, type Sql } from "../db/client.ts";
import { countsAgainstSlo } from "../http/catalogue.ts";
import { accept, type Outcome, type Refusal, refuse } from "../http/outcome.ts";
import { startSpan, traceparentOf } from "../observability/tracing.ts";
import type { Logger } from "../observability/logger.ts";
import type { TraceContext } from "../observability/traceparent.ts";
import type { ActionContext, AnyAction, Principal, ProveResult } from "./action.ts";
import { refusalFromDb, unavailableCode } from "./db-errors.ts";
import type { FeedRow, Telemetry } from "./telemetry.ts";

/** Claims carried into Postgres as request.jwt.claims (see docs/security-model.md). */
export interface Claims {
  sub: string;
  role: "authenticated";
  tenant_id: string;
  principal_kind?: string;
  principal_name?: string;
  portal: string;
  /** The HMAC key that signed the request (machine callers): the rails check its tenants. */
  key_id?: string;
  /** Session strength and sign-in methods of a human's JWT (MFA and SSO policies in Postgres). */
  aal?: string;
  amr?: unknown[];
}

export interface RunRequest {
  claims: Claims;
  input: unknown; // already validated by the action's schema
  parent: TraceContext | null;
  ip: string | null;
  idempotencyKey: string | null;
  fingerprint: string | null;
  /**
   * HMAC v2: the spending of the request's nonce, started when its signature was verified
   * (portal.ts, its own statement: spent whatever this action's outcome). Resolves to the
   * refusal (nonce_reused) or null; awaited beside the action's first statement.
   */
  nonce: Promise<Refusal | null> | null;
  /** The agent's task key (detector runs): recorded with a reversible action's run. */
  taskKey?: string | null;
}

export interface RunResult {
  status: number;
  body: unknown;
  replayed: boolean;
  prove: ProveResult | null;
}

export interface RunDeps {
  /** The edge function serving the request (what request metrics record as `fn`). */
  fn: string;
  sql: Sql;
  telemetry: Telemetry;
  log: Logger;
}

/**
 * What the success SLO counts as a failure: a 5xx that is not a rail doing its job (the kill
 * switch, a disabled portal, a paused DLQ refuse on purpose; counting them would make the
 * SLO gate roll back because an operator pressed stop).
 */
const countsAsError = (r: Refusal) => countsAgainstSlo(r.code); // catalogue.ts: a 5xx without `rail`

/** Thrown by a step to refuse the request (the transaction rolls back). */
export class ActionRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.code);
  }
}

/** Runs `fn` inside a child span named `name`, ending it with the right status. */
async function step<T>(deps: RunDeps, parent: Span, name: string, fn: () => Promise<T> | T): Promise<T> {
  const span = startSpan(deps.telemetry.tracer, name, parent);
  try {
    const out = await fn();
    span.setStatus({ code: SpanStatusCode.OK });
    return out;
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof ActionRefused ? err.refusal.code : "error" });
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Detect -> Decide -> Act -> Prove for one validated request, as ONE transaction under the
 * caller's claims: claims and the rails (action_begin) go in one statement,
 * detect reads in one, and the domain writes, outbox events and idempotency record in one,
 * then commit. Prove reads back after the commit. Start, prove and finish go to the Live
 * Feed; the whole request is a span with a child per step.
 */
export interface RunOutcome {
  outcome: Outcome<RunResult>;
  traceparent: string;
  traceId: string;
}

export async function runAction(deps: RunDeps, def: AnyAction, req: RunRequest): Promise<RunOutcome> {
  const started = performance.now();
  const { telemetry, sql } = deps;
  const server = startSpan(telemetry.tracer, `${def.portal}.${def.name}`, req.parent, {
    portal: def.portal,
    action: def.name,
    "tenant.id": req.claims.tenant_id,
  });
  const traceparent = traceparentOf(server);
  const traceId = server.spanContext().traceId;
  const log = deps.log.child({ trace_id: traceId, span_id: server.spanContext().spanId, portal: def.portal, action: def.name });
  // The feed reaches browsers: machines by name, humans by a short id (never an email).
  const principalName = req.claims.principal_kind === "machine" ? req.claims.principal_name ?? null : `user:${req.claims.sub.slice(0, 8)}`;
  const row = (phase: "start" | "prove" | "finish", ok: boolean | null, detail: Record<string, unknown>): FeedRow =>
    ({ trace_id: traceId, portal: def.portal, action: def.name, phase, ok, principal: principalName, detail });

  telemetry.feed(req.claims.tenant_id, [row("start", null, {})]);
  let outcome: Outcome<RunResult>;
  try {
    // The rate-limit take runs on its own connection, in parallel with the transaction: a
    // take held until commit would serialize a caller's concurrent requests on its row.
    // Control actions (the stop button) skip it: a halt must not fail on a rate limit.
    const rails = def.rails === "control" ? "control" : def.kind === "read" ? "none" : "domain";
    const rateLimit = rails === "control" ? Promise.resolve(null) : sql`
      select app_private.rate_limit_take_or_raise(${"action:" + def.portal + "." + def.name},
        ${`tenant:${req.claims.tenant_id}:principal:${req.claims.sub}:ip:${req.ip ?? "-"}`},
        app_private.flag_number('rate.actions.perMinute', ${req.claims.tenant_id}::uuid, ${def.portal})::int, 60, 1,
        ${req.claims.tenant_id}::uuid)`.then(() => null, (err) => err);
    // Control actions carry no portal claim into Postgres: the tables they write (the outbox
    // too) would otherwise apply that portal's portal.enabled, and a disabled portal would
    // lock out its own switchboard levers (the stop button, the flag that re-enables it).
    const claims = rails === "control" ? { ...req.claims, portal: "" } : req.claims;
    const committed = await sql.begin(async (tx) => {
      const headers = { traceparent, "x-forwarded-for": req.ip ?? "" };
      // One statement: the three settings (the materialized CTE runs first), then the rails.
      // (postgres.js with prepare: false describes every parameterized statement before it
      // binds it, two round trips each, and does not pipeline behind it: one statement
      // instead of two saves two round trips; bench/README.md.)
      const begin = await tx`
        with settings as materialized (
          select set_config('role', 'authenticated', true),
                 set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                 set_config('request.headers', ${JSON.stringify(headers)}, true))
        select app_private.action_begin(${def.permission}, ${req.idempotencyKey}, ${req.fingerprint},
                 null, null, null, ${rails}) as r
        from settings`;
      const reused = await req.nonce;
      if (reused) throw new ActionRefused(reused);
      const limited = await rateLimit;
      if (limited) throw limited;
      const r = begin[0].r as {
        principal: { id: string; kind: "human" | "machine"; name: string };
        idempotency: "new" | "replay" | "mismatch" | "in_flight" | null;
        response_status: number | null;
        response_body: unknown;
      };
      if (r.idempotency === "in_flight") throw new ActionRefused(refuse("idempotency_in_flight"));
      if (r.idempotency === "mismatch") throw new ActionRefused(refuse("idempotency_conflict"));
      if (r.idempotency === "replay") {
        return { status: r.response_status ?? 200, body: r.response_body, replayed: true, prove: null };
      }
      const principal: Principal = { ...r.principal, tenantId: req.claims.tenant_id, roles: [] };
      if (def.humansOnly && principal.kind !== "human") throw new ActionRefused(refuse("forbidden", { detail: def.humansOnly }));
      const ctx: ActionContext = {
        principal, tenantId: req.claims.tenant_id, traceId, traceparent, ip: req.ip, idempotencyKey: req.idempotencyKey, log, now: new Date(),
      };
      const facts = await step(deps, server, "detect", () => def.detect(tx, req.input, ctx));
      const decision = await step(deps, server, "decide", () => def.decide(req.input, facts, ctx));
      const result = await step(deps, server, "act", async () => {
        const plan = await def.act(tx, decision, ctx);
        const body = { data: plan.result, trace_id: traceId };
        await Promise.all([
          ...plan.writes,
          // A plain INSERT (no RETURNING): publishing needs outbox.publish, not outbox.read.
          ...plan.events.map((e) =>
            tx`insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
               values (${ctx.tenantId}, ${e.aggregateType}, ${e.aggregateId}, ${e.type}, ${jsonb(tx, e.payload)})`
          ),
          ...(plan.audit
            ? [tx`select app_private.audit_event(${plan.audit.action}, ${plan.audit.targetType}, ${plan.audit.targetId},
                    ${jsonb(tx, plan.audit.before ?? null)}, ${jsonb(tx, plan.audit.after ?? null)})`]
            : []),
          ...(def.reverse
            ? [tx`select app_private.action_run_record(${traceId}, ${def.portal}, ${def.name}, ${req.taskKey ?? null},
                    ${jsonb(tx, req.input)}, ${jsonb(tx, plan.result)})`]
            : []),
          ...(req.idempotencyKey ? [tx`select app_private.idempotency_complete(${req.idempotencyKey}, 200, ${jsonb(tx, body)})`] : []),
        ]);
        return plan.result;
      });
      return { status: 200, body: { data: result, trace_id: traceId }, replayed: false, prove: null, result, ctx };
    });

    let prove: ProveResult | null = null;
    if (!committed.replayed && "ctx" in committed) {
      prove = await step(deps, server, "prove", () => def.prove(sql, committed.result, committed.ctx!));
      server.setAttribute("prove.ok", prove.ok);
      if (!prove.ok) log.error({ prove }, "post-condition failed after commit");
    }
    outcome = accept({ status: committed.status, body: committed.body, replayed: committed.replayed, prove });
  } catch (err) {
    // A spent nonce answers first, whatever else refused (the request was a replay).
    const reused = await req.nonce;
    const refusal = reused ?? (err instanceof ActionRefused ? err.refusal : refusalFromDb(err));
    if (!refusal) log.error({ err: err instanceof Error ? err.message : String(err) }, "action failed");
    else if (refusal.code === "database_unavailable") log.warn({ db_error: unavailableCode(err) }, "database unavailable");
    outcome = refusal ?? refuse("internal_error");
  }

  const ms = performance.now() - started;
  const ok = outcome.ok;
  server.setAttribute("outcome", ok ? "ok" : outcome.code);
  server.setStatus(ok ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message: outcome.code });
  server.end();
  // Prove and finish go together, in order.
  const prove = ok ? outcome.value.prove : null;
  telemetry.feed(req.claims.tenant_id, [
    ...(prove ? [row("prove", prove.ok, { detail: prove.detail })] : []),
    row("finish", ok, { ms: Math.round(ms), outcome: ok ? "ok" : outcome.code }),
  ]);
  telemetry.metrics.add({ fn: deps.fn, portal: def.portal, tenantId: req.claims.tenant_id, ms, error: !ok && countsAsError(outcome) });
  log.info({ ms: Math.round(ms), outcome: ok ? "ok" : outcome.code }, "action finished");
  return { outcome, traceparent, traceId };
}
