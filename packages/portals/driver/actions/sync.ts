import { contract, type SyncAnswer } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import type { Tx } from "../../../shared/db/client.ts";

/** The one SQL call of a batch (app_private.driver_sync). */
export async function syncBatch(tx: Tx, deviceId: string, events: unknown[]): Promise<SyncAnswer> {
  const [row] = await tx`select app_private.driver_sync(${deviceId}, ${tx.json(events as never)}) as r`;
  return row.r as SyncAnswer;
}

/**
 * driver/sync: a phone's offline batch, applied in ONE database call (app_private.driver_sync):
 * each event recorded once by its client uuid (a resent batch answers duplicate and changes
 * nothing), applied in device-sequence order (a gap holds the rest until the predecessor
 * comes), each in its own subtransaction, answered per event: applied / duplicate / rejected
 * with a catalogue code / superseded / held. Only a bad envelope refuses the whole batch.
 */
export const sync = defineAction(contract.actions.sync, {
  permission: "driver.sync",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => ({ writes: [], events: [], result: await syncBatch(tx, d.device_id, d.events) }),
  prove: async (sql, r) => {
    // every event the answer says was applied is recorded as applied
    const applied = r.results.filter((x) => x.status === "applied").map((x) => x.client_event_id!);
    const [n] = applied.length
      ? await sql`select count(*)::int as n from public.driver_sync_events where client_event_id = any(${applied}::uuid[]) and state = 'applied'`
      : [{ n: 0 }];
    return { ok: n.n === applied.length, detail: `${applied.length} applied of ${r.results.length}` };
  },
});
