import { contract, SECTIONS } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { slaPolicy } from "../domain/policy.ts";
import { ACCESSORIAL_COLUMNS, accessorial, EDI_COLUMNS, ediPartner, EQUIPMENT_COLUMNS, equipmentType, GUARD_COLUMNS, guard, LANE_COLUMNS, lane } from "../domain/rows.ts";

/** tms_admin/settings: every setting of the tenant (or one section), as the caller's RLS shows them. */
export const settings = defineAction(contract.actions.settings, {
  permission: "domain.read",
  detect: async (tx, input, ctx) => {
    const t = ctx.tenantId;
    const want = (s: (typeof SECTIONS)[number]) => !input.section || input.section === s;
    const rows = (s: (typeof SECTIONS)[number], q: () => PromiseLike<Record<string, unknown>[]>) => (want(s) ? q() : Promise.resolve([]));
    const [equipment_types, lanes, accessorials, guards, edi_partners, sla_policy] = await Promise.all([
      rows("equipment_types", () => tx`select ${tx.unsafe(EQUIPMENT_COLUMNS)} from public.tms_admin_equipment_types where tenant_id = ${t} order by code`),
      rows("lanes", () => tx`select ${tx.unsafe(LANE_COLUMNS)} from public.lanes where tenant_id = ${t} order by name`),
      rows("accessorials", () => tx`select ${tx.unsafe(ACCESSORIAL_COLUMNS)} from public.accessorials where tenant_id = ${t} order by code`),
      rows("guards", () => tx`select ${tx.unsafe(GUARD_COLUMNS)} from public.rates_guards where tenant_id = ${t} order by label, id`),
      rows("edi_partners", () => tx`select ${tx.unsafe(EDI_COLUMNS)} from public.tms_admin_edi_partners where tenant_id = ${t} order by isa_qualifier, isa_id`),
      want("sla_policy") ? slaPolicy(tx, t) : Promise.resolve([]),
    ]);
    return {
      equipment_types: equipment_types.map(equipmentType), lanes: lanes.map(lane), accessorials: accessorials.map(accessorial),
      guards: guards.map(guard), edi_partners: edi_partners.map(ediPartner), sla_policy,
    };
  },
  decide: (_input, facts) => facts,
  act: (_tx, result) => ({ writes: [], events: [], result }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.lanes.length} lanes, ${r.edi_partners.length} EDI partners` }),
});
