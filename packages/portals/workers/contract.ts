import { z } from "zod";
import { action, defineContract } from "../../shared/pipeline/contract.ts";

export interface QueueItem {
  item_id: string;
  queue_key: string;
  source_type: string;
  source_id: string | null;
  summary: string;
  priority: number;
  assigned_to: string | null;
  due_at: string;
  over_sla: boolean;
}

export interface Shift {
  shift_id: string;
  principal_id: string;
  starts_at: string;
  ends_at: string;
  ended_at: string | null;
}

export interface Gap {
  queue_key: string;
  gap_start: string;
  gap_end: string;
  min_coverage: number;
}

export interface Rebalanced {
  released: number;
  moved: number;
  assigned: number;
}

const when = z.iso.datetime({ offset: true });
const note = z.string().trim().min(1).max(300);

/**
 * The Workers portal (the tenant's own staff): shifts with coverage rules per work queue and
 * their gaps; work queues whose items any portal adds (app_private.workers_enqueue), load
 * balanced onto on-shift workers by current load and skill, reassigned when a shift ends or
 * a worker is overloaded. Its agents rebalance a queue over its SLA and alert on a coverage gap.
 */
export const contract = defineContract("workers", {
  actions: {
    queues: action<{ queues: { queue_key: string; name: string; skill: string; sla_minutes: number; min_coverage: number; open: number; unassigned: number; over_sla: number }[];
                     workers: { principal_id: string; skills: string[]; max_open: number; on_shift: boolean; open: number }[] }>()({
      input: z.strictObject({ queue_key: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/).optional() }),
      kind: "read",
    }),
    items: action<{ items: QueueItem[] }>()({
      input: z.strictObject({ mine: z.boolean().default(false), queue_key: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/).optional() }),
      kind: "read",
    }),
    enqueue: action<{ item_id: string; assigned_to: string | null; due_at: string; replayed: boolean }>()({
      input: z.strictObject({
        queue_key: z.string().regex(/^[a-z][a-z0-9_]{1,39}$/),
        source_type: z.string().regex(/^[a-z][a-z0-9_.]{1,59}$/),
        source_id: z.string().max(200).optional(),
        summary: note,
        priority: z.number().int().min(1).max(5).default(3),
        dedupe_key: z.string().min(1).max(200).optional(),
      }),
      kind: "write",
    }),
    close_item: action<{ item_id: string; status: "done" | "cancelled"; assigned_to: string | null }>()({
      input: z.strictObject({ item_id: z.guid(), status: z.enum(["done", "cancelled"]).default("done"), resolution: note.optional() }),
      kind: "write",
    }),
    shifts: action<{ shifts: Shift[] }>()({ input: z.strictObject({ from: when.optional(), to: when.optional() }), kind: "read" }),
    shift_add: action<{ shift_id: string; principal_id: string; starts_at: string; ends_at: string }>()({
      input: z.strictObject({ principal_id: z.guid(), starts_at: when, ends_at: when })
        .refine((s) => Date.parse(s.ends_at) > Date.parse(s.starts_at), { path: ["ends_at"], message: "A shift ends after it starts" }),
      kind: "write",
    }),
    shift_end: action<{ shift_id: string; ended_at: string; held: number; still_unassigned: number } & Rebalanced>()({
      input: z.strictObject({ shift_id: z.guid() }),
      kind: "write",
    }),
    coverage: action<{ gaps: Gap[] }>()({
      input: z.strictObject({ from: when.optional(), hours: z.number().int().min(1).max(744).default(24) }),
      kind: "read",
    }),
    rebalance: action<Rebalanced>()({ input: z.strictObject({ reason: note.optional() }), kind: "write" }),
    flag_coverage_gap: action<{ alerted: boolean }>()({
      input: z.strictObject({ queue_key: z.string().max(40), gap_start: when, gap_end: when, min_coverage: z.number().int() }),
      kind: "write",
    }),
  },
  events: ["workers.item.enqueued", "workers.item.closed", "workers.shift.ended", "workers.queues.rebalanced", "workers.coverage.gap"],
});
