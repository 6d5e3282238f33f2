import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { carrierOf, evented } from "../party.ts";

/**
 * carrier/insurance_submit: records an insurance certificate (kind, amount in cents,
 * validity) referencing its bytes, uploaded first through the documents function as an
 * insurance_certificate of the carrier (app_private.carrier_insurance_submit:
 * insurance_document_invalid otherwise). Event freight.insurance.recorded.
 */
export const insuranceSubmit = defineAction(contract.actions.insurance_submit, {
  permission: "carrier.compliance.write",
  detect: (tx, input) => carrierOf(tx, input.carrier_party_id),
  decide: (input, party) => ({ ...input, party }),
  act: async (tx, d) => {
    const { party, carrier_party_id: _named, ...cert } = d;
    const [row] = await tx`select app_private.carrier_insurance_submit(${party}, ${tx.json(cert)}) as r`;
    return { writes: [], events: [], result: { ...row.r, amount_cents: Number(row.r.amount_cents) } };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select amount_cents, document_id from public.carrier_insurance where id = ${r.insurance_id}`;
    const ok = Number(row?.amount_cents) === r.amount_cents && row.document_id === r.document_id &&
      await evented(sql, ctx.traceId, "freight.insurance.recorded", r.insurance_id);
    return { ok, detail: ok ? `insurance ${r.insurance_id} recorded` : `insurance ${r.insurance_id} not as answered` };
  },
});
