import { type CensusImported, contract } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { sha256Hex } from "../../../shared/util/encoding.ts";
import { parseCensus } from "../domain/census.ts";

/**
 * directory/census_import: FMCSA-shaped carrier census rows (CSV with the CENSUS_HEADER),
 * all or nothing: an HTML page served in place of the file, or the first malformed row,
 * refuses the batch (census_file_invalid, with its line) before Postgres sees a row. The rows
 * are applied to the tenant's carriers by DOT number (carrier_census and the carrier
 * profile: authority, allowed to operate, rating, out of service) in one transaction; the
 * directory agent then blocks carriers whose authority or insurance lapsed (detectors.ts).
 */
export const censusImport = defineAction(contract.actions.census_import, {
  permission: "directory.safety.import",
  detect: () => Promise.resolve(null),
  decide: (input) => {
    const parsed = parseCensus(input.csv);
    if (!parsed.ok) throw new ActionRefused(refuse("census_file_invalid", { detail: `line ${parsed.line}: ${parsed.message}`, line: parsed.line }));
    return { csv: input.csv, rows: parsed.rows };
  },
  act: async (tx, d) => {
    const [row] = await tx`select app_private.directory_census_apply(${tx.json(d.rows as unknown as Parameters<typeof tx.json>[0])}, ${await sha256Hex(d.csv)}) as r`;
    const result = row.r as CensusImported;
    return {
      writes: [], result,
      events: [{ type: "directory.census.imported", aggregateType: "census_import", aggregateId: result.import_id, payload: { ...result } }],
    };
  },
  prove: async (sql, r) => {
    const [n] = await sql`select count(*)::int as n from public.carrier_census where import_id = ${r.import_id}`;
    return { ok: n.n === r.applied, detail: `census ${r.import_id}: ${n.n} of ${r.rows} rows applied (${r.unknown} name no carrier)` };
  },
});
