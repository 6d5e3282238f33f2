import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

interface Picked {
  ids: string[];
  skipped: { dlq_id: string; reason: string; payload_bytes: number }[];
  dryRun: boolean;
}

/**
 * autonomous/replay: DLQ replay (charter §6, §8). Postgres enforces every cap
 * (app_private.replay_request): batch <= budget.replay.maxBatch, payload <=
 * budget.replay.maxPayloadMB, rate.replay.per5m per tenant and per IP, approval in STEP-DOWN.
 */
export const replay = defineAction(contract.actions.replay, {
  permission: "dlq.replay.request",
  // Detect: with all: true, the oldest dead entries that fit the caps (too-large ones reported).
  detect: async (tx, input, ctx): Promise<Picked> => {
    if (input.dlq_ids) return { ids: input.dlq_ids, skipped: [], dryRun: input.dry_run };
    const rows = await tx`select dlq_id, payload_bytes, selected, reason from app_private.replay_selection(${ctx.tenantId})`;
    return {
      ids: rows.filter((r) => r.selected).map((r) => r.dlq_id),
      skipped: rows.filter((r) => !r.selected).map((r) => ({ dlq_id: r.dlq_id, reason: r.reason, payload_bytes: r.payload_bytes })),
      dryRun: input.dry_run,
    };
  },
  decide: (_input, picked) => {
    if (picked.ids.length === 0) throw new ActionRefused(refuse("not_found", { detail: "No dead DLQ entries to replay", skipped: picked.skipped }));
    return picked;
  },
  act: async (tx, p, ctx) => {
    const [r] = await tx`select * from app_private.replay_request(${ctx.tenantId}, ${p.ids}::uuid[], ${p.dryRun}, ${ctx.ip}::inet)`;
    return {
      writes: [],
      result: { request_id: r.id, status: r.status, dry_run: r.dry_run, batch_size: r.batch_size, payload_bytes: Number(r.payload_bytes), caps: r.caps, outcome: r.outcome, skipped: p.skipped },
      // Dry runs change nothing downstream: only real requests are published.
      events: p.dryRun ? [] : [{
        type: "autonomous.replay.requested",
        aggregateType: "replay_request",
        aggregateId: r.id,
        payload: { request_id: r.id, status: r.status, batch_size: r.batch_size },
      }],
    };
  },
  prove: async (sql, r) => {
    const [row] = await sql`select status from public.replay_requests where id = ${r.request_id}`;
    return { ok: row?.status === r.status, detail: `replay ${r.request_id} ${row?.status ?? "missing"}` };
  },
});

