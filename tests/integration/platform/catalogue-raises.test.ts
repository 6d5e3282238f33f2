import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { answerCode, BY_SQLSTATE, catalogueEntry, type CatalogueCode, countsAgainstSlo } from "../../../packages/shared/http/catalogue.ts";
import { refusalFromDb } from "../../../packages/shared/pipeline/db-errors.ts";
import { sql } from "../../helpers/db.ts";

/**
 * Issue 11, item 12 (class): one catalogue maps every SQLSTATE the database raises. Every
 * row of public.rail_errors, every `raise_error('<code>'` and every `raise ... using errcode`
 * in supabase/migrations is a catalogue code the edge answers as a 4xx or a rail (never a
 * 500 that counts against the SLO). Bare `raise exception '...'` (P0001: a 500) is kept for
 * programming errors no request can reach, listed here.
 */
const MIGRATIONS = join(import.meta.dirname, "../../../supabase/migrations");
const files = readdirSync(MIGRATIONS).filter((f) => f.endsWith(".sql")).sort();
const text = files.map((f) => readFileSync(join(MIGRATIONS, f), "utf8")).join("\n");

/** Internal guards (a caller cannot reach them with any input): their P0001 is a real failure. */
const INTERNAL_RAISES = [
  "raise_error: unknown error code",
  "ops.set_rls_sample:",
  "ops.tenant_rls:",
  "ops.ensure_partition:",
  "check_rails: unknown rail class",
  "ops.attach_rails:",
  "action_begin: unknown rails",
];

afterAll(() => sql.end());

/** The edge's answer for a database error with this SQLSTATE and code. */
const answer = (sqlstate: string, code: string) => refusalFromDb({ code: sqlstate, message: `${code}: test` });

describe("every SQLSTATE the database raises is in the catalogue", () => {
  it("public.rail_errors: each row is mapped by SQLSTATE to a 4xx or a rail", async () => {
    const rows = await sql<{ code: string; sqlstate: string }[]>`select code, sqlstate from public.rail_errors order by sqlstate`;
    expect(rows.length).toBeGreaterThan(20);
    const unmapped = rows.filter((r) => {
      const a = answer(r.sqlstate, r.code);
      return !a || a.ok || countsAgainstSlo(a.code) || BY_SQLSTATE.get(r.sqlstate) !== r.code;
    });
    expect(unmapped, "rail_errors rows the edge would answer with 500 (or with another code)").toEqual([]);
    console.log(`catalogue: ${rows.length} rail_errors rows, each mapped to a 4xx or a rail`);
  });

  it("every raise_error('<code>' in the migrations is a rail_errors row and a catalogue code", async () => {
    const codes = [...new Set([...text.matchAll(/raise_error\(\s*'([a-z_]+)'/g)].map((m) => m[1]))].sort();
    expect(codes.length).toBeGreaterThan(20);
    const rows = new Map((await sql<{ code: string; sqlstate: string }[]>`select code, sqlstate from public.rail_errors`).map((r) => [r.code, r.sqlstate]));
    const missing = codes.filter((c) => {
      const e = catalogueEntry(c);
      return !rows.has(c) || !e?.sqlstate || e.sqlstate !== rows.get(c) || countsAgainstSlo(answerCode(c as CatalogueCode));
    });
    expect(missing, "codes raised in supabase/migrations without a catalogued SQLSTATE").toEqual([]);
    console.log(`catalogue: ${codes.length} distinct raise_error codes in ${files.length} migrations, all catalogued`);
  });

  it("every `raise ... using errcode` names a catalogued SQLSTATE; bare raises are internal guards only", () => {
    const errcodes = [...text.matchAll(/raise\s+(?:exception\s+)?using\s+errcode\s*=\s*([^,\s;]+)/gi)].map((m) => m[1]);
    // raise_error's own `errcode = v_state` (from public.rail_errors, checked above); any literal must be catalogued
    const literal = errcodes.filter((c) => c !== "v_state").map((c) => c.replace(/'/g, ""));
    expect(literal.filter((c) => !BY_SQLSTATE.has(c) && !answer(c, "x")), "literal errcodes the edge does not map").toEqual([]);
    const sqlstates = [...text.matchAll(/raise\s+sqlstate\s+'([^']+)'/gi)].map((m) => m[1]);
    expect(sqlstates.filter((c) => !BY_SQLSTATE.has(c)), "raise sqlstate codes not in the catalogue").toEqual([]);
    const bare = [...text.matchAll(/raise\s+exception\s+'([^']*)'/gi)].map((m) => m[1]);
    expect(bare.filter((m) => !INTERNAL_RAISES.some((p) => m.startsWith(p))), "bare raises (P0001, a 500) not listed as internal guards").toEqual([]);
  });
});
