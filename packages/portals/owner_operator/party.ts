import type { Tx } from "../../shared/db/client.ts";
import { refuse } from "../../shared/http/outcome.ts";
import { ActionRefused } from "../../shared/pipeline/run.ts";

/**
 * The owner operator a read is for: the one named (staff), else the caller's own carrier
 * party. A carrier user naming another party reads nothing (party RLS).
 */
export async function ownerOperatorOf(tx: Tx, named: string | undefined): Promise<string> {
  const [m] = named ? [{ party: named }] : await tx`select (app_private.party_ids('carrier'))[1] as party`;
  const party = m.party as string | null;
  if (!party) throw new ActionRefused(refuse("validation_failed", { detail: "Name the owner operator (carrier_party_id): you act for no carrier party" }));
  return party;
}
