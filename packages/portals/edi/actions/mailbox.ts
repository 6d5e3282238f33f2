import { defineAction } from "../../../shared/pipeline/action.ts";
import { contract, type MailboxFile } from "../contract.ts";

/** edi/mailbox: the partner's outbound files (997, 990, 214), oldest first, marked picked up. */
export const mailbox = defineAction(contract.actions.mailbox, {
  permission: "edi.receive",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, d) => {
    const rows = await tx`select id, control_number, functional_id, raw, sha256 from app_private.edi_mailbox_take(${d.partner_id}, ${d.limit})`;
    // (UPDATE ... RETURNING keeps no order: ours are numbered in the order they were queued)
    const files: MailboxFile[] = rows.map((x) => ({ interchange_id: x.id, control_number: x.control_number, functional_id: x.functional_id, raw: x.raw, sha256: x.sha256 }))
      .sort((a, b) => a.control_number.localeCompare(b.control_number));
    return { writes: [], events: [], result: { files } };
  },
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.files.length} files picked up` }),
});
