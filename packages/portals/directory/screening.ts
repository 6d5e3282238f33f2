import type { Sql, Tx } from "../../shared/db/client.ts";
import type { Screening } from "./contract.ts";
import { bestHit, type Hit, type ListName } from "./domain/screen.ts";

/** The tenant's current sanctions list (the newest) with its SDN names and aliases, or null. */
export async function currentList(tx: Tx, tenantId: string): Promise<{ id: string; names: ListName[] } | null> {
  const [list] = await tx`select id from public.sanctions_lists where tenant_id = ${tenantId} order by loaded_at desc, id limit 1`;
  if (!list) return null;
  const names = await tx`select ent_num, kind, name from public.sanctions_names where list_id = ${list.id}`;
  return { id: list.id, names: names as unknown as ListName[] };
}

/** Scores a party's names against a list: the best hit (score 0 when the list names nothing close). */
export const screen = (names: string[], list: { names: ListName[] }): Hit =>
  bestHit(names, list.names) ?? { ent_num: 0, kind: "sdn", name: "", score: 0 };

/** Records the screening; Postgres decides the outcome from the tenant's thresholds (match: block, review: work item). */
export async function record(tx: Tx, partyId: string, listId: string, hit: Hit): Promise<Screening> {
  const [row] = await tx`select app_private.directory_screening_record(${partyId}, ${listId}, ${tx.json({ ...hit, score: Number(hit.score.toFixed(4)) })}) as r`;
  const r = row.r as { screening_id: string; outcome: Screening["outcome"]; block_id: string | null; score: number | string };
  return { screening_id: r.screening_id, party_id: partyId, list_id: listId, outcome: r.outcome, score: Number(r.score), block_id: r.block_id };
}

/** The screening's own event (ids, outcome, score; no names). */
export const screenedEvent = (s: Screening) => ({
  type: "directory.screening.recorded", aggregateType: "party", aggregateId: s.party_id,
  payload: { party_id: s.party_id, screening_id: s.screening_id, list_id: s.list_id, outcome: s.outcome, score: s.score, block_id: s.block_id },
});

/** Proves a screening: its row as answered, and a block active exactly when it matched. */
export async function proveScreening(sql: Sql, s: Screening) {
  const [row] = await sql`select s.outcome, b.cleared_at, b.reason from public.party_screenings s left join public.party_blocks b on b.id = s.block_id where s.id = ${s.screening_id}`;
  const ok = row?.outcome === s.outcome && (s.outcome !== "match" || (row.reason === "sanctions" && row.cleared_at === null));
  return { ok, detail: ok ? `party ${s.party_id} screened: ${s.outcome} (${s.score})` : `screening ${s.screening_id} not as answered` };
}
