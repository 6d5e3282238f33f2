import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { answerCode, type CatalogueCode, catalogueEntry } from "../../../shared/http/catalogue.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { syncBatch } from "./sync.ts";

/**
 * driver/status: one status update with signal (arrived, loaded, departed, unloaded at a
 * stop): a batch of one on the device "online" with the request's idempotency key as its
 * client id, so it takes exactly the sync's path (the core's 214 transition, the conflict
 * rules); a refusal is the problem (driver_stop_not_assigned 404, illegal_transition 409...).
 */
export const status = defineAction(contract.actions.status, {
  permission: "driver.sync",
  detect: async (tx) => {
    const [s] = await tx`select coalesce(max(applied_seq), 0)::bigint + 1 as next from public.driver_devices
                          where device_id = 'online' and driver_id = any(app_private.party_ids('driver'))`;
    return Number(s.next);
  },
  decide: (input, next, ctx) => ({
    client_event_id: crypto.randomUUID(),
    client_at: input.at ?? ctx.now.toISOString(),
    device_seq: next,
    kind: input.kind,
    stop_id: input.stop_id,
    payload: input.note ? { note: input.note } : {},
  }),
  act: async (tx, event) => {
    const answer = await syncBatch(tx, "online", [event]);
    const r = answer.results[0];
    if (r.status === "rejected") {
      // (a reason is a catalogue code; anything else the database raised is an internal error)
      const code = catalogueEntry(r.reason ?? "") ? answerCode(r.reason as CatalogueCode) : "internal_error";
      throw new ActionRefused(refuse(code, { detail: String(r.detail?.message ?? r.reason) }));
    }
    return { writes: [], events: [], result: r };
  },
  prove: async (sql, r) => {
    const [e] = await sql`select state from public.driver_sync_events where client_event_id = ${r.client_event_id}`;
    return { ok: e?.state === r.status, detail: `event ${r.client_event_id} ${e?.state}` };
  },
});
