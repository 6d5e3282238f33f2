import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { LANE_COLUMNS, lane } from "../domain/rows.ts";
import { provedRow } from "../proofs.ts";

/**
 * tms_admin/lane_upsert: a lane of the tenant (the freight core's public.lanes), by name.
 * Its equipment type must be active in the tenant's catalogue (equipment_type_inactive, a
 * trigger: every door). Event freight.lane.upserted (source_portal tms_admin).
 */
export const laneUpsert = defineAction(contract.actions.lane_upsert, {
  permission: "tms_admin.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, l, ctx) => {
    const [row] = await tx`
      insert into public.lanes (tenant_id, name, origin_city, origin_region, destination_city, destination_region, equipment_type, miles, active)
      values (${ctx.tenantId}, ${l.name}, ${l.origin_city ?? null}, ${l.origin_region}, ${l.destination_city ?? null},
              ${l.destination_region}, ${l.equipment_type}, ${l.miles ?? null}, ${l.active ?? true})
      on conflict on constraint lanes_name_unique do update set origin_city = excluded.origin_city,
        origin_region = excluded.origin_region, destination_city = excluded.destination_city,
        destination_region = excluded.destination_region, equipment_type = excluded.equipment_type,
        miles = excluded.miles, active = excluded.active
      returning ${tx.unsafe(LANE_COLUMNS)}, (xmax = 0) as created`;
    const out = lane(row);
    return {
      writes: [],
      result: { lane: out, created: row.created },
      events: [{ type: "freight.lane.upserted", aggregateType: "lane", aggregateId: out.id,
                 payload: { lane_id: out.id, source_portal: "tms_admin", equipment_type: out.equipment_type, active: out.active, created: row.created } }],
    };
  },
  prove: (sql, r, ctx) => provedRow(sql, "public.lanes", r.lane, ctx),
});
