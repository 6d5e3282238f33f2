import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * autonomous/quarantine_release: a human releases a quarantined tenant, subscription or
 * detector, with a reason (kept on the row and in its audit entry). Postgres decides
 * (app_private.quarantine_release: quarantine.release in the quarantine's tenant, humans
 * only, once); a subscription's parked events go back to pending for it alone.
 */
export const quarantineRelease = defineAction(contract.actions.quarantine_release, {
  permission: "quarantine.release",
  humansOnly: "Quarantines are released by humans",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [q] = await tx`select id, kind, subject, released_at, released_by_name, release_detail
                         from app_private.quarantine_release(${d.quarantine_id}, ${d.reason})`;
    const requeued = Number(q.release_detail?.requeued ?? 0);
    return {
      writes: [],
      result: { quarantine_id: q.id, kind: q.kind, subject: q.subject, released_at: new Date(q.released_at).toISOString(), released_by: q.released_by_name, requeued },
      // The reason stays in the audit log: free text is kept out of outbox payloads.
      events: [{ type: "autonomous.quarantine.released", aggregateType: "quarantine", aggregateId: q.id, payload: { kind: q.kind, subject: q.subject, requeued } }],
    };
  },
  prove: async (sql, r) => {
    const [row] = await sql`select released_at from public.quarantines where id = ${r.quarantine_id}`;
    return { ok: !!row?.released_at, detail: `quarantine ${r.quarantine_id} ${row?.released_at ? "released" : "still open"}` };
  },
});
