import type { Tx } from "../../shared/db/client.ts";
import { refuse } from "../../shared/http/outcome.ts";
import { ActionRefused } from "../../shared/pipeline/run.ts";

/**
 * The carrier an action is for: the one named, else the caller's own carrier party. Naming
 * another carrier is refused in Postgres (freight_require_party) or not visible (party RLS).
 */
export async function carrierOf(tx: Tx, named: string | undefined): Promise<string> {
  const [m] = named ? [{ party: named }] : await tx`select (app_private.party_ids('carrier'))[1] as party`;
  const party = m.party as string | null;
  if (!party) throw new ActionRefused(refuse("validation_failed", { detail: "Name the carrier (carrier_party_id): you act for no carrier party" }));
  return party;
}

/** One trace's outbox event of a type on an aggregate (what a write action's proof checks). */
export async function evented(tx: Tx | import("../../shared/db/client.ts").Sql, traceId: string, type: string, aggregateId: string): Promise<boolean> {
  const [e] = await tx`select exists (select 1 from public.outbox_events where trace_id = ${traceId} and event_type = ${type}
                                        and aggregate_id = ${aggregateId}) as ok`;
  return e.ok === true;
}
