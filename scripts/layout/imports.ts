/**
 * The layout's import rules (README "Layout"), checked over the source tree:
 *
 *   functions -> portals -> shared, never back;
 *   a function imports its own folder, shared code, and only its own portal (the console:
 *     the Autonomous portal, whose page it is; the site: the CRM portal, whose forms it serves;
 *     platform functions may read the registry);
 *   no function imports another function's folder;
 *   a portal imports shared code and its own folder only;
 *   packages/shared imports neither portals nor functions, and names no portal;
 *   the client imports contracts, the registry and shared code only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { PORTALS } from "../../packages/portals/registry.ts";

export interface Violation {
  file: string;
  target: string;
  rule: string;
}

export interface FileImports {
  file: string; // relative to the root, "/" separated
  imports: string[]; // specifiers as written
}

const SOURCE = /\.(ts|js|mjs)$/;
const IMPORT = /(?:^|\s)(?:import|export)\s[^;]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (SOURCE.test(name)) out.push(p);
  }
  return out;
}

export function scan(root: string): FileImports[] {
  const dirs = ["packages", join("supabase", "functions")].map((d) => join(root, d));
  return dirs.flatMap((d) => walk(d)).map((abs) => {
    const text = readFileSync(abs, "utf8");
    const imports = [...text.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]).filter(Boolean);
    return { file: relative(root, abs).split(sep).join("/"), imports };
  });
}

const fnOf = (p: string) => /^supabase\/functions\/([^/]+)\//.exec(p)?.[1];
const portalOf = (p: string) => /^packages\/portals\/([^/]+)\//.exec(p)?.[1];

/** The rule a single import breaks, or null. `target` is relative to the root. */
function broken(file: string, target: string): string | null {
  const fromFn = fnOf(file);
  const toFn = fnOf(target);
  const toPortal = portalOf(target);
  const isContract = /^packages\/portals\/[^/]+\/contract\.ts$/.test(target);
  if (fromFn) {
    if (toFn && toFn !== fromFn) return "a function imports no other function's folder";
    if (toPortal) {
      const own = PORTALS.filter((p) => p.fn === fromFn).map((p) => p.name as string);
      if (fromFn === "console") own.push("autonomous");
      // The website is the CRM portal's public door: its forms run CRM's website actions.
      if (fromFn === "site") own.push("crm");
      if (!own.includes(toPortal)) return "a function imports only its own portal";
    }
    return null;
  }
  if (file.startsWith("packages/shared/")) {
    if (toPortal || toFn || target.startsWith("packages/portals/")) return "packages/shared never imports a portal or a function";
    return null;
  }
  if (file.startsWith("packages/client/")) {
    if (toFn || (toPortal && !isContract)) return "the client imports only contracts, the registry and shared code";
    return null;
  }
  const fromPortal = portalOf(file);
  if (fromPortal) {
    if (toFn || (toPortal && toPortal !== fromPortal) || target === "packages/portals/registry.ts") {
      return "a portal imports only shared code and its own folder";
    }
    return null;
  }
  if ((file === "packages/portals/registry.ts" || file === "packages/portals/contracts.ts") && toPortal && !isContract) {
    return "the registry names contracts only (manifests load by name)";
  }
  return null;
}

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** Names of portals as string literals in shared code (a portal's name belongs to its folder). */
function namesPortal(root: string, file: string): string | null {
  if (!file.startsWith("packages/shared/") || file.endsWith(".test.ts") || !isFile(join(root, file))) return null;
  // (a line marked "layout: not a portal name" uses the word for something else: a PII key)
  const code = readFileSync(join(root, file), "utf8").replace(/^.*layout: not a portal name.*$/gm, "")
    .replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
  const hit = PORTALS.find((p) => new RegExp(`["'\`]${p.name}["'\`]`).test(code));
  return hit ? hit.name : null;
}

export function importViolations(root: string, files: FileImports[] = scan(root)): Violation[] {
  const out: Violation[] = [];
  for (const f of files) {
    for (const spec of f.imports) {
      if (!spec.startsWith(".")) continue; // packages (npm:, bare) are not part of the layout
      const target = relative(root, resolve(root, dirname(f.file), spec)).split(sep).join("/");
      const rule = broken(f.file, target);
      if (rule) out.push({ file: f.file, target, rule });
    }
    const named = namesPortal(root, f.file);
    if (named) {
      out.push({ file: f.file, target: named, rule: "packages/shared never names a portal" });
    }
  }
  return out;
}

