import { defineDetector } from "../../shared/pipeline/detector.ts";
import { escalateQuote } from "./actions/escalate-quote.ts";
import { flagStaleIndex } from "./actions/flag-stale-index.ts";

/** An index gone stale (no update in rates.indexStaleDays) raises an alert, once while open. */
export const staleIndex = defineDetector({
  portal: "rates",
  name: "stale_index",
  detect: async (tx, tenantId) => {
    const [r] = await tx`
      select max(ingested_at) as last, (public.flag_value('rates.indexStaleDays', ${tenantId}::uuid))::text::int as days,
             exists (select 1 from public.alerts where tenant_id = ${tenantId} and source = 'rates.index_stale'
                     and resolved_at is null) as open
      from public.rates_index where tenant_id = ${tenantId}`;
    const stale = !r.last || Date.now() - new Date(r.last).getTime() > r.days * 86_400_000;
    if (!stale || r.open) return [];
    return [{ action: flagStaleIndex, key: `stale-index:${tenantId}`, input: { last_ingested_at: r.last ? new Date(r.last).toISOString() : null, stale_days: r.days } }];
  },
});

/** Quotes waiting for approval past rates.approvalSlaMinutes are escalated. */
export const approvalSla = defineDetector({
  portal: "rates",
  name: "approval_sla",
  detect: async (tx, tenantId) => {
    const rows = await tx`
      select id from public.rates_quotes
      where tenant_id = ${tenantId} and status = 'needs_approval' and escalated_at is null
        and needs_approval_since < now() - make_interval(mins => (public.flag_value('rates.approvalSlaMinutes', ${tenantId}::uuid))::text::int)
      order by needs_approval_since limit 20`;
    return rows.map((r) => ({ action: escalateQuote, key: `escalate:${r.id}`, input: { quote_id: r.id } }));
  },
});


