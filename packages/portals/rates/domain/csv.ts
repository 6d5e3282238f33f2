import type { z } from "zod";
import { issuePath } from "../../../shared/http/problems.ts";
import { INDEX_COLUMNS, type IndexRow, indexRowSchema, REQUIRED_INDEX_COLUMNS } from "./schemas.ts";

/**
 * CSV ingestion, all or nothing: every record is validated, every bad line is reported
 * (line numbers are 1-based physical lines; the header is line 1), and rows are returned
 * only when there is no error at all. Parsing follows RFC 4180: comma separator, fields
 * optionally in double quotes with "" for a quote, line breaks inside quotes allowed,
 * CRLF or LF line ends, a UTF-8 BOM ignored, blank lines skipped.
 */

/** `path` is the column name ("" for the whole line), so errors fit validation_failed. */
export interface CsvError {
  line: number;
  path: string;
  message: string;
}

export type CsvResult<T> =
  | { ok: true; rows: T[] }
  | { ok: false; errors: CsvError[]; /** Total, when `errors` was capped. */ error_count: number };

export interface CsvRecord {
  /** Line the record starts on. */
  line: number;
  fields: string[];
}

/** Splits text into records; syntax errors (stray or unterminated quotes) are collected. */
export function parseCsvRecords(text: string): { records: CsvRecord[]; errors: CsvError[] } {
  const records: CsvRecord[] = [];
  const errors: CsvError[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    let field = "";
    let bad: string | null = null;
    for (;;) {
      if (src[i] === '"' && field === "") {
        // Quoted field: runs to the next lone quote.
        let closed = false;
        for (i++; i < src.length; i++) {
          if (src[i] === '"') {
            if (src[i + 1] === '"') {
              field += '"';
              i++;
            } else {
              closed = true;
              i++;
              break;
            }
          } else {
            if (src[i] === "\n") line++;
            field += src[i];
          }
        }
        if (!closed) bad ??= "Unterminated quoted field";
        else if (i < src.length && src[i] !== "," && src[i] !== "\n" && src[i] !== "\r") bad ??= "Text after a closing quote";
      }
      while (i < src.length && src[i] !== "," && src[i] !== "\n" && src[i] !== "\r") {
        if (src[i] === '"') bad ??= "Quote inside an unquoted field";
        field += src[i++];
      }
      fields.push(field);
      field = "";
      if (src[i] === ",") {
        i++;
        continue;
      }
      break; // end of line or input
    }
    if (src[i] === "\r") i++;
    if (src[i] === "\n") i++;
    line++;
    if (bad) errors.push({ line: start, path: "", message: bad });
    else if (!(fields.length === 1 && fields[0].trim() === "")) records.push({ line: start, fields });
  }
  return { records, errors };
}

export interface CsvSchemaOptions<T> {
  requiredColumns: readonly string[];
  /** All columns the schema knows; any other header is an error (catches typos). */
  knownColumns: readonly string[];
  /** Rows with the same key are duplicates; the later line is reported. */
  uniqueKey?: (row: T) => string;
  maxErrors?: number;
}

/** Parses and validates a CSV with a header row against a zod row schema. */
export function parseCsv<T>(text: string, schema: z.ZodType<T>, options: CsvSchemaOptions<T>): CsvResult<T> {
  const { records, errors } = parseCsvRecords(text);
  const [header, ...body] = records;
  if (!header) return fail([...errors, { line: 1, path: "", message: "CSV is empty: expected a header row" }], options.maxErrors);

  const columns = header.fields.map((c) => c.trim().toLowerCase());
  const headerError = (message: string) => errors.push({ line: header.line, path: "", message });
  columns.forEach((c, at) => {
    if (!options.knownColumns.includes(c)) headerError(`Unknown column "${c}"`);
    else if (columns.indexOf(c) !== at) headerError(`Duplicate column "${c}"`);
  });
  for (const c of options.requiredColumns) if (!columns.includes(c)) headerError(`Missing column "${c}"`);
  if (body.length === 0) headerError("CSV has no data rows");
  // Rows read against a wrong header would only repeat the header's errors.
  if (errors.some((e) => e.line === header.line)) return fail(errors, options.maxErrors);

  const rows: T[] = [];
  const seen = new Map<string, number>();
  for (const record of body) {
    if (record.fields.length !== columns.length) {
      errors.push({ line: record.line, path: "", message: `Expected ${columns.length} fields, found ${record.fields.length}` });
      continue;
    }
    // Empty cells are absent values, so optional columns may be left blank.
    const raw = Object.fromEntries(columns.map((c, at) => [c, record.fields[at] === "" ? undefined : record.fields[at]]));
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) errors.push({ line: record.line, path: issuePath(issue.path), message: issue.message });
      continue;
    }
    const key = options.uniqueKey?.(parsed.data);
    if (key !== undefined) {
      const first = seen.get(key);
      if (first !== undefined) {
        errors.push({ line: record.line, path: "", message: `Duplicates line ${first}` });
        continue;
      }
      seen.set(key, record.line);
    }
    rows.push(parsed.data);
  }
  return errors.length ? fail(errors, options.maxErrors) : { ok: true, rows };
}

function fail<T>(errors: CsvError[], maxErrors = 1000): CsvResult<T> {
  const sorted = [...errors].sort((a, b) => a.line - b.line);
  return { ok: false, errors: sorted.slice(0, maxErrors), error_count: errors.length };
}

/**
 * A market index CSV: origin_zip3, destination_zip3, equipment, rate_per_mile,
 * effective_date, source (required) and sample_size (optional). One row per lane,
 * equipment, date and source.
 */
export function parseIndexCsv(text: string): CsvResult<IndexRow> {
  return parseCsv(text, indexRowSchema, {
    requiredColumns: REQUIRED_INDEX_COLUMNS,
    knownColumns: INDEX_COLUMNS,
    uniqueKey: (r) => [r.origin_zip3, r.destination_zip3, r.equipment, r.effective_date, r.source.toLowerCase()].join("|"),
  });
}
