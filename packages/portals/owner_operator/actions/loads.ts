import { contract, type OwnerOperatorLoad } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { perMile } from "../domain/statement.ts";
import { ownerOperatorOf } from "../party.ts";

/**
 * owner_operator/loads: the owner operator's loads (party RLS on loads), each with its pay
 * (its buy charge lines: the carrier side only, never the sell rate), its recorded miles,
 * revenue per mile and the settlement it is on; totals over them.
 */
export const loads = defineAction(contract.actions.loads, {
  permission: "owner_operator.read",
  detect: async (tx, input) => {
    const party = await ownerOperatorOf(tx, input.carrier_party_id);
    return await tx`
      select l.id, l.reference, l.status, coalesce(sum(c.amount_cents), 0)::bigint as revenue, coalesce(min(c.currency), 'USD') as currency,
             m.loaded_miles, m.empty_miles,
             (select s.number from public.owner_operator_settlement_lines sl join public.owner_operator_settlements s on s.id = sl.settlement_id
              where sl.load_id = l.id) as settlement_number
      from public.loads l
      left join public.charge_lines c on c.load_id = l.id and c.side = 'buy' and c.party_id = l.carrier_party_id
      left join public.owner_operator_load_miles m on m.load_id = l.id
      where l.carrier_party_id = ${party} and (${input.status} = 'all' or l.status in ('delivered', 'completed'))
      group by l.id, m.loaded_miles, m.empty_miles
      order by l.created_at desc limit 500`;
  },
  decide: (_input, rows) => rows,
  act: (_tx, rows) => {
    const list = rows.map((r): OwnerOperatorLoad => {
      const revenue = Number(r.revenue);
      const miles = r.loaded_miles === null ? 0 : r.loaded_miles + r.empty_miles;
      return {
        load_id: r.id, reference: r.reference, status: r.status, revenue_cents: revenue, currency: r.currency,
        loaded_miles: r.loaded_miles, empty_miles: r.empty_miles, revenue_per_mile_cents: perMile(revenue, miles), settlement_number: r.settlement_number,
      };
    });
    const revenue = list.reduce((a, l) => a + l.revenue_cents, 0);
    // per mile over the loads with miles only (a load without miles would lower it falsely)
    const withMiles = list.filter((l) => l.loaded_miles !== null);
    const miles = withMiles.reduce((a, l) => a + l.loaded_miles! + (l.empty_miles ?? 0), 0);
    const milesRevenue = withMiles.reduce((a, l) => a + l.revenue_cents, 0);
    return { writes: [], events: [], result: { loads: list, totals: { revenue_cents: revenue, miles, revenue_per_mile_cents: perMile(milesRevenue, miles) } } };
  },
  prove: (_sql, r) => Promise.resolve({ ok: true, detail: `${r.loads.length} loads` }),
});
