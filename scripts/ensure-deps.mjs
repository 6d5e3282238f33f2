// npm's prestart / pretest: installs the pinned npm packages when node_modules is missing or
// older than package-lock.json, so `npm start` and `npm test` work on a fresh clone. Plain
// Node with node:* imports only: it runs before any dependency exists. Up to date: no-op.
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
};

// npm ci writes node_modules/.package-lock.json last; a lockfile newer than it means the
// install predates the lockfile (a pull or a checkout changed the pins).
const installed = mtime(join(root, "node_modules", ".package-lock.json"));
const locked = mtime(join(root, "package-lock.json"));
if (installed >= 0 && installed >= locked) process.exit(0);

console.error(
  installed < 0
    ? "[deps] node_modules is missing: npm ci --no-audit --no-fund"
    : "[deps] node_modules is older than package-lock.json: npm ci --no-audit --no-fund",
);
// Inside an npm script, npm_execpath is the npm that runs us (same version, no PATH lookup).
const npmCli = process.env.npm_execpath;
const [cmd, args] = npmCli && /npm-cli\.js$/.test(npmCli)
  ? [process.execPath, [npmCli, "ci", "--no-audit", "--no-fund"]]
  : [process.platform === "win32" ? "npm.cmd" : "npm", ["ci", "--no-audit", "--no-fund"]];
const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
if (r.error) console.error(`[deps] could not run npm: ${r.error.message}`);
process.exit(r.status ?? 1);
