import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { EQUIPMENT_COLUMNS, equipmentType } from "../domain/rows.ts";
import { provedRow } from "../proofs.ts";

/**
 * tms_admin/equipment_type_upsert: one entry of the tenant's equipment catalogue, by code.
 * Deactivating a type an active lane uses is refused in Postgres (equipment_type_in_use).
 */
export const equipmentTypeUpsert = defineAction(contract.actions.equipment_type_upsert, {
  permission: "tms_admin.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, e, ctx) => {
    const [row] = await tx`
      insert into public.tms_admin_equipment_types (tenant_id, code, name, length_ft, max_weight_lbs, temperature_controlled, active)
      values (${ctx.tenantId}, ${e.code}, ${e.name}, ${e.length_ft ?? null}, ${e.max_weight_lbs ?? null},
              ${e.temperature_controlled ?? false}, ${e.active ?? true})
      on conflict (tenant_id, code) do update set name = excluded.name, length_ft = excluded.length_ft,
        max_weight_lbs = excluded.max_weight_lbs, temperature_controlled = excluded.temperature_controlled,
        active = excluded.active, updated_at = now()
      returning ${tx.unsafe(EQUIPMENT_COLUMNS)}, (xmax = 0) as created`;
    const t = equipmentType(row);
    return {
      writes: [],
      result: { equipment_type: t, created: row.created },
      events: [{ type: "tms_admin.equipment_type.upserted", aggregateType: "equipment_type", aggregateId: t.id,
                 payload: { equipment_type_id: t.id, code: t.code, active: t.active, created: row.created } }],
    };
  },
  prove: (sql, r, ctx) => provedRow(sql, "public.tms_admin_equipment_types", r.equipment_type, ctx),
});
