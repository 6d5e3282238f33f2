import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { EDI_COLUMNS, ediPartner } from "../domain/rows.ts";
import { provedRow } from "../proofs.ts";

/**
 * tms_admin/edi_partner_upsert: a trading partner's EDI configuration, by party. Postgres
 * refuses a party that is not an active shipper or carrier (edi_partner_not_eligible), an
 * interchange id another partner has (edi_interchange_taken) and a credential_ref naming no
 * Vault secret (edi_credential_missing). The event carries ids and settings, no credentials.
 */
export const ediPartnerUpsert = defineAction(contract.actions.edi_partner_upsert, {
  permission: "tms_admin.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, p, ctx) => {
    const [row] = await tx`
      insert into public.tms_admin_edi_partners (tenant_id, party_id, isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id,
                                                 our_gs_id, transaction_sets, usage, transport, credential_ref, ack_window_minutes, active)
      values (${ctx.tenantId}, ${p.party_id}, ${p.isa_qualifier}, ${p.isa_id}, ${p.gs_id}, ${p.our_isa_qualifier}, ${p.our_isa_id},
              ${p.our_gs_id}, ${p.transaction_sets}::text[], ${p.usage}, ${p.transport ?? "as2"}, ${p.credential_ref ?? null},
              ${p.ack_window_minutes ?? 60}, ${p.active ?? true})
      on conflict on constraint tms_admin_edi_partners_party_unique do update set isa_qualifier = excluded.isa_qualifier,
        isa_id = excluded.isa_id, gs_id = excluded.gs_id, our_isa_qualifier = excluded.our_isa_qualifier,
        our_isa_id = excluded.our_isa_id, our_gs_id = excluded.our_gs_id, transaction_sets = excluded.transaction_sets,
        usage = excluded.usage, transport = excluded.transport, credential_ref = excluded.credential_ref,
        ack_window_minutes = excluded.ack_window_minutes, active = excluded.active
      returning ${tx.unsafe(EDI_COLUMNS)}, (xmax = 0) as created`;
    const out = ediPartner(row);
    return {
      writes: [],
      result: { edi_partner: out, created: row.created },
      events: [{ type: "tms_admin.edi_partner.upserted", aggregateType: "edi_partner", aggregateId: out.id,
                 payload: { edi_partner_id: out.id, party_id: out.party_id, transaction_sets: out.transaction_sets, usage: out.usage,
                            transport: out.transport, active: out.active, created: row.created } }],
    };
  },
  prove: (sql, r, ctx) => provedRow(sql, "public.tms_admin_edi_partners", r.edi_partner, ctx),
});
