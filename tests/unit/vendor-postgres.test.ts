/**
 * Issue 12 item 1: the patched postgres.js is one copy (vendor/postgres), used by the
 * functions (import map, so a hosted deploy bundles it too) and by Node (package.json
 * `file:`), and it is npm's 3.4.9 plus vendor/postgres/switchyard.patch, nothing else.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";

const VENDOR = join(PROJECT_ROOT, "vendor", "postgres");
const UPSTREAM = join(PROJECT_ROOT, "node_modules", "postgres-upstream");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => statSync(join(dir, e)).isDirectory() ? files(join(dir, e)) : [join(dir, e)]);
}

describe("vendored postgres.js", () => {
  it("is npm's postgres@3.4.9 (src/, types/) plus switchyard.patch, nothing else", () => {
    const upstreamPkg = JSON.parse(readFileSync(join(UPSTREAM, "package.json"), "utf8"));
    expect(upstreamPkg.version).toBe("3.4.9");
    const work = mkdtempSync(join(tmpdir(), "pgjs-"));
    try {
      cpSync(join(UPSTREAM, "src"), join(work, "src"), { recursive: true });
      cpSync(join(UPSTREAM, "types", "index.d.ts"), join(work, "types", "index.d.ts"));
      const r = spawnSync("patch", ["-p1", "--no-backup-if-mismatch", "-i", join(VENDOR, "switchyard.patch")], { cwd: work, encoding: "utf8" });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const code = (root: string) => files(root).filter((f) => /\/(src|types)\//.test(f)).map((f) => relative(root, f)).sort();
      expect(code(VENDOR)).toEqual(code(work));
      for (const f of code(work)) expect(readFileSync(join(VENDOR, f), "utf8"), f).toBe(readFileSync(join(work, f), "utf8"));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("is what the functions and Node load as `postgres`", () => {
    const importMap = JSON.parse(readFileSync(join(PROJECT_ROOT, "supabase", "functions", "import_map.json"), "utf8"));
    expect(join(PROJECT_ROOT, "supabase", "functions", importMap.imports.postgres)).toBe(join(VENDOR, "src", "index.js"));
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(pkg.dependencies.postgres).toBe("file:vendor/postgres");
    const resolved = createRequire(join(PROJECT_ROOT, "package.json")).resolve("postgres");
    expect(realpathSync(resolved)).toBe(join(VENDOR, "src", "index.js"));
  });
});
