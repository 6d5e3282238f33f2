import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * directory/kyc_upsert: a party's KYC record (legal name, EIN, address, W-9 document,
 * beneficial owners). Postgres checks the W-9 is a w9 document of that party and the owners'
 * shares (app_private.directory_kyc_upsert). Event directory.kyc.updated (ids only: KYC is PII).
 */
export const kycUpsert = defineAction(contract.actions.kyc_upsert, {
  permission: "directory.kyc.write",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, { party_id, ...kyc }) => {
    const [row] = await tx`select app_private.directory_kyc_upsert(${party_id}, ${tx.json(kyc)}) as id`;
    return {
      writes: [], result: { kyc_id: row.id as string, party_id },
      events: [{ type: "directory.kyc.updated", aggregateType: "party", aggregateId: party_id, payload: { party_id, kyc_id: row.id, w9_on_file: !!kyc.w9_document_id } }],
    };
  },
  prove: async (sql, r) => {
    const [k] = await sql`select party_id from public.kyc_records where id = ${r.kyc_id}`;
    return { ok: k?.party_id === r.party_id, detail: `KYC ${r.kyc_id} of party ${r.party_id}` };
  },
});
