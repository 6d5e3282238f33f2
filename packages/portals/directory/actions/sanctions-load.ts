import { contract, type ListLoaded } from "../contract.ts";
import { defineAction } from "../../../shared/pipeline/action.ts";
import { refuse } from "../../../shared/http/outcome.ts";
import { ActionRefused } from "../../../shared/pipeline/run.ts";
import { sha256Hex } from "../../../shared/util/encoding.ts";
import { parseSdn } from "../domain/sdn.ts";

/**
 * directory/sanctions_load: an SDN-shaped list (sdn.csv, alt.csv, add.csv as text), all or
 * nothing: a broken row refuses the batch (sanctions_file_invalid, with file and line),
 * Postgres re-checks the join on ent_num and writes the list in one transaction. Every party
 * is then unscreened against it: the directory agent rescreens them (detectors.ts).
 */
export const sanctionsLoad = defineAction(contract.actions.sanctions_load, {
  permission: "directory.manage",
  detect: () => Promise.resolve(null),
  decide: (input) => {
    const parsed = parseSdn({ sdn: input.sdn_csv, alt: input.alt_csv, add: input.add_csv });
    if (!parsed.ok) {
      throw new ActionRefused(refuse("sanctions_file_invalid", { detail: `${parsed.file}.csv line ${parsed.line}: ${parsed.message}`, file: parsed.file, line: parsed.line }));
    }
    return { source: input.source, files: [input.sdn_csv, input.alt_csv, input.add_csv].join("\u0000"), ...parsed.list };
  },
  act: async (tx, { files, ...list }) => {
    const d = { ...list, sha256: await sha256Hex(files) };
    const [row] = await tx`select app_private.directory_sanctions_load(${tx.json(d)}) as id`;
    const result: ListLoaded = { list_id: row.id, sha256: d.sha256, entries: d.sdn.length, aliases: d.aliases.length, addresses: d.addresses.length };
    return {
      writes: [], result,
      events: [{ type: "directory.sanctions_list.loaded", aggregateType: "sanctions_list", aggregateId: row.id, payload: { ...result } }],
    };
  },
  prove: async (sql, r) => {
    const [n] = await sql`select count(*) filter (where kind = 'sdn')::int as sdn, count(*) filter (where kind = 'alias')::int as alias
                          from public.sanctions_names where list_id = ${r.list_id}`;
    const ok = n.sdn === r.entries && n.alias === r.aliases;
    return { ok, detail: ok ? `list ${r.list_id}: ${r.entries} entries, ${r.aliases} aliases` : `list ${r.list_id} holds ${n.sdn}/${n.alias}` };
  },
});
