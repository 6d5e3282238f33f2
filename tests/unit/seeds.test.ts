import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { seedFiles } from "../../scripts/stack/manager.ts";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";

/** Statements of a seed file (comments dropped, split on `;` at line ends). */
function statements(sql: string): string[] {
  return sql.replace(/--[^\n]*/g, "").split(/;\s*(?:\n|$)/).map((s) => s.trim()).filter(Boolean);
}

// Issue 11 item 1, the class: the stack re-runs the seeds on every `up`, so a seed never
// overwrites what is already there (an operator's STOP, a budget they lowered, ...).
describe("seeds", () => {
  it("only insert what is missing: no seed statement updates, deletes or upserts", () => {
    const problems: string[] = [];
    for (const f of seedFiles()) {
      for (const s of statements(readFileSync(f, "utf8"))) {
        const head = s.split("\n")[0].slice(0, 80);
        const where = `${relative(PROJECT_ROOT, f)}: ${head}`;
        if (!/^insert\s+into\s/i.test(s)) problems.push(`${where}: not an insert`);
        else if (/\bdo\s+update\b/i.test(s)) problems.push(`${where}: on conflict do update overwrites existing rows`);
        else if (!/\bon\s+conflict\b[\s\S]*\bdo\s+nothing\s*$/i.test(s)) problems.push(`${where}: no "on conflict ... do nothing"`);
      }
    }
    expect(problems).toEqual([]);
  });
});
