import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";

const reason = z.string().trim().min(3, "a reason of at least 3 characters is required").max(500);

const selection = z.strictObject({
  dlq_ids: z.array(z.guid()).min(1).max(10_000).optional(),
  all: z.literal(true).optional(),
  dry_run: z.boolean().default(false),
}).refine((s) => !!s.dlq_ids !== !!s.all, { message: "Name dlq_ids or set all: true (one of them)", path: ["dlq_ids"] });

/** What a replay request is after the caps: its id, status, figures and what was left out. */
export interface ReplayResult {
  request_id: string;
  status: string;
  dry_run: boolean;
  batch_size: number;
  payload_bytes: number;
  caps: unknown;
  outcome: unknown;
  skipped: { dlq_id: string; reason: string; payload_bytes: number }[];
}

export interface FlagRow {
  key: string;
  scope: string;
  value: unknown;
  reason: string | null;
  updated_at: string;
  updated_by: string | null;
}

/** A quarantine after its release (public.quarantines). */
export interface ReleasedQuarantine {
  quarantine_id: string;
  kind: "tenant" | "subscription" | "detector";
  subject: string;
  released_at: string;
  released_by: string;
  /** Events a subscription missed while quarantined, re-queued for it. */
  requeued: number;
}

/**
 * The Autonomous portal's contract: the operator's levers over the agents and the rails —
 * DLQ replay and approval (charter §6, §8), the kill switch (§3), flag changes (the
 * switchboard) and the release of a quarantine (queue / SLO / quarantine, §4). The console's
 * writes are these actions.
 */
export const contract = defineContract("autonomous", {
  actions: {
    replay: action<ReplayResult>()({ input: selection, kind: "write" }),
    approve: action<{ request_id: string; status: string; outcome: unknown }>()({
      input: z.strictObject({ request_id: z.guid(), approve: z.boolean().default(true), note: z.string().trim().max(500).optional() }),
      kind: "write",
    }),
    kill_switch: action<{ emergency_stop: boolean; reason: string }>()({ input: z.strictObject({ engage: z.boolean(), reason }), kind: "write" }),
    flag_set: action<{ flag: FlagRow }>()({
      input: z.strictObject({
        key: z.string().trim().min(1).max(100),
        scope: z.string().trim().min(1).max(200).default("global"),
        value: z.union([z.string().max(200), z.number(), z.boolean()]),
        reason,
      }),
      kind: "write",
    }),
    quarantine_release: action<ReleasedQuarantine>()({ input: z.strictObject({ quarantine_id: z.guid(), reason }), kind: "write" }),
  },
  events: [
    "autonomous.replay.requested", "autonomous.replay.decided", "autonomous.kill_switch.engaged", "autonomous.kill_switch.released",
    "autonomous.flag.changed", "autonomous.quarantine.released",
  ],
});
