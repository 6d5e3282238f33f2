import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ACCESSORIAL_COLUMNS, accessorial } from "../domain/rows.ts";
import { provedRow } from "../proofs.ts";

/**
 * tms_admin/accessorial_upsert: an entry of the accessorial catalogue (the core's
 * public.accessorials), by code, its default rate in integer cents. Charge lines keep naming
 * a retired entry, so entries are deactivated (`active: false`), never deleted.
 */
export const accessorialUpsert = defineAction(contract.actions.accessorial_upsert, {
  permission: "tms_admin.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => input,
  act: async (tx, a, ctx) => {
    const [row] = await tx`
      insert into public.accessorials (tenant_id, code, name, unit, default_rate_cents, currency, active)
      values (${ctx.tenantId}, ${a.code}, ${a.name}, ${a.unit ?? "flat"}, ${a.default_rate_cents ?? null}, ${a.currency ?? "USD"}, ${a.active ?? true})
      on conflict on constraint accessorials_code_unique do update set name = excluded.name, unit = excluded.unit,
        default_rate_cents = excluded.default_rate_cents, currency = excluded.currency, active = excluded.active
      returning ${tx.unsafe(ACCESSORIAL_COLUMNS)}, (xmax = 0) as created`;
    const out = accessorial(row);
    return {
      writes: [],
      result: { accessorial: out, created: row.created },
      events: [{ type: "freight.accessorial.upserted", aggregateType: "accessorial", aggregateId: out.id,
                 payload: { accessorial_id: out.id, source_portal: "tms_admin", code: out.code, default_rate_cents: out.default_rate_cents,
                            currency: out.currency, active: out.active, created: row.created } }],
    };
  },
  prove: (sql, r, ctx) => provedRow(sql, "public.accessorials", r.accessorial, ctx),
});
