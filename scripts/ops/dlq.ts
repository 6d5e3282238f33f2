/**
 * `ops dlq list|dry-run|replay|approve|progress`. Every cap is Postgres': the CLI calls
 * app_private.replay_request / replay_decide and reports what they refuse
 * (replay_cap_exceeded, rate_limited, dlq_paused, replay_bad_selection) by exit code.
 */
import { z } from "zod";
import { check, idList, parse, uuid } from "./args.ts";
import { type Command, group } from "./command.ts";
import type { Sql } from "./db.ts";
import { notFound, usage } from "./errors.ts";
import { type Output, table } from "./output.ts";
import { followReplay } from "./replay-progress.ts";

const SELECT = "--tenant <uuid|slug> (--ids <id,...> | --all)";
const WAIT = "[--wait <seconds, default 60>]";

/** A tenant by id or slug. */
async function tenantId(sql: Sql, ref: string | undefined): Promise<string> {
  if (!ref) throw usage("--tenant is required (a tenant uuid or slug)");
  const [t] = await sql`select id from public.tenants where id::text = ${ref.toLowerCase()} or slug = ${ref}`;
  if (!t) throw notFound(`no tenant "${ref}"`);
  return t.id;
}

/** The DLQ entries a command names: --ids, or --all of the tenant's dead entries and the parked ones whose subscriptions are back. */
async function selection(sql: Sql, tenant: string, ids: string[] | undefined, all: boolean | undefined): Promise<string[]> {
  if (Boolean(all) === Boolean(ids?.length)) throw usage(`name the entries: ${SELECT}`);
  if (!all) return idList(ids);
  const rows = await sql`select id from public.dlq_entries where tenant_id = ${tenant}
                         and (state = 'dead' or (state = 'parked' and app_private.dlq_still_gone(parked_for) is null))
                         order by dead_at`;
  if (rows.length === 0) throw notFound(`tenant ${tenant} has no dead (or replayable parked) DLQ entries`);
  return rows.map((r) => r.id as string);
}

const requestOptions = {
  tenant: { type: "string" },
  ids: { type: "string", multiple: true },
  all: { type: "boolean" },
  wait: { type: "string" },
} as const;

const waitOf = (v: string | undefined) => check(z.coerce.number().int().min(0).max(3600), v ?? "60", "--wait");

interface ReplayRow {
  id: string;
  status: string;
  batch_size: number;
  payload_bytes: string;
  caps: Record<string, unknown>;
  outcome: Record<string, unknown> | null;
}

const summary = (r: ReplayRow) => ({
  requestId: r.id,
  status: r.status,
  batchSize: r.batch_size,
  payloadBytes: Number(r.payload_bytes),
  caps: r.caps,
  outcome: r.outcome,
});

/** After a replay executed: follow its delivery and print the outcome. */
async function reportExecuted(sql: Sql, out: Output, r: ReplayRow, wait: number) {
  if (r.status !== "executed") {
    const hint = r.status === "pending_approval"
      ? `waiting for a human's approval (STEP-DOWN): npm run ops -- dlq approve ${r.id}`
      : `replay ${r.id} is ${r.status}`;
    out.result({ ...summary(r), progress: null }, hint);
    return;
  }
  out.note(`replay ${r.id}: ${r.batch_size} event(s) back in the outbox; following delivery for up to ${wait} s`);
  const progress = await followReplay(sql, out, r.id, wait);
  out.result({ ...summary(r), progress }, progress.complete
    ? `replay ${r.id}: all ${progress.total} event(s) delivered`
    : `replay ${r.id}: ${progress.pending} of ${progress.total} still pending; follow with: npm run ops -- dlq progress ${r.id} --wait 60`);
}

const list: Command = async ({ sql, out, argv }) => {
  const { values } = parse(argv, { tenant: { type: "string" }, state: { type: "string" }, limit: { type: "string" } },
    { usage: "ops dlq list [--tenant <uuid|slug>] [--state dead|parked|replayed|discarded|all] [--limit 50] [--json]" });
  const tenant = values.tenant ? await tenantId(sql, values.tenant) : null;
  const state = check(z.enum(["dead", "parked", "replayed", "discarded", "all"]), values.state ?? "dead", "--state");
  const limit = check(z.coerce.number().int().min(1).max(1000), values.limit ?? "50", "--limit");
  const rows = await sql`
    select d.id, t.slug as tenant, d.event_type, d.aggregate_type || ':' || d.aggregate_id as aggregate, d.attempts,
           d.last_error, d.payload_bytes, d.trace_id, d.dead_at, d.state
    from public.dlq_entries d join public.tenants t on t.id = d.tenant_id
    where (${tenant}::uuid is null or d.tenant_id = ${tenant}::uuid) and (${state} = 'all' or d.state = ${state})
    order by d.dead_at desc limit ${limit}`;
  const entries = rows.map((r) => ({ ...r }));
  out.result({ entries }, () => `${entries.length} DLQ entr${entries.length === 1 ? "y" : "ies"} (${state})\n` +
    table(entries.map((e) => ({ ...e, last_error: String(e.last_error ?? "").slice(0, 60) })),
      ["id", "tenant", "event_type", "aggregate", "attempts", "last_error", "trace_id", "dead_at"]));
};

function request(dryRun: boolean): Command {
  const name = dryRun ? "dry-run" : "replay";
  return async ({ sql, out, argv }) => {
    const { values } = parse(argv, requestOptions, { usage: `ops dlq ${name} ${SELECT}${dryRun ? "" : ` ${WAIT}`} [--json]` });
    if (dryRun && values.wait !== undefined) throw usage("a dry run delivers nothing: --wait is for replay");
    const wait = waitOf(values.wait);
    const tenant = await tenantId(sql, values.tenant);
    const ids = await selection(sql, tenant, values.ids, values.all);
    const [r] = await sql<ReplayRow[]>`select * from app_private.replay_request(${tenant}::uuid, ${ids}::uuid[], ${dryRun})`;
    if (!dryRun) return reportExecuted(sql, out, r, wait);
    out.result({ ...summary(r), progress: null },
      `dry run ${r.id}: would replay ${r.batch_size} entr${r.batch_size === 1 ? "y" : "ies"} (${r.payload_bytes} bytes); ` +
        `caps ${JSON.stringify(r.caps)}`);
  };
}

async function existingRequest(sql: Sql, ref: string): Promise<string> {
  const id = check(uuid, ref, "request id");
  const [r] = await sql`select id from public.replay_requests where id = ${id}`;
  if (!r) throw notFound(`no replay request ${id}`);
  return id;
}

const approve: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { note: { type: "string" }, reject: { type: "boolean" }, wait: { type: "string" } },
    { min: 1, max: 1, usage: `ops dlq approve <request-id> [--note "..."] [--reject] ${WAIT} [--json]` });
  const wait = waitOf(values.wait);
  const id = await existingRequest(sql, positionals[0]);
  const [r] = await sql<ReplayRow[]>`select * from app_private.replay_decide(${id}::uuid, ${!values.reject}, ${values.note ?? null})`;
  return reportExecuted(sql, out, r, wait);
};

const progress: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { wait: { type: "string" } },
    { min: 1, max: 1, usage: "ops dlq progress <request-id> [--wait <seconds, default 0>] [--json]" });
  const id = await existingRequest(sql, positionals[0]);
  const p = await followReplay(sql, out, id, waitOf(values.wait ?? "0"));
  out.result({ requestId: id, progress: p }, p.complete ? `replay ${id}: complete` : `replay ${id}: ${p.pending} still pending`);
};

export const dlq = group("dlq", { list, "dry-run": request(true), replay: request(false), approve, progress });
