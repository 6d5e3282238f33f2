import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { jsonb } from "../../../shared/db/client.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import type { ContractUpsertInput } from "../domain/schemas.ts";

/** rates/contract_upsert: a contract lane rate with validity dates (beats spot inside them). */
export const contractUpsert = defineAction(contract.actions.contract_upsert, {
  permission: "rates.manage",
  detect: async (tx, input: ContractUpsertInput) => {
    if (!input.id) return null;
    const [row] = await tx`select id from public.rates_contracts where id = ${input.id}`;
    if (!row) throw new ActionRefused(refuse("not_found", { detail: "No such contract in this tenant" }));
    return row.id as string;
  },
  decide: (input, existing) => ({ ...input, id: existing ?? crypto.randomUUID(), created: existing === null }),
  act: (tx, c, ctx) => ({
    writes: [tx`
      insert into public.rates_contracts (id, tenant_id, customer_ref, origin, destination, equipment, rate,
                                          valid_from, valid_to, notes)
      values (${c.id}, ${ctx.tenantId}, ${c.customer_ref ?? null}, ${c.origin}, ${c.destination}, ${c.equipment},
              ${jsonb(tx, c.rate)}, ${c.valid_from}, ${c.valid_to}, ${c.notes ?? null})
      on conflict (id) do update set customer_ref = excluded.customer_ref, origin = excluded.origin,
        destination = excluded.destination, equipment = excluded.equipment, rate = excluded.rate,
        valid_from = excluded.valid_from, valid_to = excluded.valid_to, notes = excluded.notes, updated_at = now()`],
    result: { contract_id: c.id, created: c.created },
    events: [{
      type: "rates.contract.upserted",
      aggregateType: "rates_contract",
      aggregateId: c.id,
      payload: { contract_id: c.id, origin: c.origin, destination: c.destination, equipment: c.equipment,
                 valid_from: c.valid_from, valid_to: c.valid_to, created: c.created },
    }],
  }),
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select 1 from public.rates_contracts where id = ${r.contract_id} and tenant_id = ${ctx.tenantId}`;
    return { ok: !!row, detail: row ? `contract ${r.contract_id} stored` : `contract ${r.contract_id} missing` };
  },
});
