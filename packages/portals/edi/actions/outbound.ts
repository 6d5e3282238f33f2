import { jsonb, type Tx } from "../../../shared/db/client.ts";
import { sha256Hex } from "../../../shared/util/encoding.ts";
import { FUNCTIONAL_ID, generateInterchange, type OutboundSet } from "../domain/x12.ts";

/**
 * Generates an outbound interchange of `setId` sets to the partner and queues it in the
 * partner's mailbox, in the caller's transaction: the control numbers (edi_control_next) are
 * taken and the interchange recorded (edi_outbound_record) together, so they are gap-free.
 */
export async function queueInterchange(
  tx: Tx, partnerId: string, setId: string, count: number,
  build: (controls: number[], at: Date) => OutboundSet[], relatedId: string | null = null,
): Promise<{ id: string; raw: string }> {
  const [n] = await tx`select app_private.edi_control_next(${partnerId}, ${count}) as n`;
  const [pt] = await tx`select isa_qualifier, isa_id, gs_id, our_isa_qualifier, our_isa_id, our_gs_id, usage from public.tms_admin_edi_partners where id = ${partnerId}`;
  const at = new Date();
  const sets = build(n.n.st as number[], at);
  const raw = generateInterchange({
    senderQualifier: pt.our_isa_qualifier, senderId: pt.our_isa_id, receiverQualifier: pt.isa_qualifier, receiverId: pt.isa_id,
    senderGs: pt.our_gs_id, receiverGs: pt.gs_id, usage: pt.usage === "production" ? "P" : "T", isaControl: n.n.isa, gsControl: n.n.gs, at,
  }, sets);
  const [rec] = await tx`select app_private.edi_outbound_record(${partnerId}, ${jsonb(tx, {
    raw, sha256: await sha256Hex(raw), control: String(n.n.isa), functional_id: FUNCTIONAL_ID[setId], group_control: String(n.n.gs),
    related_id: relatedId, sets: sets.map((s) => ({ set_id: s.setId, control: String(s.control), load_id: s.loadId ?? null })),
  })}) as id`;
  return { id: rec.id as string, raw };
}
