import type { Tx } from "../db/client.ts";
import type { AnyAction } from "./action.ts";

/** Work a detector found: run `action` with `input` (validated by the action's schema). */
export interface Task {
  action: AnyAction;
  input: unknown;
  /** Stable key of the work (the concurrency lease holder), e.g. "escalate:<quote id>". */
  key: string;
}

/**
 * The Detect half of the agent path: reads a tenant's state (as the agents principal,
 * under RLS) and returns the tasks the agents execute through the same actions humans call.
 */
export interface Detector {
  portal: string;
  name: string;
  detect: (tx: Tx, tenantId: string, now: Date) => Promise<Task[]>;
}

export const defineDetector = (d: Detector): Detector => d;
