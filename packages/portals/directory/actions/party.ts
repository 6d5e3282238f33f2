import { contract, type PartyFile } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

/** directory/party: a party's file: blocks (who cleared and why), screenings, KYC, census, watchlists. */
export const party = defineAction(contract.actions.party, {
  permission: "directory.read",
  detect: async (tx, input) => {
    const [p] = await tx`select id, kind, status from public.parties where id = ${input.party_id}`;
    if (!p) return null;
    const [blocks, screenings, [kyc], [census], lists] = await Promise.all([
      tx`select id, reason, note, set_at, cleared_at, clear_reason from public.party_blocks where party_id = ${p.id} order by set_at desc limit 50`,
      tx`select id, list_id, outcome, score, ent_num, matched_kind, screened_at from public.party_screenings where party_id = ${p.id} order by screened_at desc limit 20`,
      tx`select legal_name, ein, w9_document_id, beneficial_owners from public.kyc_records where party_id = ${p.id}`,
      tx`select dot_number, allowed_to_operate, authority_status, insurance_on_file_cents, insurance_required_cents, safety_rating, out_of_service_date::text
         from public.carrier_census where party_id = ${p.id}`,
      tx`select list_name from public.watchlist_entries where party_id = ${p.id} order by list_name`,
    ]);
    return { p, blocks, screenings, kyc, census, lists };
  },
  decide: (_input, f) => {
    if (!f) throw new ActionRefused(refuse("not_found", { detail: "No such party in this tenant" }));
    return f;
  },
  act: (_tx, f) => {
    const result: PartyFile = {
      party_id: f.p.id, kind: f.p.kind, status: f.p.status,
      blocks: f.blocks.map((b) => ({ block_id: b.id, reason: b.reason, note: b.note, set_at: iso(b.set_at)!, cleared_at: iso(b.cleared_at), clear_reason: b.clear_reason })),
      screenings: f.screenings.map((s) => ({ screening_id: s.id, list_id: s.list_id, outcome: s.outcome, score: Number(s.score), ent_num: s.ent_num, matched_kind: s.matched_kind, screened_at: iso(s.screened_at)! })),
      kyc: f.kyc ? { legal_name: f.kyc.legal_name, ein: f.kyc.ein, w9_document_id: f.kyc.w9_document_id, beneficial_owners: f.kyc.beneficial_owners } : null,
      census: f.census
        ? { ...f.census, insurance_on_file_cents: Number(f.census.insurance_on_file_cents), insurance_required_cents: Number(f.census.insurance_required_cents) } as PartyFile["census"]
        : null,
      watchlists: f.lists.map((l) => l.list_name as string),
    };
    return { writes: [], events: [], result };
  },
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `party ${r.party_id}: ${r.blocks.filter((b) => !b.cleared_at).length} active blocks` }),
});
