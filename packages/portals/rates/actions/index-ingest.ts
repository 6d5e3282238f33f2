import { contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { jsonb } from "../../../shared/db/client.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { parseIndexCsv } from "../domain/csv.ts";
import { locate } from "../domain/geo.ts";


/**
 * rates/index_ingest: a CSV of market index rates, validated row by row; one bad line
 * refuses the whole file (every bad line reported), nothing is written.
 */
export const indexIngest = defineAction(contract.actions.index_ingest, {
  permission: "rates.manage",
  detect: () => Promise.resolve(null),
  decide: (i) => {
    const parsed = parseIndexCsv(i.csv);
    if (!parsed.ok) {
      throw new ActionRefused(refuse("validation_failed", {
        detail: `${parsed.error_count} line(s) of the CSV failed validation; nothing was applied`,
        errors: parsed.errors.map((e) => ({ path: `line ${e.line}${e.path ? `: ${e.path}` : ""}`, line: e.line, message: e.message })),
      }));
    }
    return parsed.rows.map((r) => ({
      ...r,
      origin_region: locate(r.origin_zip3)!.region,
      destination_region: locate(r.destination_zip3)!.region,
      sample_size: r.sample_size ?? null,
    }));
  },
  act: (tx, rows, ctx) => ({
    // One statement for the whole file; a re-sent row (same lane, date, source) is updated.
    writes: [tx`
      insert into public.rates_index (tenant_id, origin_zip3, destination_zip3, origin_region, destination_region,
                                      equipment, rate_per_mile, sample_size, effective_date, source, trace_id)
      select ${ctx.tenantId}, origin_zip3, destination_zip3, origin_region, destination_region, equipment,
             rate_per_mile, sample_size, effective_date, source, ${ctx.traceId}
      from jsonb_to_recordset(${jsonb(tx, rows)}::jsonb) as x(origin_zip3 text, destination_zip3 text,
        origin_region text, destination_region text, equipment text, rate_per_mile numeric, sample_size int,
        effective_date date, source text)
      on conflict on constraint rates_index_row_unique do update
        set rate_per_mile = excluded.rate_per_mile, sample_size = excluded.sample_size,
            ingested_at = now(), trace_id = excluded.trace_id`],
    result: { rows: rows.length },
    events: [{
      type: "rates.index.ingested",
      aggregateType: "rates_index",
      aggregateId: ctx.tenantId,
      payload: { rows: rows.length, sources: [...new Set(rows.map((r) => r.source))] },
    }],
    audit: { action: "rates.index_ingest", targetType: "rates_index", targetId: ctx.tenantId, after: { rows: rows.length } },
  }),
  prove: async (sql, r, ctx) => {
    const [row] = await sql`select count(*)::int as n from public.rates_index where tenant_id = ${ctx.tenantId} and trace_id = ${ctx.traceId}`;
    return { ok: row.n === r.rows, detail: `${row.n} of ${r.rows} index rows stored` };
  },
});
