import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

const day = (d: Date | null) => (d === null ? null : d.toISOString().slice(0, 10));

/** carrier/fleet: the caller's company's drivers (document expiries) and units (party RLS), active ones (what dispatch picks from) or all. */
export const fleet = defineAction(contract.actions.fleet, {
  permission: "freight.carrier.read",
  detect: async (tx, input) => {
    const drivers = await tx`select id, name, status, cdl_expires_on, medical_card_expires_on from public.drivers
                             where carrier_party_id = any(app_private.party_ids('carrier')) and (${input.status} = 'all' or status = 'active')
                             order by name`;
    const units = await tx`select id, unit_number, kind, trailer_type, status from public.equipment
                           where carrier_party_id = any(app_private.party_ids('carrier')) and (${input.status} = 'all' or status = 'active')
                           order by kind, unit_number`;
    return { drivers, units };
  },
  decide: (_input, f) => f,
  act: (_tx, f) => ({
    writes: [],
    events: [],
    result: {
      drivers: f.drivers.map((d) => ({
        driver_id: d.id, name: d.name, status: d.status, cdl_expires_on: day(d.cdl_expires_on), medical_card_expires_on: day(d.medical_card_expires_on),
      })),
      equipment: f.units.map((u) => ({ unit_id: u.id, unit_number: u.unit_number, kind: u.kind, trailer_type: u.trailer_type, status: u.status })),
    },
  }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.drivers.length} drivers, ${r.equipment.length} units` }),
});
