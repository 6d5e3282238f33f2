import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";

/** directory/watchlist_set: puts a party on (listed true) or takes it off one of the tenant's own watchlists (RLS: directory.watchlist.write). */
export const watchlistSet = defineAction(contract.actions.watchlist_set, {
  permission: "directory.watchlist.write",
  detect: async (tx, input) => {
    const [p] = await tx`select id from public.parties where id = ${input.party_id}`;
    return !!p;
  },
  decide: (input, found) => {
    if (!found) throw new ActionRefused(refuse("not_found", { detail: "No such party in this tenant" }));
    return input;
  },
  act: (tx, d, ctx) => ({
    writes: [d.listed
      ? tx`insert into public.watchlist_entries (tenant_id, list_name, party_id, note) values (${ctx.tenantId}, ${d.list_name}, ${d.party_id}, ${d.note ?? null})
           on conflict (tenant_id, list_name, party_id) do update set note = excluded.note`
      : tx`delete from public.watchlist_entries where tenant_id = ${ctx.tenantId} and list_name = ${d.list_name} and party_id = ${d.party_id}`],
    result: { list_name: d.list_name, party_id: d.party_id, listed: d.listed },
    events: [{ type: "directory.watchlist.changed", aggregateType: "party", aggregateId: d.party_id, payload: { list_name: d.list_name, party_id: d.party_id, listed: d.listed } }],
  }),
  prove: async (sql, r) => {
    const [w] = await sql`select count(*)::int as n from public.watchlist_entries where list_name = ${r.list_name} and party_id = ${r.party_id}`;
    return { ok: (w.n === 1) === r.listed, detail: `party ${r.party_id} ${r.listed ? "on" : "off"} ${r.list_name}` };
  },
});
