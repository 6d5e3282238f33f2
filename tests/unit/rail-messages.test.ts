import { describe, expect, it } from "vitest";
import { readMigrations } from "../../scripts/stack/schema.ts";

// Issue 11 item 16: rail messages reach the Postgres log (log_min_messages = warning logs
// every error with its message), so a raise_error message never carries a principal's
// name or an email: it names principals by id and kind.
const PII_ARG = /\b(principal_name|v_email|p_email|email|display_name)\b|claim\('principal_name'\)/;

/** Every `raise_error(...)` call's argument text, with the file it is in. */
function raiseCalls(): { file: string; call: string }[] {
  const out: { file: string; call: string }[] = [];
  for (const m of readMigrations()) {
    const sql = m.sql.replace(/--[^\n]*/g, "");
    for (let i = sql.indexOf("raise_error("); i >= 0; i = sql.indexOf("raise_error(", i + 1)) {
      let depth = 0;
      let j = i + "raise_error".length;
      for (; j < sql.length; j++) {
        if (sql[j] === "(") depth++;
        else if (sql[j] === ")" && --depth === 0) break;
      }
      out.push({ file: m.name, call: sql.slice(i, j + 1).replace(/\s+/g, " ") });
    }
  }
  return out;
}

describe("rail messages", () => {
  it("no raise_error message formats a principal's name or an email", () => {
    const calls = raiseCalls();
    expect(calls.length).toBeGreaterThan(40);
    expect(calls.filter((c) => PII_ARG.test(c.call.replace(/'(?:[^']|'')*'/g, "''"))).map((c) => `${c.file}: ${c.call}`)).toEqual([]);
  });
});
