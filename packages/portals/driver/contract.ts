import { z } from "zod";
import { action, defineContract, revertContract } from "../../shared/pipeline/contract.ts";

/** A stop as its driver sees it: where, when, what happened (no money, no other party's data). */
export interface DriverStop {
  stop_id: string;
  load_id: string;
  reference: string;
  load_status: string;
  sequence: number;
  kind: "pickup" | "delivery";
  facility: { name: string; city: string | null; region: string | null; postal_code: string | null; time_zone: string };
  window_start: string;
  window_end: string;
  actual_arrival_at: string | null;
  actual_departure_at: string | null;
  pod_document_id: string | null;
}

/** What happened to one event of a batch. */
export interface SyncResult {
  index: number;
  client_event_id: string | null;
  status: "applied" | "duplicate" | "rejected" | "superseded" | "held";
  /** rejected: a problem code of the catalogue; superseded: already_reported. */
  reason?: string;
  detail?: Record<string, unknown>;
  /** duplicate: the fate it had when first recorded. */
  first?: string;
}

export interface SyncAnswer {
  device_id: string;
  /** Every event of the device up to this sequence has been dealt with; later ones wait (held). */
  applied_seq: number;
  results: SyncResult[];
  counts: Partial<Record<SyncResult["status"], number>>;
}

export interface Changes {
  cursor: number;
  more: boolean;
  loads: { load_id: string; removed: boolean; status: string | null; exception: boolean | null; reference: string | null }[];
  stops: { stop_id: string; load_id: string; sequence: number; kind: string; window_start: string; window_end: string; facility_id: string; actual_arrival_at: string | null; actual_departure_at: string | null }[];
}

export const eventKinds = ["arrived", "loaded", "departed", "unloaded", "pod", "position"] as const;

/**
 * One event as the phone records it offline. Documentation and the client's type: sync takes
 * each event as it comes and validates it in Postgres, so one malformed event is answered
 * `rejected` by itself instead of refusing the batch.
 */
export const syncEvent = z.strictObject({
  client_event_id: z.guid(),
  client_at: z.iso.datetime({ offset: true }),
  device_seq: z.number().int().min(1),
  kind: z.enum(eventKinds),
  stop_id: z.guid().optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
});
export type SyncEvent = z.infer<typeof syncEvent>;

const deviceId = z.string().min(1).max(100).regex(/^[\x21-\x7e]+$/, "Visible ASCII, no spaces");
const reason = z.string().trim().min(1).max(500);

/**
 * The Driver portal (a driver's phone): the stops of the loads assigned to the driver, status
 * at each stop (214 codes through the core), POD, position pings; an offline batch sync that
 * answers per event, and a delta feed. Its agents flag an ETA slipping past a window and ask
 * the dispatcher for a POD that is missing a day after delivery.
 */
export const contract = defineContract("driver", {
  actions: {
    ...revertContract,
    stops: action<{ stops: DriverStop[] }>()({
      input: z.strictObject({ status: z.enum(["active", "all"]).default("active") }),
      kind: "read",
    }),
    /** One status update online: a batch of one, its refusal answered as a problem. */
    status: action<SyncResult>()({
      input: z.strictObject({
        stop_id: z.guid(),
        kind: z.enum(["arrived", "loaded", "departed", "unloaded"]),
        at: z.iso.datetime({ offset: true }).optional(),
        note: z.string().max(500).optional(),
      }),
      kind: "write",
    }),
    sync: action<SyncAnswer>()({
      input: z.strictObject({ device_id: deviceId, events: z.array(z.unknown()).min(1).max(5000) }),
      kind: "write",
    }),
    changes: action<Changes>()({
      input: z.strictObject({ cursor: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(500) }),
      kind: "read",
    }),
    flag_eta_risk: action<{ load_id: string; stop_id: string; reason: string; eta: string }>()({
      input: z.strictObject({ load_id: z.guid(), stop_id: z.guid(), reason, eta: z.iso.datetime({ offset: true }) }),
      kind: "write",
    }),
    clear_eta_risk: action<{ load_id: string; exception: boolean }>()({
      input: z.strictObject({ load_id: z.guid(), reason }),
      kind: "write",
    }),
    pod_missing: action<{ load_id: string; delivered_at: string; task_event_id: string }>()({
      input: z.strictObject({ load_id: z.guid(), delivered_at: z.iso.datetime({ offset: true }) }),
      kind: "write",
    }),
    pod_missing_withdraw: action<{ load_id: string; withdrawn: boolean }>()({
      input: z.strictObject({ load_id: z.guid(), task_event_id: z.guid() }),
      kind: "write",
    }),
  },
  events: [
    "freight.load.arrived_at_pickup", "freight.load.picked_up", "freight.load.in_transit", "freight.load.arrived_at_delivery",
    "freight.load.delivered", "freight.load.completed", "freight.load.event_recorded", "driver.pod.captured",
    "driver.eta.at_risk", "driver.eta.cleared", "driver.pod_missing", "driver.pod_missing.withdrawn",
  ],
});
