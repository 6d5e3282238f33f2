import { type Compliance, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { carrierOf } from "../party.ts";
import { coveredUntil, REQUIRED_KINDS } from "../domain/compliance.ts";

const day = (d: Date | null) => (d === null ? null : d.toISOString().slice(0, 10));

/**
 * carrier/compliance: the company's authority (status, allowed to operate, safety rating,
 * out of service), its insurance certificates (amount in cents, validity, the uploaded
 * document), its blocks (active and cleared: who cleared them is kept, why is shown) and
 * whether it may be tendered today. Party RLS: a carrier user reads its own only.
 */
export const compliance = defineAction(contract.actions.compliance, {
  permission: "freight.carrier.read",
  detect: async (tx, input, ctx) => {
    const party = await carrierOf(tx, input.carrier_party_id);
    const [p] = await tx`select id from public.parties where id = ${party} and kind = 'carrier'`;
    const [profile] = await tx`select authority_status, allowed_to_operate, safety_rating, out_of_service from public.carrier_profiles where party_id = ${party}`;
    const insurance = await tx`select id, kind, amount_cents, currency, effective_on, expires_on, document_id from public.carrier_insurance
                               where party_id = ${party} order by kind, expires_on desc`;
    const blocks = await tx`select id, reason, note, set_at, cleared_at, clear_reason from public.party_blocks
                            where party_id = ${party} order by set_at desc limit 50`;
    return { party, found: !!p, profile, insurance, blocks, today: ctx.now.toISOString().slice(0, 10) };
  },
  decide: (_input, f) => {
    if (!f.found) throw new ActionRefused(refuse("not_found", { detail: "No such carrier visible to you" }));
    return f;
  },
  act: (_tx, f) => {
    const insurance = f.insurance.map((i) => ({
      insurance_id: i.id, kind: i.kind, amount_cents: Number(i.amount_cents), currency: i.currency,
      effective_on: day(i.effective_on)!, expires_on: day(i.expires_on)!, document_id: i.document_id,
    }));
    const authority = f.profile
      ? { status: f.profile.authority_status, allowed_to_operate: f.profile.allowed_to_operate, safety_rating: f.profile.safety_rating, out_of_service: f.profile.out_of_service }
      : null;
    const blocks = f.blocks.map((b) => ({
      block_id: b.id, reason: b.reason, note: b.note, set_at: new Date(b.set_at).toISOString(),
      cleared_at: b.cleared_at && new Date(b.cleared_at).toISOString(), clear_reason: b.clear_reason,
    }));
    const tenderable = !!authority && authority.status === "active" && authority.allowed_to_operate && !authority.out_of_service &&
      blocks.every((b) => b.cleared_at !== null) && REQUIRED_KINDS.every((k) => coveredUntil(insurance, k, f.today) !== null);
    const result: Compliance = { carrier_party_id: f.party, authority, insurance, blocks, tenderable };
    return { writes: [], events: [], result };
  },
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `carrier ${r.carrier_party_id} ${r.tenderable ? "tenderable" : "not tenderable"}` }),
});
