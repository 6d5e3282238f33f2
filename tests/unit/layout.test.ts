/**
 * The layout's rules, checked on the code itself (issue 10): imports run one way
 * (functions -> portals -> shared), a function carries only its own portal, shared never
 * names a portal, the client imports only contracts, and every portal is one folder with its
 * registry line, function entry and config.toml block.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { PLATFORM_FUNCTIONS, PORTALS } from "../../packages/portals/registry.ts";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";
import { importViolations } from "../../scripts/layout/imports.ts";

const ROOT = PROJECT_ROOT;
const DENO = join(ROOT, "node_modules", ".bin", "deno");
const functionsDir = join(ROOT, "supabase", "functions");
const functions = readdirSync(functionsDir).filter((f) => statSync(join(functionsDir, f)).isDirectory() && !f.startsWith("_"));

describe("layout", () => {
  it("imports run one way: no violation of the layout's import rules", () => {
    expect(importViolations(ROOT)).toEqual([]);
  });

  it("every portal is a folder with its manifest, contract, actions and README; one function entry and config block each", () => {
    const config = readFileSync(join(ROOT, "supabase", "config.toml"), "utf8");
    for (const p of PORTALS) {
      const dir = join(ROOT, "packages", "portals", p.name);
      for (const f of ["index.ts", "contract.ts", "README.md", "actions"]) expect(existsSync(join(dir, f)), `${p.name}/${f}`).toBe(true);
      expect(existsSync(join(functionsDir, p.fn, "index.ts")), `supabase/functions/${p.fn}`).toBe(true);
      expect(config, `[functions.${p.fn}] in config.toml`).toContain(`[functions.${p.fn}]`);
    }
    // Every function is a portal's or a listed platform function.
    const known = new Set<string>([...PORTALS.map((p) => p.fn), ...PLATFORM_FUNCTIONS]);
    expect(functions.filter((f) => !known.has(f))).toEqual([]);
  });

  it("each portal function's module graph holds its own portal only; bundle sizes printed", () => {
    const out = mkdtempSync(join(tmpdir(), "switchyard-bundle-"));
    const sizes: string[] = [];
    for (const fn of functions) {
      const entry = join(functionsDir, fn, "index.ts");
      const info = JSON.parse(execFileSync(DENO, ["info", "--json", entry], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 }));
      const portals = new Set<string>();
      for (const m of info.modules as { specifier: string }[]) {
        const hit = /\/packages\/portals\/([^/]+)\//.exec(m.specifier);
        if (hit) portals.add(hit[1]);
      }
      const own = PORTALS.filter((p) => p.fn === fn).map((p) => p.name);
      // The console is the Autonomous portal's page: its writes are that portal's actions.
      // The site is the CRM portal's public door: its forms run CRM's website actions.
      const allowed = fn === "console" ? ["autonomous"] : fn === "site" ? ["crm"] : own;
      expect([...portals].filter((p) => !allowed.includes(p)), `${fn} carries another portal`).toEqual([]);
      const file = join(out, `${fn}.js`);
      execFileSync(DENO, ["bundle", "--quiet", entry, "-o", file], { cwd: ROOT, stdio: "pipe" });
      sizes.push(`${fn.padEnd(14)} ${(statSync(file).size / 1024).toFixed(0).padStart(7)} KiB  portals: ${[...portals].join(", ") || "-"}`);
    }
    console.log(`function bundles (deno bundle):\n  ${sizes.join("\n  ")}`);
  }, 120_000);
});

describe("import rules catch what they should", () => {
  it("flags a function importing another function, shared importing a portal, a portal importing another", () => {
    const rel = (f: string) => relative(ROOT, resolve(ROOT, f));
    const v = importViolations(ROOT, [
      { file: rel("supabase/functions/rates/handler.ts"), imports: ["../autopilot/context.ts"] },
      { file: rel("packages/shared/pipeline/run.ts"), imports: ["../../portals/rates/contract.ts"] },
      { file: rel("packages/portals/rates/actions/price-one.ts"), imports: ["../../crm/contract.ts"] },
      { file: rel("packages/client/index.ts"), imports: ["../portals/rates/index.ts"] },
      { file: rel("supabase/functions/rates/handler.ts"), imports: ["../../../packages/portals/crm/index.ts"] },
    ]);
    expect(v.map((x) => x.rule)).toEqual([
      "a function imports no other function's folder",
      "packages/shared never imports a portal or a function",
      "a portal imports only shared code and its own folder",
      "the client imports only contracts, the registry and shared code",
      "a function imports only its own portal",
    ]);
    expect(dirname(v[0].file)).toBe("supabase/functions/rates");
  });
});
