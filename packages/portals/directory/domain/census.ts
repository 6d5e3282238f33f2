import { CsvError, parseCsv } from "./csv.ts";

/**
 * The census file's header: the FMCSA carrier census fields the directory uses (insurance in
 * thousands of USD, as FMCSA reports bipdInsuranceOnFile / bipdInsuranceRequired).
 */
export const CENSUS_HEADER = [
  "dot_number", "mc_number", "legal_name", "allowed_to_operate", "authority_status",
  "insurance_on_file_thousands", "insurance_required_thousands", "safety_rating", "out_of_service_date",
] as const;

export interface CensusRow {
  dot_number: string;
  mc_number: string | null;
  allowed_to_operate: boolean;
  authority_status: "active" | "pending" | "inactive" | "revoked";
  insurance_on_file_cents: number;
  insurance_required_cents: number;
  safety_rating: "satisfactory" | "conditional" | "unsatisfactory" | "unrated";
  out_of_service_date: string | null;
}
export type CensusParse = { ok: true; rows: CensusRow[] } | { ok: false; line: number; message: string };

const AUTHORITY: Record<string, CensusRow["authority_status"]> = { A: "active", ACTIVE: "active", P: "pending", PENDING: "pending", I: "inactive", INACTIVE: "inactive", N: "inactive", NONE: "inactive", R: "revoked", REVOKED: "revoked" };
const RATING: Record<string, CensusRow["safety_rating"]> = { S: "satisfactory", SATISFACTORY: "satisfactory", C: "conditional", CONDITIONAL: "conditional", U: "unsatisfactory", UNSATISFACTORY: "unsatisfactory", "": "unrated", UNRATED: "unrated", N: "unrated" };
const YES_NO: Record<string, boolean> = { Y: true, YES: true, TRUE: true, N: false, NO: false, FALSE: false };

/** An HTML page (a maintenance or error page served in place of the file) is not census data. */
export const looksLikeHtml = (text: string) => /^\s*(<!doctype|<html|<head|<body|<\?xml|<)/i.test(text) || /<\/?(html|body|title)\b/i.test(text.slice(0, 4096));

const date = (s: string): string | null | undefined => {
  if (s === "") return null;
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s), us = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(s);
  const [y, m, d] = iso ? [iso[1], iso[2], iso[3]] : us ? [us[3], us[1], us[2]] : [];
  if (!y) return undefined;
  const v = `${y}-${m}-${d}`;
  return new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) === v ? v : undefined;
};
const thousands = (s: string) => (/^\d{1,7}$/.test(s) ? Number(s) * 100_000 : undefined);

/**
 * Parses a census file, all or nothing: an HTML page, a wrong header, and the first
 * malformed row (column count, DOT / MC not digits, an unknown flag, authority or rating
 * code, insurance not whole thousands, a bad date, a DOT number twice) refuse the batch.
 */
export function parseCensus(text: string): CensusParse {
  if (looksLikeHtml(text)) return { ok: false, line: 1, message: "an HTML page, not census data (the source may be down for maintenance)" };
  let records;
  try {
    records = parseCsv(text);
  } catch (e) {
    if (e instanceof CsvError) return { ok: false, line: e.line, message: e.message };
    throw e;
  }
  const [head, ...rows] = records;
  if (!head || head.fields.map((f) => f.trim().toLowerCase()).join(",") !== CENSUS_HEADER.join(",")) {
    return { ok: false, line: head?.line ?? 1, message: `the header is not ${CENSUS_HEADER.join(",")}` };
  }
  if (rows.length === 0) return { ok: false, line: 2, message: "no rows" };
  const out: CensusRow[] = [];
  const seen = new Set<string>();
  for (const { line, fields } of rows) {
    if (fields.length !== CENSUS_HEADER.length) return { ok: false, line, message: `${fields.length} columns, expected ${CENSUS_HEADER.length}` };
    const [dot, mc, _name, allowed, authority, onFile, required, rating, oos] = fields.map((f) => f.trim());
    const mcDigits = mc.replace(/^MC-?/i, "");
    const row = {
      dot_number: /^\d{1,8}$/.test(dot) ? dot : undefined,
      mc_number: mc === "" ? null : /^\d{1,8}$/.test(mcDigits) ? mcDigits : undefined,
      allowed_to_operate: YES_NO[allowed.toUpperCase()],
      authority_status: AUTHORITY[authority.toUpperCase()],
      insurance_on_file_cents: thousands(onFile),
      insurance_required_cents: thousands(required),
      safety_rating: RATING[rating.toUpperCase()],
      out_of_service_date: date(oos),
    };
    const bad = Object.entries(row).find(([, v]) => v === undefined);
    if (bad) return { ok: false, line, message: `${bad[0]} is malformed` };
    if (seen.has(dot)) return { ok: false, line, message: `DOT ${dot} appears twice` };
    seen.add(dot);
    out.push(row as CensusRow);
  }
  return { ok: true, rows: out };
}

/** Why a census row bars a carrier (authority, then insurance), or null. */
export function censusLapse(r: Pick<CensusRow, "allowed_to_operate" | "authority_status" | "insurance_on_file_cents" | "insurance_required_cents">):
  { reason: "authority" | "insurance"; note: string } | null {
  if (!r.allowed_to_operate || r.authority_status !== "active") {
    return { reason: "authority", note: `FMCSA census: authority ${r.authority_status}, ${r.allowed_to_operate ? "" : "not "}allowed to operate` };
  }
  if (r.insurance_on_file_cents < r.insurance_required_cents) {
    return { reason: "insurance", note: `FMCSA census: insurance on file ${r.insurance_on_file_cents / 100} USD is below the ${r.insurance_required_cents / 100} USD required` };
  }
  return null;
}
