import { type Changes, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * driver/changes: what changed for the calling driver since its cursor (loads and stops
 * assigned to it, one no longer assigned: removed) and the next cursor
 * (app_private.driver_changes_since over public.driver_changes).
 */
export const changes = defineAction(contract.actions.changes, {
  permission: "freight.driver.read",
  detect: async (tx, input) => {
    const [row] = await tx`select app_private.driver_changes_since(${input.cursor}, ${input.limit}) as r`;
    return row.r as Changes;
  },
  decide: (_input, c) => c,
  act: (_tx, c) => ({ writes: [], events: [], result: { ...c, cursor: Number(c.cursor) } }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.loads.length} loads, ${r.stops.length} stops to cursor ${r.cursor}` }),
});
