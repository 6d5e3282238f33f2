/** A CSV record and the (1-based) line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** A file that is not well-formed CSV: the line where it broke. */
export class CsvError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

/**
 * RFC 4180 CSV: commas, double-quoted fields ("" inside quotes is a quote, quoted fields may
 * span lines), CRLF or LF. Blank lines and a trailing DOS end-of-file mark (0x1A, as OFAC's
 * files end) are skipped. Throws CsvError for an unterminated quote or text after a closing one.
 */
export function parseCsv(text: string): CsvRecord[] {
  const trimmed = text.trimEnd();
  const src = trimmed.endsWith("\u001a") ? trimmed.slice(0, -1) : text;
  const out: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const start = line;
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    for (;;) {
      const c = src[i];
      if (quoted) {
        if (c === undefined) throw new CsvError(start, "unterminated quoted field");
        if (c === '"') {
          if (src[i + 1] === '"') { field += '"'; i += 2; continue; }
          quoted = false; i++;
          const n = src[i];
          if (n !== undefined && n !== "," && n !== "\n" && n !== "\r") throw new CsvError(line, "text after a closing quote");
          continue;
        }
        if (c === "\n") line++;
        field += c; i++;
        continue;
      }
      if (c === '"' && field === "") { quoted = true; i++; continue; }
      if (c === ",") { fields.push(field); field = ""; i++; continue; }
      if (c === undefined || c === "\n" || c === "\r") {
        fields.push(field);
        if (c === "\r") i++;
        if (src[i] === "\n") i++;
        line++;
        break;
      }
      field += c; i++;
    }
    if (!(fields.length === 1 && fields[0].trim() === "")) out.push({ line: start, fields });
  }
  return out;
}
