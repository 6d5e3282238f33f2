import { contract, type PartyCreated } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { currentList, proveScreening, record, screen, screenedEvent } from "../screening.ts";

/**
 * directory/party_create: a party of the directory, screened against the tenant's current
 * sanctions list in the same transaction (its name and legal name; Jaro-Winkler scores here,
 * the outcome from the tenant's thresholds in Postgres): a match is blocked before anyone can
 * tender it or pay it. Events freight.party.created and directory.screening.recorded.
 */
export const partyCreate = defineAction(contract.actions.party_create, {
  permission: "directory.manage",
  detect: (tx, _input, ctx) => currentList(tx, ctx.tenantId),
  decide: (input, list) => ({ input, list, hit: list ? screen([input.name, input.legal_name ?? input.name], list) : null }),
  act: async (tx, d) => {
    const [row] = await tx`select app_private.directory_party_create(${tx.json(d.input)}) as id`;
    const screening = d.list && d.hit ? await record(tx, row.id, d.list.id, d.hit) : null;
    const result: PartyCreated = { party_id: row.id, screening };
    return { writes: [], result, events: screening ? [screenedEvent(screening)] : [] };
  },
  prove: async (sql, r) => {
    if (r.screening) return proveScreening(sql, r.screening);
    const [p] = await sql`select id from public.parties where id = ${r.party_id}`;
    return { ok: !!p, detail: p ? `party ${r.party_id} created (no sanctions list yet)` : `party ${r.party_id} missing` };
  },
});
