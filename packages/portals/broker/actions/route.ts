import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { jsonb } from "../../../shared/db/client.ts";

/**
 * broker/route: a draft or open load's stops (appointment windows in each facility's own
 * time), equipment, weight and commodity (app_private.broker_load_route: route_locked once
 * tendered, stop_window_overlap / stops_out_of_sequence; event freight.load.routed).
 */
export const route = defineAction(contract.actions.route, {
  permission: "broker.route",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, { load_id, ...rest }) => {
    const [row] = await tx`select app_private.broker_load_route(${load_id}, ${jsonb(tx, rest)}) as lane`;
    return { writes: [], events: [], result: row.lane };
  },
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select count(*)::int as n from public.stops where load_id = ${r.load_id} and tenant_id = ${ctx.tenantId}`;
    const want = r.stops.length;
    return { ok: row.n === want, detail: `load ${r.load_id}: ${row.n} of ${want} stops routed` };
  },
});
