import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";

/**
 * broker/message: a message on a load to its shipper and / or carrier, one row per
 * recipient and one outbox event freight.message.sent each (ids only: the text never leaves
 * the table; the relay delivers the event to the subscribed channels).
 */
export const message = defineAction(contract.actions.message, {
  permission: "broker.message",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const [row] = await tx`select app_private.broker_message_send(${d.load_id}, ${d.to}::text[], ${d.body}) as r`;
    return { writes: [], events: [], result: { messages: row.r } };
  },
  prove: async (sql, r) => {
    const ids = r.messages.map((m) => m.message_id);
    const [row] = await sql`select count(*)::int as n from public.load_messages where id = any(${ids}::uuid[]) and status = 'sent'`;
    return { ok: row.n === ids.length, detail: `${row.n} of ${ids.length} messages sent` };
  },
});
