/**
 * The pinned n8n for `npm run n8n:e2e`, installed into .n8n/install (git-ignored), never a
 * dependency of the project. Parts of n8n's install do not come from the npm registry or do
 * not build on Node 20; worked around here:
 * - n8n-nodes-base depends on `xlsx` by a tarball URL on SheetJS's own CDN: overridden with
 *   the registry's xlsx 0.18.5 (the Spreadsheet File node's library; no template uses it).
 * - Install scripts are off (`--ignore-scripts`): isolated-vm 6.2 (of @n8n/expression-runtime)
 *   needs Node 22 and fails to compile on 20, and the others are optional or download
 *   prebuilt binaries from GitHub (prebuild-install), which this network does not reach.
 * - sqlite3, the one native module n8n needs here (its SQLite database), is then rebuilt
 *   from source (`npm rebuild sqlite3` with build_from_source: its prebuild-install would
 *   download the binary), node-gyp using the Node headers installed beside node.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../stack/instance.ts";

export const N8N_VERSION = "1.123.81";
export const INSTALL_DIR = join(PROJECT_ROOT, ".n8n", "install");
export const N8N_BIN = join(INSTALL_DIR, "node_modules", "n8n", "bin", "n8n");

const MANIFEST = {
  name: "switchyard-n8n-e2e",
  private: true,
  description: "The n8n `npm run n8n:e2e` runs (scripts/n8n/install.ts); not a dependency of Switchyard",
  dependencies: { n8n: N8N_VERSION },
  overrides: { xlsx: "0.18.5" },
  allowScripts: { sqlite3: true },
};

export function installedVersion(): string | null {
  const f = join(INSTALL_DIR, "node_modules", "n8n", "package.json");
  return existsSync(f) ? (JSON.parse(readFileSync(f, "utf8")) as { version: string }).version : null;
}

const sqliteBuilt = () => existsSync(join(INSTALL_DIR, "node_modules", "sqlite3", "build", "Release", "node_sqlite3.node"));

/** Installs n8n unless the pinned version is there; returns what it did and how long it took. */
export function ensureN8n(log: (s: string) => void): { installed: boolean; seconds: number } {
  const t = Date.now();
  const manifest = JSON.stringify(MANIFEST, null, 2) + "\n";
  const file = join(INSTALL_DIR, "package.json");
  if (installedVersion() === N8N_VERSION && sqliteBuilt() && existsSync(file) && readFileSync(file, "utf8") === manifest) {
    return { installed: false, seconds: (Date.now() - t) / 1000 };
  }
  mkdirSync(INSTALL_DIR, { recursive: true });
  writeFileSync(file, manifest);
  log(`installing n8n ${N8N_VERSION} into ${INSTALL_DIR} (npm registry; sqlite3 built from source)`);
  const env: NodeJS.ProcessEnv = { ...process.env, npm_config_build_from_source: "true", npm_config_audit: "false", npm_config_fund: "false" };
  // node-gyp would download Node's headers; the ones installed beside node serve instead.
  const nodeDir = dirname(dirname(process.execPath));
  if (!process.env.npm_config_nodedir && existsSync(join(nodeDir, "include", "node", "node.h"))) env.npm_config_nodedir = nodeDir;
  const npm = (args: string[]) => {
    const r = spawnSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd: INSTALL_DIR, stdio: "inherit", env });
    if (r.status !== 0) throw new Error(`npm ${args.join(" ")} (n8n ${N8N_VERSION}) failed (exit ${r.status})`);
  };
  npm(["install", "--ignore-scripts"]);
  log(`npm install done after ${((Date.now() - t) / 1000).toFixed(1)} s; building sqlite3 from source`);
  npm(["rebuild", "sqlite3"]);
  if (!sqliteBuilt()) throw new Error("sqlite3's native module was not built (its install script did not run)");
  return { installed: true, seconds: (Date.now() - t) / 1000 };
}
