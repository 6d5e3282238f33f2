import { jsonb, type Tx } from "../../../shared/db/client.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { sha256Hex } from "../../../shared/util/encoding.ts";
import { contract, type ReceiveResult } from "../contract.ts";
import { acknowledge, build997, type GroupPlan, plan, type SetOutcome } from "../domain/ack.ts";
import type { Load204 } from "../domain/sets.ts";
import { type OutboundSet, parseInterchange } from "../domain/x12.ts";
import { queueInterchange } from "./outbound.ts";

interface Received {
  interchange_id: string;
  partner_id: string | null;
  state: string;
  reason?: string;
  duplicate_of?: string;
  ack_interchange_id?: string | null;
  outcomes?: (SetOutcome & { load_id?: string })[][];
}

/**
 * edi/receive: one inbound interchange (the gateway's HMAC v2 call, ?tenant=). Postgres
 * stores it raw, decides duplicates and applies each sound set (edi_receive); then, in the
 * same transaction, the 997 for its groups and a 990 for each 204 it booked are generated
 * and queued in the partner's mailbox with the partner's next control numbers.
 */
export const receive = defineAction(contract.actions.receive, {
  permission: "edi.receive",
  detect: () => Promise.resolve(null),
  decide: (input) => {
    const parsed = parseInterchange(input.interchange);
    return { raw: input.interchange, parsed, groups: parsed.ok ? plan(parsed.interchange) : [] as GroupPlan[] };
  },
  act: async (tx, d) => {
    const p = d.parsed;
    const h = p.ok ? p.interchange : p.header;
    const header = { sender_qualifier: h.senderQualifier ?? null, sender_id: h.senderId ?? null, receiver_qualifier: h.receiverQualifier ?? null, receiver_id: h.receiverId ?? null, control: h.control ?? null };
    const [row] = await tx`select app_private.edi_receive(${jsonb(tx, {
      raw: d.raw, sha256: await sha256Hex(d.raw), header, rejection: p.ok ? null : p.rejection, groups: d.groups,
    })}) as r`;
    const r = row.r as Received;
    const result: ReceiveResult = {
      interchange_id: r.interchange_id, state: r.state, duplicate_of: r.duplicate_of ?? null,
      rejection: p.ok ? (r.reason === "envelope" ? { code: "009", note: "the receiver id is not ours for this partner" } : null) : p.rejection,
      ack_interchange_id: r.ack_interchange_id ?? null, ack: null, replies: [], sets: [],
    };
    if (r.reason === "edi_partner_unknown") result.rejection = { code: "006", note: `unknown trading partner ${header.sender_qualifier}/${header.sender_id}` };
    if (!r.outcomes || !r.partner_id) return { writes: [], events: [], result };

    const acks = acknowledge(d.groups, r.outcomes);
    result.sets = d.groups.flatMap((g, gi) => g.sets.map((s, si) => {
      const out = r.outcomes![gi]?.[si];
      const ack = acks.find((a) => a.control === g.control && a.functional_id === g.functional_id)?.sets[si];
      return { set_id: s.set_id, control: s.control, state: out?.state ?? "rejected", ack: ack?.status ?? "-", load_id: out?.load_id ?? null, error: out?.message ?? s.note };
    }));
    if (acks.length) {
      const q = await queueInterchange(tx, r.partner_id, "997", acks.length, (controls) => build997(acks, controls), r.interchange_id);
      result.ack_interchange_id = q.id;
      result.ack = q.raw;
    }
    // a 990 (accepted) for each 204 original booked
    const booked = d.groups.flatMap((g, gi) => g.sets.flatMap((s, si) => {
      const out = r.outcomes![gi]?.[si];
      return s.set_id === "204" && out?.state === "applied" && (s.data as Load204).purpose === "original" ? [{ load: s.data as Load204, loadId: out.load_id! }] : [];
    }));
    if (booked.length) {
      const refs = await loadRefs(tx, booked.map((b) => b.loadId));
      const q = await queueInterchange(tx, r.partner_id, "990", booked.length, (controls, at) =>
        booked.map((b, i): OutboundSet => ({
          setId: "990", control: controls[i], loadId: b.loadId,
          segments: [["B1", [b.load.scac ?? "", b.load.shipment_id, at.toISOString().slice(0, 10).replaceAll("-", ""), "A"]], ["N9", ["CN", refs.get(b.loadId) ?? ""]]],
        })), r.interchange_id);
      result.replies.push(q.id);
    }
    return { writes: [], events: [], result };
  },
  prove: async (sql, r) => {
    // the interchange is stored in the state we answered, with one row per set we reported
    const [row] = await sql`select i.state, (select count(*)::int from public.edi_transactions t where t.interchange_id = i.id) as sets
                            from public.edi_interchanges i where i.id = ${r.interchange_id}`;
    return { ok: row?.state === r.state && row.sets === r.sets.length, detail: `interchange ${r.state}, ${r.sets.length} sets` };
  },
});

async function loadRefs(tx: Tx, ids: string[]): Promise<Map<string, string>> {
  const rows = await tx`select id, reference from public.loads where id = any(${ids}::uuid[])`;
  return new Map(rows.map((x) => [x.id as string, x.reference as string]));
}
