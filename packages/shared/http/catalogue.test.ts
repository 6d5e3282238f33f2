import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { answerCode, BY_SQLSTATE, CATALOGUE, type CatalogueCode, type CatalogueEntry, catalogueEntry, countsAgainstSlo, problemEntry } from "./catalogue.ts";

const all = Object.entries(CATALOGUE) as [CatalogueCode, CatalogueEntry][];
const statusOf = (code: CatalogueCode) => problemEntry(answerCode(code)).status;

/** The "Error codes" table of docs/security-model.md: code -> HTTP, SQLSTATE, answered as. */
function docTable(): Map<string, { status: number; sqlstate: string | null; as: string | null }> {
  const doc = readFileSync(new URL("../../../docs/security-model.md", import.meta.url), "utf8");
  const section = doc.split(/^## /m).find((s) => s.startsWith("Error codes"));
  if (!section) throw new Error("docs/security-model.md has no '## Error codes' section");
  const cell = (c: string) => (c === "—" ? null : c.replace(/^`|`$/g, ""));
  const rows = new Map<string, { status: number; sqlstate: string | null; as: string | null }>();
  for (const line of section.split("\n")) {
    const m = /^\| `([a-z_]+)` \| (\d{3}) \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (!m) continue;
    expect(rows.has(m[1]), `${m[1]} is listed twice`).toBe(false);
    rows.set(m[1], { status: Number(m[2]), sqlstate: cell(m[3].trim()), as: cell(m[4].trim()) });
  }
  return rows;
}

describe("the error catalogue", () => {
  it("is well-formed: 4xx/5xx statuses, unique SQLSTATEs, aliases point at problem codes", () => {
    const states = all.flatMap(([, e]) => (e.sqlstate ? [e.sqlstate] : []));
    expect(new Set(states).size).toBe(states.length);
    for (const [code, e] of all) {
      expect(code).toMatch(/^[a-z][a-z0-9_]*$/);
      if (e.as) {
        const target = catalogueEntry(e.as);
        expect(target?.status, `${code} is answered as ${e.as}, a problem code`).toBeTypeOf("number");
        expect(e.sqlstate, `${code}: only database codes are answered under another code`).toMatch(/^SY/);
      } else {
        expect(e.status).toBeGreaterThanOrEqual(400);
        expect(e.status).toBeLessThan(600);
      }
      if (e.sqlstate) expect(BY_SQLSTATE.get(e.sqlstate)).toBe(code);
    }
  });

  it("applies the decisions: portal_disabled 403; the stop and read-only 503 with Retry-After; rails are not SLO failures", () => {
    expect(statusOf("portal_disabled")).toBe(403);
    for (const code of ["autonomy_halted", "mode_read_only", "autonomy_step_down"] as const) {
      expect(statusOf(code)).toBe(503);
      expect(problemEntry(answerCode(code)).retryAfter).toBeGreaterThan(0);
    }
    const rails = all.filter(([, e]) => e.rail).map(([c]) => c);
    expect(rails).toEqual(expect.arrayContaining(["autonomy_halted", "mode_read_only", "agents_disabled", "portal_disabled", "dlq_paused", "budget_exhausted", "rate_limited"]));
    for (const code of rails) expect(countsAgainstSlo(code as never), code).toBe(false);
    expect(countsAgainstSlo("internal_error")).toBe(true);
    expect(countsAgainstSlo("prove_failed")).toBe(true);
    // The database away (issue 12 item 4): 503 + Retry-After, and the system's failure.
    expect(statusOf("database_unavailable")).toBe(503);
    expect(problemEntry("database_unavailable").retryAfter).toBeGreaterThan(0);
    expect(countsAgainstSlo("database_unavailable")).toBe(true);
    expect(countsAgainstSlo("validation_failed")).toBe(false);
  });

  it("is the table in docs/security-model.md, every code with its status, SQLSTATE and answer", () => {
    const doc = docTable();
    expect([...doc.keys()].sort()).toEqual(all.map(([c]) => c).sort());
    for (const [code, e] of all) {
      expect(doc.get(code), code).toEqual({ status: statusOf(code), sqlstate: e.sqlstate ?? null, as: e.as ?? null });
    }
  });
});
