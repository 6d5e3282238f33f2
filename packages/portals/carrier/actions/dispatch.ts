import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { evented } from "../party.ts";

/**
 * carrier/dispatch: assigns its driver, tractor and (optionally) trailer to a load it covers
 * -> dispatched (the core's freight_load_dispatch). Postgres refuses another carrier's
 * driver or unit (foreign_asset), a blocked or inactive one (asset_blocked), a driver whose
 * CDL or medical card is not valid on the pickup day (driver_documents_expired), a blocked
 * carrier (party_blocked) and a load that is not covered (illegal_transition).
 */
export const dispatch = defineAction(contract.actions.dispatch, {
  permission: "freight.dispatch",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_load_dispatch(${d.load_id}, ${d.driver_id}, ${d.tractor_id}, ${d.trailer_id ?? null}) as r`;
    return { writes: [], events: [], result: row.r };
  },
  prove: async (sql, r, ctx) => {
    const [l] = await sql`select status, driver_id, tractor_id from public.loads where id = ${r.load_id}`;
    const ok = l?.driver_id === r.driver_id && l.tractor_id === r.tractor_id && await evented(sql, ctx.traceId, "freight.load.dispatched", r.load_id);
    return { ok, detail: ok ? `load ${r.load_id} dispatched` : `load ${r.load_id} is ${l?.status}` };
  },
});
