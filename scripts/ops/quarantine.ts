/**
 * `ops quarantine list|release`: what is stopped because it kept failing, and its release by
 * the operator with a reason (app_private.quarantine_release, in one transaction with
 * app.reason: the quarantine row and its audit entry record it). The CLI's session is the
 * operator's database user, a human at a terminal, like psql.
 */
import { parse, reasonOf, uuid, check } from "./args.ts";
import { type Command, group } from "./command.ts";
import { type Queryable, withReason } from "./db.ts";
import { notFound } from "./errors.ts";
import { table } from "./output.ts";

const LIST_USAGE = "ops quarantine list [--all] [--json]";
const RELEASE_USAGE = 'ops quarantine release <quarantine-id> --reason "..." [--json]';

export interface QuarantineRow {
  id: string;
  tenant: string;
  kind: string;
  subject: string;
  reason: string;
  since: Date;
  by: string;
  parked: number | null;
  releasedAt: Date | null;
  releasedBy: string | null;
  releaseReason: string | null;
}

/** Open quarantines (and, with `all`, the released ones of the last week), newest first. */
export async function quarantines(sql: Queryable, all = false): Promise<QuarantineRow[]> {
  const rows = await sql`
    select q.id, t.slug, q.kind, coalesce(s.name || ' (' || q.subject || ')', q.subject) as subject, q.reason,
           q.quarantined_at, q.quarantined_by, app_private.quarantine_parked(q.id) as parked,
           q.released_at, q.released_by_name, q.release_reason
    from public.quarantines q
    join public.tenants t on t.id = q.tenant_id
    left join public.outbox_subscriptions s on q.kind = 'subscription' and s.id::text = q.subject
    where q.released_at is null or (${all} and q.released_at > now() - interval '7 days')
    order by (q.released_at is null) desc, q.quarantined_at desc limit 200`;
  return rows.map((r) => ({
    id: r.id, tenant: r.slug, kind: r.kind, subject: r.subject, reason: r.reason, since: r.quarantined_at, by: r.quarantined_by,
    parked: r.parked === null ? null : Number(r.parked), releasedAt: r.released_at, releasedBy: r.released_by_name, releaseReason: r.release_reason,
  }));
}

/** Failing streaks that have not tripped (yet): what may be quarantined next. */
export async function streaks(sql: Queryable) {
  const rows = await sql`
    select f.kind, t.slug, f.subject, f.failures, f.last_error, f.first_failed_at
    from ops.failure_streaks f join public.tenants t on t.id = f.tenant_id
    where f.failures > 0 and not app_private.is_quarantined(f.kind, f.subject)
    order by f.failures desc limit 50`;
  return rows.map((r) => ({ kind: r.kind, tenant: r.slug, subject: r.subject, failures: r.failures, lastError: r.last_error, since: r.first_failed_at }));
}

export const quarantineTable = (rows: QuarantineRow[]) =>
  table(rows.map((q) => ({ ...q, state: q.releasedAt ? `released by ${q.releasedBy}: ${q.releaseReason}` : "open" })),
    ["id", "tenant", "kind", "subject", "since", "parked", "reason", "state"]);

const list: Command = async ({ sql, out, argv }) => {
  const { values } = parse(argv, { all: { type: "boolean" } }, { usage: LIST_USAGE });
  const [rows, watch] = await Promise.all([quarantines(sql, values.all), streaks(sql)]);
  out.result({ quarantines: rows, streaks: watch }, () => [
    `Quarantined (${rows.filter((q) => !q.releasedAt).length} open; events: see ops dlq list)`,
    quarantineTable(rows),
    "", "Failing, not quarantined yet",
    table(watch, ["kind", "tenant", "subject", "failures", "lastError", "since"]),
  ].join("\n"));
};

const release: Command = async ({ sql, out, argv }) => {
  const { values, positionals } = parse(argv, { reason: { type: "string" } }, { min: 1, max: 1, usage: RELEASE_USAGE });
  const id = check(uuid, positionals[0], "quarantine id");
  const reason = reasonOf(values.reason);
  const [exists] = await sql`select 1 from public.quarantines where id = ${id}`;
  if (!exists) throw notFound(`no quarantine ${id}`);
  const [q] = await withReason(sql, reason, (tx) =>
    tx`select id, kind, subject, released_at, released_by_name, release_detail from app_private.quarantine_release(${id}, ${reason})`);
  const requeued = Number(q.release_detail?.requeued ?? 0);
  out.result({ id: q.id, kind: q.kind, subject: q.subject, releasedAt: q.released_at, releasedBy: q.released_by_name, requeued, reason },
    `released ${q.kind} ${q.subject}${q.kind === "subscription" ? ` (${requeued} parked event(s) re-queued)` : ""}\nreason: ${reason}`);
};

export const quarantine = group("quarantine", { list, release });
