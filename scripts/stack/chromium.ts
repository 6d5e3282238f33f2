import { existsSync } from "node:fs";
import { isRoot, run, runOrFail } from "./exec.ts";
import { StackError } from "./errors.ts";

/**
 * The browser the console's browser tests drive: Debian's `chromium` package with
 * playwright-core (`npx playwright install` cannot download browsers here). Installed with
 * apt-get on first use when running as root or with passwordless sudo, like the stack's
 * other Debian packages (scripts/stack/packages.ts); otherwise a clear message says how.
 */
export const CHROMIUM_PACKAGE = "chromium";
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for headless Chromium in CI containers (root, no GPU, no network side traffic). */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

function installed(): boolean {
  const r = run("dpkg-query", ["-W", "-f=${Status}", CHROMIUM_PACKAGE]);
  return r.status === 0 && r.stdout.includes("install ok installed") && existsSync(CHROMIUM_PATH);
}

/** Returns the Chromium executable path, installing the Debian package when it is missing. */
export function ensureChromium(log: (s: string) => void = () => {}): string {
  if (installed()) return CHROMIUM_PATH;
  const sudo = isRoot() ? [] : run("sudo", ["-n", "true"]).status === 0 ? ["sudo", "-n"] : null;
  if (!sudo) {
    throw new StackError(
      `The browser tests need Debian's ${CHROMIUM_PACKAGE} package (${CHROMIUM_PATH}), which is not installed.\n` +
        `Install it (as root): apt-get update && apt-get install -y ${CHROMIUM_PACKAGE}`,
    );
  }
  log(`installing Debian package: ${CHROMIUM_PACKAGE}`);
  const [cmd, ...pre] = sudo.length ? sudo : ["env"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  runOrFail("apt-get update", cmd, [...pre, "apt-get", "update", "-qq"], { env });
  runOrFail("apt-get install chromium", cmd, [...pre, "apt-get", "install", "-y", "-qq", CHROMIUM_PACKAGE], { env });
  if (!installed()) throw new StackError(`apt-get installed ${CHROMIUM_PACKAGE} but ${CHROMIUM_PATH} is missing`);
  return CHROMIUM_PATH;
}
