import { describe, expect, it } from "vitest";
import { parseCsvRecords, parseIndexCsv } from "./csv.ts";

const HEADER = "origin_zip3,destination_zip3,equipment,rate_per_mile,effective_date,source,sample_size";
const LANES = ["606", "902", "752", "770", "300", "331", "191", "100", "462", "853"];
const EQUIPMENT = ["van", "reefer", "flatbed"];

/** n distinct, valid index rows on real lanes. */
function rows(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const o = LANES[i % LANES.length];
    const d = LANES[(i + 1 + Math.floor(i / LANES.length)) % LANES.length];
    const day = String(1 + (i % 28)).padStart(2, "0");
    return `${o},${d},${EQUIPMENT[i % 3]},${(2 + (i % 150) / 100).toFixed(2)},2026-02-${day},dat-${i},${100 + i}`;
  });
}

describe("parseCsvRecords", () => {
  it("handles quotes, escaped quotes, commas and line breaks inside quotes, CRLF and a BOM", () => {
    const text = '\uFEFFa,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n\r\nlast,,\n';
    const { records, errors } = parseCsvRecords(text);
    expect(errors).toEqual([]);
    expect(records).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["x, y", 'say "hi"', "two\nlines"] },
      { line: 5, fields: ["last", "", ""] },
    ]);
  });

  it("reports stray and unterminated quotes with their line", () => {
    expect(parseCsvRecords('a,b\nx"y,1\n"ok"z,2\n"open,3').errors).toEqual([
      { line: 2, path: "", message: "Quote inside an unquoted field" },
      { line: 3, path: "", message: "Text after a closing quote" },
      { line: 4, path: "", message: "Unterminated quoted field" },
    ]);
  });
});

describe("parseIndexCsv", () => {
  it("accepts 1,000 valid rows, typed", () => {
    const r = parseIndexCsv([HEADER, ...rows(1000)].join("\n"));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.rows).toHaveLength(1000);
    expect(r.rows[0]).toEqual({
      origin_zip3: "606",
      destination_zip3: "902",
      equipment: "van",
      rate_per_mile: 2,
      effective_date: "2026-02-01",
      source: "dat-0",
      sample_size: 100,
    });
  });

  it("applies nothing when one line in 1,000 is bad, and names that line", () => {
    const lines = rows(1000);
    lines[736] = lines[736].replace(/,\d\.\d\d,/, ",2.1O,"); // letter O for zero: file line 738
    const r = parseIndexCsv([HEADER, ...lines].join("\n"));
    expect(r).toEqual({
      ok: false,
      error_count: 1,
      errors: [{ line: 738, path: "rate_per_mile", message: "Expected a decimal number like 2.45" }],
    });
  });

  it("reports every bad line and every bad cell, not just the first", () => {
    const text = [
      HEADER,
      "606,902,van,2.41,2026-03-02,dat,1200",
      "60601,902,tanker,2.41,2026-03-02,dat,", // two bad cells
      "606,902,van,2.41,2026-02-30,truckstop,", // impossible date
      '"606","902","reefer","2.95","2026-03-02","DAT, Inc.",""', // quoted, fine
      "606,902,van,2.41,2026-03-02,DAT,77", // same lane/equipment/date/source as line 2
      "606,902,van", // short
    ].join("\r\n");
    const r = parseIndexCsv(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([
      { line: 3, path: "origin_zip3", message: "Expected a ZIP3 (3 digits)" },
      { line: 3, path: "equipment", message: 'Invalid option: expected one of "van"|"reefer"|"flatbed"' },
      { line: 4, path: "effective_date", message: "Expected a date as YYYY-MM-DD" },
      { line: 6, path: "", message: "Duplicates line 2" },
      { line: 7, path: "", message: "Expected 7 fields, found 3" },
    ]);
  });

  it("checks the header: missing, unknown and duplicate columns; the optional column may be left out", () => {
    const r = parseIndexCsv("origin_zip3,destination_zip3,equipment,rate_per_mile,effective_date,sorce,equipment\n606,902,van,2.4,2026-03-02,dat,van");
    expect(r.ok || r.errors).toEqual([
      { line: 1, path: "", message: 'Unknown column "sorce"' },
      { line: 1, path: "", message: 'Duplicate column "equipment"' },
      { line: 1, path: "", message: 'Missing column "source"' },
    ]);
    const noSampleSize = parseIndexCsv("Origin_ZIP3,destination_zip3,equipment,rate_per_mile,effective_date,source\n606,902,van,2.4,2026-03-02,dat");
    expect(noSampleSize.ok && noSampleSize.rows[0].sample_size).toBeUndefined();
  });

  it("refuses an empty file or a header alone", () => {
    expect(parseIndexCsv("")).toMatchObject({ ok: false, errors: [{ line: 1, message: "CSV is empty: expected a header row" }] });
    expect(parseIndexCsv(HEADER)).toMatchObject({ ok: false, errors: [{ line: 1, message: "CSV has no data rows" }] });
  });

  it("caps the error list but counts every error", () => {
    const r = parseIndexCsv([HEADER, ...Array.from({ length: 1500 }, () => "x,y,z,w,v,u,t")].join("\n"));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1000);
    expect(r.error_count).toBeGreaterThan(1500);
  });
});
