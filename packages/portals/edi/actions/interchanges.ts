import { defineAction } from "../../../shared/pipeline/action.ts";
import { contract } from "../contract.ts";

/** edi/interchanges: the human view, newest first: state, duplicate of, envelope errors, each set's errors by segment / element. */
export const interchanges = defineAction(contract.actions.interchanges, {
  permission: "edi.read",
  detect: async (tx, input, ctx) => {
    const rows = await tx`
      select i.id, i.partner_id, i.direction, i.control_number, i.functional_id, i.state, i.duplicate_of, i.related_id, i.errors, i.sha256, i.created_at,
             coalesce((select jsonb_agg(jsonb_build_object('set_id', t.set_id, 'control', t.control_number, 'state', t.state,
                              'load_id', t.load_id, 'ack_status', t.ack_status, 'errors', t.errors) order by t.group_control, t.control_number)
                       from public.edi_transactions t where t.interchange_id = i.id), '[]') as sets
      from public.edi_interchanges i
      where i.tenant_id = ${ctx.tenantId} and (${input.state ?? null}::text is null or i.state = ${input.state ?? null})
      order by i.created_at desc limit ${input.limit}`;
    return rows.map((r) => ({ ...r }));
  },
  decide: (_input, facts) => ({ interchanges: facts }),
  act: (_tx, result) => ({ writes: [], events: [], result }),
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.interchanges.length} interchanges` }),
});
