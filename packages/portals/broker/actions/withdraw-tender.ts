import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";

/**
 * broker/withdraw_tender: takes an unanswered offer back (the core's freight_tender_cancel;
 * the load reopens when no offer is left). The undo of retender: refused with
 * revert_state_changed once the carrier answered, or when the re-tender offered nobody.
 */
export const withdrawTender = defineAction(contract.actions.withdraw_tender, {
  permission: "freight.tender.offer",
  detect: async (tx, input) => {
    if (!input.tender_id) return null;
    const [t] = await tx`select id, status from public.tenders where id = ${input.tender_id}`;
    return t ?? null;
  },
  decide: (input, t) => {
    if (!input.tender_id) throw new ActionRefused(refuse("revert_state_changed", { detail: "The re-tender offered no carrier; an expiry is not undone" }));
    if (!t) throw new ActionRefused(refuse("not_found", { detail: "No such tender in this tenant" }));
    if (t.status !== "offered") throw new ActionRefused(refuse("revert_state_changed", { detail: `The tender is ${t.status} now` }));
    return { tenderId: t.id as string, reason: input.reason ?? "withdrawn" };
  },
  act: async (tx, d) => {
    const [row] = await tx`select app_private.freight_tender_cancel(${d.tenderId}, ${d.reason}) as status`;
    const [l] = await tx`select l.status from public.loads l join public.tenders t on t.load_id = l.id where t.id = ${d.tenderId}`;
    return { writes: [], events: [], result: { tender_id: d.tenderId, status: row.status, load_status: l.status } };
  },
  prove: async (sql, r) => {
    const [t] = await sql`select status from public.tenders where id = ${r.tender_id}`;
    return { ok: t?.status === "cancelled", detail: `tender ${r.tender_id} ${t?.status}` };
  },
});
