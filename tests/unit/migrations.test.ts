import { describe, expect, it } from "vitest";
import { MIGRATIONS_REWRITTEN, rewrittenMigrations } from "../../scripts/stack/manager.ts";
import { layoutProblems, MIGRATION_OWNERS, migrationFiles, normalizeDump, readMigrations } from "../../scripts/stack/schema.ts";

describe("migration layout", () => {
  it("every SQL function is defined in exactly one migration, names are <timestamp>_<owner>_<topic>, none says perf", () => {
    expect(layoutProblems(readMigrations())).toEqual([]);
  });

  it("names a function defined twice, a bad owner and a perf file, readably", () => {
    const problems = layoutProblems([
      { name: "20260101000000_platform_flags.sql", sql: "create function app_private.flag_bool(p text) returns boolean" },
      { name: "20260102000000_perf_flags.sql", sql: "create or replace function app_private.flag_bool (p text) returns boolean" },
      { name: "20260103000000_billing_x.sql", sql: "-- create function app_private.flag_bool(p text): only a comment" },
      { name: "rates.sql", sql: "create procedure ops.tidy() language sql as $$ select 1 $$" },
    ]);
    expect(problems).toEqual([
      `20260102000000_perf_flags.sql: owner "perf" is not one of ${MIGRATION_OWNERS.join(", ")}`,
      '20260102000000_perf_flags.sql: migration names must not contain "perf" (fold it into the owner\'s file)',
      `20260103000000_billing_x.sql: owner "billing" is not one of ${MIGRATION_OWNERS.join(", ")}`,
      "rates.sql: not named <timestamp>_<owner>_<topic>.sql",
      "app_private.flag_bool is defined in 2 migrations (20260101000000_platform_flags.sql, 20260102000000_perf_flags.sql): keep one current definition, in the file that owns it",
    ]);
  });

  it("reads an owner with an underscore (tms_admin) as that owner", () => {
    expect(layoutProblems([{ name: "20260104000000_tms_admin_portal.sql", sql: "" }])).toEqual([]);
    expect(layoutProblems([{ name: "20260104000000_tms_portal.sql", sql: "" }])).toEqual([
      `20260104000000_tms_portal.sql: owner "tms" is not one of ${MIGRATION_OWNERS.join(", ")}`,
    ]);
  });

  it("the snapshot drops pg_dump's per-run restrict token and version lines", () => {
    const dump = "--\n-- Dumped from database version 15.18\n-- Dumped by pg_dump version 15.18\n\\restrict abc123\n\nCREATE SCHEMA ops;\n\\unrestrict abc123\n";
    expect(normalizeDump(dump)).toBe("--\n\nCREATE SCHEMA ops;\n");
  });
});

describe("rewritten migrations (stack manager)", () => {
  const files = migrationFiles();
  const applied = files.map((f) => {
    const [, version, name] = /^(\d+)_(.+)\.sql$/.exec(f)!;
    return { version, name };
  });

  it("accepts a history that matches the files, or is a prefix of them", () => {
    expect(rewrittenMigrations(applied, files)).toEqual([]);
    expect(rewrittenMigrations(applied.slice(0, 3), files)).toEqual([]);
    expect(rewrittenMigrations([], files)).toEqual([]);
  });

  it("refuses an applied migration whose file is gone or was renamed", () => {
    const history = [
      ...applied.slice(0, 2),
      { version: "20261125400000", name: "perf_rls_helpers" },
      { version: applied[2].version, name: "tenancy_principals" },
    ];
    expect(rewrittenMigrations(history, files)).toEqual([
      `applied ${applied[2].version}_tenancy_principals is now ${applied[2].version}_${applied[2].name}.sql`,
      "applied 20261125400000_perf_rls_helpers has no file in supabase/migrations",
    ]);
    expect(MIGRATIONS_REWRITTEN).toBe("migrations rewritten: run `npm run stack -- reset`");
  });
});
