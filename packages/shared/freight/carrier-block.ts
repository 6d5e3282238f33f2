import type { Tx } from "../db/client.ts";
import { refuse } from "../http/outcome.ts";
import { ActionRefused } from "../pipeline/run.ts";

export interface CarrierBlockState {
  found: boolean;
  /** The carrier's open block of this reason, if any. */
  active: string | null;
}

/** Detect for an action that blocks a carrier for a reason (party_blocks, the core's). */
export async function carrierBlockState(tx: Tx, carrierPartyId: string, reason: string): Promise<CarrierBlockState> {
  const [p] = await tx`select id from public.parties where id = ${carrierPartyId} and kind = 'carrier'`;  // layout: not a portal name (the party kind)
  const [b] = await tx`select id from public.party_blocks where party_id = ${carrierPartyId} and reason = ${reason} and cleared_at is null`;
  return { found: !!p, active: (b?.id as string | undefined) ?? null };
}

/** Decide's refusals: no such carrier; already blocked for the reason (the undo clears the block: it must be this action's own). */
export function requireBlockable(f: CarrierBlockState, reason: string): void {
  if (!f.found) throw new ActionRefused(refuse("not_found", { detail: "No such carrier in this tenant" }));
  if (f.active) throw new ActionRefused(refuse("conflict", { detail: `The carrier is already blocked for ${reason} (block ${f.active})` }));
}
