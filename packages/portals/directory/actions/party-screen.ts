import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { currentList, proveScreening, record, screen, screenedEvent } from "../screening.ts";
import { sanctionsClear } from "./sanctions-clear.ts";

/**
 * directory/party_screen (staff, and the rescreening agent after a new list): screens one
 * party's names (name, legal name, its KYC legal name) against the current list, SDN names
 * and aliases alike. A match writes a sanctions party block (no tender, no payment); the
 * review band raises a work item (directory.screening.review_requested). Reversible: the
 * undo is sanctions_clear, a human's act with a reason.
 */
export const partyScreen = defineAction(contract.actions.party_screen, {
  permission: "directory.manage",
  detect: async (tx, input, ctx) => {
    const [p] = await tx`select p.name, p.legal_name, k.legal_name as kyc_name from public.parties p
                         left join public.kyc_records k on k.party_id = p.id where p.id = ${input.party_id}`;
    return { party: p ?? null, list: await currentList(tx, ctx.tenantId) };
  },
  decide: (input, f) => {
    if (!f.party) throw new ActionRefused(refuse("not_found", { detail: "No such party in this tenant" }));
    if (!f.list) throw new ActionRefused(refuse("conflict", { detail: "The tenant has no sanctions list loaded" }));
    const names = [f.party.name, f.party.legal_name, f.party.kyc_name].filter((n): n is string => !!n);
    return { party_id: input.party_id, list_id: f.list.id, hit: screen(names, f.list) };
  },
  act: async (tx, d) => {
    const s = await record(tx, d.party_id, d.list_id, d.hit);
    return { writes: [], result: s, events: [screenedEvent(s)] };
  },
  prove: (sql, r) => proveScreening(sql, r),
  reverse: { action: sanctionsClear, input: ({ result }) => ({ block_id: result.block_id, clear_reason: "agent sanctions screening reverted" }) },
});
