import { contract, type ServiceStatus } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ownerOperatorOf } from "../party.ts";

const day = (d: Date | null) => (d === null ? null : d.toISOString().slice(0, 10));

/** owner_operator/maintenance: each unit's service intervals (last service, due day and miles, overdue) and its blocks. */
export const maintenance = defineAction(contract.actions.maintenance, {
  permission: "owner_operator.read",
  detect: async (tx, input) => {
    const party = await ownerOperatorOf(tx, input.carrier_party_id);
    const status = await tx`select * from public.owner_operator_service_status where carrier_party_id = ${party} order by unit_id, service_kind`;
    const blocks = await tx`select id, unit_id, reason, set_at, cleared_at from public.owner_operator_unit_blocks
                            where carrier_party_id = ${party} order by set_at desc limit 100`;
    return { status, blocks };
  },
  decide: (_input, f) => f,
  act: (_tx, f) => ({
    writes: [],
    events: [],
    result: {
      status: f.status.map((s): ServiceStatus => ({
        interval_id: s.interval_id, unit_id: s.unit_id, service_kind: s.service_kind, every_miles: s.every_miles, every_days: s.every_days,
        last_on: day(s.last_on)!, last_miles: Number(s.last_miles), odometer_miles: Number(s.odometer_miles), due_on: day(s.due_on),
        due_miles: s.due_miles === null ? null : Number(s.due_miles), overdue: s.overdue,
      })),
      blocks: f.blocks.map((b) => ({
        block_id: b.id, unit_id: b.unit_id, reason: b.reason, set_at: new Date(b.set_at).toISOString(), cleared_at: b.cleared_at ? new Date(b.cleared_at).toISOString() : null,
      })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.status.length} intervals, ${r.status.filter((s) => s.overdue).length} overdue` }),
});
