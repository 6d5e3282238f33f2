import { machineClaims, withClaims } from "../../../packages/shared/db/client.ts";
import { dailySummary, dispatchAlerts } from "./alerts.ts";
import { asAutopilot, type AutopilotContext, recorded } from "./context.ts";

/**
 * 5 m: DLQ auto-replay within the caps, as the dlq principal (Postgres applies the batch,
 * payload and 3-per-5-minutes caps, pauses in DEGRADE and waits for a human in STEP-DOWN).
 * Only entries dead for more than 5 minutes, and none that already wait in a pending
 * request (STEP-DOWN: one request per entry for a human to approve, not one every run).
 * An event gets one automatic second chance: one that died again after a replay stays in
 * the DLQ (the event quarantine) until a human replays it.
 */
export function every5m(ctx: AutopilotContext) {
  return recorded(ctx, "dlq-auto-replay", async () => {
    const tenants = await withClaims(ctx.sql, machineClaims("dlq"), (tx) =>
      tx`select distinct tenant_id from public.dlq_entries where state = 'dead' and dead_at < now() - interval '5 minutes'`);
    const runs: Record<string, unknown>[] = [];
    for (const { tenant_id } of tenants) {
      try {
        const r = await withClaims(ctx.sql, machineClaims("dlq", tenant_id), async (tx) => {
          const ids = (await tx`
            select s.dlq_id from app_private.replay_selection(${tenant_id}) s
            join public.dlq_entries d on d.id = s.dlq_id
            where s.selected and d.dead_at < now() - interval '5 minutes' and d.replay_request_id is null
              and not exists (select 1 from public.replay_requests q
                              where q.tenant_id = ${tenant_id} and q.status = 'pending_approval' and d.id = any (q.dlq_ids))`)
            .map((x) => x.dlq_id);
          if (ids.length === 0) return null;
          const [req] = await tx`select id, status, batch_size from app_private.replay_request(${tenant_id}, ${ids}::uuid[], false)`;
          return req;
        }, { reason: "5-minute DLQ auto-replay" });
        if (r) runs.push({ tenant_id, request_id: r.id, status: r.status, batch: r.batch_size });
      } catch (err) {
        // A cap or pause refuses this tenant's run; the others go on.
        runs.push({ tenant_id, refused: (err as { message?: string }).message?.split(":")[0] ?? "error" });
      }
    }
    return { runs };
  });
}

/**
 * Daily: the summary message, and backup freshness (issue 19): the newest verified backup
 * (ops.dr_backups: a base backup pg_verifybackup accepted, or the hosted drill's checked dump)
 * and the WAL archiver's position, alerting when the backup is over 8 days old or archiving
 * failed since its last success.
 */
export function daily(ctx: AutopilotContext) {
  return recorded(ctx, "daily-summary", async () => {
    const summary = await dailySummary(ctx);
    const [b] = await ctx.sql`select * from app_private.dr_backup_freshness()`;
    const stale = !b.last_verified_at || Date.now() - new Date(b.last_verified_at).getTime() > 8 * 86_400_000;
    const archiveFailing = b.archive_failed_at && (!b.last_archived_at || new Date(b.archive_failed_at) > new Date(b.last_archived_at));
    if (stale || archiveFailing) {
      const why = [
        stale ? (b.last_verified_at ? `Last verified backup ${b.label} is from ${new Date(b.last_verified_at).toISOString()}` : "No verified backup recorded") : null,
        archiveFailing ? `WAL archiving failing since ${new Date(b.archive_failed_at).toISOString()} (last archived ${b.last_archived_wal ?? "none"})` : null,
      ].filter(Boolean).join("; ");
      await asAutopilot(ctx, (tx) => tx`select app_private.raise_alert(null, 'backup.freshness', 'warning', 'backups', ${why})`);
    }
    return { ...summary, last_verified_backup: b.last_verified_at, backup: b.label, last_archived_wal: b.last_archived_wal, alerts: await dispatchAlerts(ctx) };
  });
}

/** Monthly: key rotation rehearsal of every service account, and the cost / SLO review. */
export function monthly(ctx: AutopilotContext) {
  return recorded(ctx, "monthly-review", async () => {
    // Issues and revokes a key per account: autopilot@'s write, refused while the stop is on.
    const rehearsals = await asAutopilot(ctx, (tx) => tx`select account as name, outcome from app_private.rehearse_key_rotations()`,
      { reason: "monthly key rotation rehearsal" });
    const [cost] = await ctx.sql`
      select coalesce(sum(amount_usd), 0)::numeric(14,2) as usd, count(distinct tenant_id)::int as tenants
      from public.cost_ledger where created_at > now() - interval '30 days'`;
    const slo = await ctx.sql`select function_name, portal, requests, success_ratio from public.slo_summary(interval '30 days')`;
    await asAutopilot(ctx, (tx) => tx`select app_private.raise_alert(null, 'report.monthly', 'info', ${new Date().toISOString().slice(0, 7)},
      ${`Monthly review: cost $${cost.usd} over ${cost.tenants} tenants; ${slo.length} SLO series; key rehearsals ${rehearsals.map((r) => `${r.name}:${r.outcome}`).join(", ")}`})`);
    return { rehearsals: rehearsals.length, cost_usd: Number(cost.usd), slo_series: slo.length };
  });
}
