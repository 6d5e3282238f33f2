import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { guardRow, invertedLimits, setsALimit } from "../domain/guards.ts";
import { GUARD_COLUMNS, guard } from "../domain/rows.ts";
import { provedRow } from "../proofs.ts";

/**
 * tms_admin/guard_upsert: a Rates pricing guard (public.rates_guards, rates.manage under
 * RLS; its row audit records before and after under this trace). Money in integer cents
 * here, Rates' dollar columns there (domain/guards.ts). A floor above its ceiling, or a
 * guard that sets no limit, is refused.
 */
export const guardUpsert = defineAction(contract.actions.guard_upsert, {
  permission: "tms_admin.manage",
  detect: async (tx, input) => {
    if (!input.id) return null;
    const [row] = await tx`select id from public.rates_guards where id = ${input.id}`;
    if (!row) throw new ActionRefused(refuse("not_found", { detail: "No such guard in this tenant" }));
    return row.id as string;
  },
  decide: (input, existing) => {
    const errors = [
      ...invertedLimits(input).map((path) => ({ path, message: "The floor is above its ceiling" })),
      ...(setsALimit(input) ? [] : [{ path: "min_margin_pct", message: "A guard sets at least one limit" }]),
    ];
    if (errors.length) throw new ActionRefused(refuse("validation_failed", { detail: "The guard's limits do not hold", errors }));
    return { ...input, id: existing ?? crypto.randomUUID(), created: existing === null, row: guardRow(input) };
  },
  act: async (tx, g, ctx) => {
    const [row] = await tx`
      insert into public.rates_guards (id, tenant_id, label, equipment, origin, destination, min_margin_pct, max_index_deviation_pct,
                                       floor_total, ceiling_total, floor_per_mile, ceiling_per_mile)
      values (${g.id}, ${ctx.tenantId}, ${g.label}, ${g.equipment ?? null}, ${g.origin ?? null}, ${g.destination ?? null},
              ${g.row.min_margin_pct}, ${g.row.max_index_deviation_pct}, ${g.row.floor_total}, ${g.row.ceiling_total},
              ${g.row.floor_per_mile}, ${g.row.ceiling_per_mile})
      on conflict (id) do update set label = excluded.label, equipment = excluded.equipment, origin = excluded.origin,
        destination = excluded.destination, min_margin_pct = excluded.min_margin_pct,
        max_index_deviation_pct = excluded.max_index_deviation_pct, floor_total = excluded.floor_total,
        ceiling_total = excluded.ceiling_total, floor_per_mile = excluded.floor_per_mile, ceiling_per_mile = excluded.ceiling_per_mile
      returning ${tx.unsafe(GUARD_COLUMNS)}`;
    const out = guard(row);
    const { id: _id, label: _label, ...limits } = out;
    return {
      writes: [],
      result: { guard: out, created: g.created },
      events: [{ type: "tms_admin.guard.upserted", aggregateType: "rates_guard", aggregateId: out.id,
                 payload: { guard_id: out.id, created: g.created, ...limits } }],
    };
  },
  prove: (sql, r, ctx) => provedRow(sql, "public.rates_guards", { id: r.guard.id, label: r.guard.label, origin: r.guard.origin } as { id: string }, ctx),
});
