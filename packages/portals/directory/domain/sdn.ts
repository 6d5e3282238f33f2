import { CsvError, parseCsv } from "./csv.ts";

/** OFAC's null marker in the SDN files. */
const NULL = "-0-";
const value = (s: string | undefined): string | null => {
  const t = (s ?? "").trim();
  return t === "" || t === NULL ? null : t;
};
const int = (s: string | undefined): number | null => (/^\s*\d{1,9}\s*$/.test(s ?? "") ? Number(s) : null);

export interface SdnList {
  sdn: { ent_num: number; name: string; sdn_type: string | null; program: string | null }[];
  aliases: { ent_num: number; alt_num: number; name: string; line: number }[];
  addresses: { ent_num: number; add_num: number; address: string | null; city: string | null; country: string | null; line: number }[];
}
export type SdnFile = "sdn" | "alt" | "add";
export type SdnParse = { ok: true; list: SdnList } | { ok: false; file: SdnFile; line: number; message: string };

/** The columns of OFAC's sdn.csv, alt.csv and add.csv (no header row). */
const COLUMNS: Record<SdnFile, number> = { sdn: 12, alt: 5, add: 6 };

/**
 * Parses the three files of an SDN-shaped list, all or nothing: the first broken row (not
 * CSV, wrong column count, an entity or sequence number that is not an integer, a missing
 * name, a duplicate entity, an alias or address naming no SDN entity) is returned with its
 * file and line.
 */
export function parseSdn(files: { sdn: string; alt?: string; add?: string }): SdnParse {
  const rows = {} as Record<SdnFile, { line: number; fields: string[] }[]>;
  for (const f of ["sdn", "alt", "add"] as const) {
    try {
      rows[f] = parseCsv(files[f] ?? "");
    } catch (e) {
      if (e instanceof CsvError) return { ok: false, file: f, line: e.line, message: e.message };
      throw e;
    }
    const bad = rows[f].find((r) => r.fields.length !== COLUMNS[f]);
    if (bad) return { ok: false, file: f, line: bad.line, message: `${bad.fields.length} columns, ${f}.csv has ${COLUMNS[f]}` };
  }
  if (rows.sdn.length === 0) return { ok: false, file: "sdn", line: 1, message: "the SDN file has no entries" };
  const list: SdnList = { sdn: [], aliases: [], addresses: [] };
  const seen = new Set<number>();
  for (const { line, fields: [ent, name, type, program] } of rows.sdn) {
    const ent_num = int(ent);
    const n = value(name);
    if (ent_num === null) return { ok: false, file: "sdn", line, message: `ent_num "${ent}" is not an integer` };
    if (n === null) return { ok: false, file: "sdn", line, message: "the SDN name is missing" };
    if (seen.has(ent_num)) return { ok: false, file: "sdn", line, message: `ent_num ${ent_num} appears twice` };
    seen.add(ent_num);
    list.sdn.push({ ent_num, name: n, sdn_type: value(type), program: value(program) });
  }
  const joined = (file: SdnFile, line: number, ent: string, seq: string) => {
    const e = int(ent), s = int(seq);
    if (e === null || s === null) return { error: { ok: false as const, file, line, message: "ent_num and the sequence number are integers" } };
    if (!seen.has(e)) return { error: { ok: false as const, file, line, message: `ent_num ${e} is not in the SDN file` } };
    return { e, s };
  };
  for (const { line, fields: [ent, alt, _type, name] } of rows.alt) {
    const j = joined("alt", line, ent, alt);
    if ("error" in j) return j.error!;
    const n = value(name);
    if (n === null) return { ok: false, file: "alt", line, message: "the alias name is missing" };
    list.aliases.push({ ent_num: j.e!, alt_num: j.s!, name: n, line });
  }
  for (const { line, fields: [ent, add, address, city, country] } of rows.add) {
    const j = joined("add", line, ent, add);
    if ("error" in j) return j.error!;
    list.addresses.push({ ent_num: j.e!, add_num: j.s!, address: value(address), city: value(city), country: value(country), line });
  }
  return { ok: true, list };
}
