import { isRoot, run, runOrFail } from "./exec.ts";
import { StackError } from "./errors.ts";

/** Debian packages the local stack needs (pg_prove ships in the last one). */
export const DEBIAN_PACKAGES = [
  "postgresql-15",
  "postgresql-15-cron",
  "postgresql-15-pgtap",
  "libtap-parser-sourcehandler-pgtap-perl",
];

export const PG_BIN = "/usr/lib/postgresql/15/bin";

function missingPackages(): string[] {
  return DEBIAN_PACKAGES.filter((p) => {
    const r = run("dpkg-query", ["-W", "-f=${Status}", p]);
    return r.status !== 0 || !r.stdout.includes("install ok installed");
  });
}

/** Installs the missing packages as root or with passwordless sudo; otherwise says what to install. */
export function ensureDebianPackages(log: (s: string) => void): void {
  const missing = missingPackages();
  if (missing.length === 0) return;
  const sudo = isRoot() ? [] : run("sudo", ["-n", "true"]).status === 0 ? ["sudo", "-n"] : null;
  if (!sudo) {
    throw new StackError(
      `Missing Debian packages: ${missing.join(" ")}\n` +
        `Install them (as root): apt-get install -y ${missing.join(" ")}`,
    );
  }
  log(`installing Debian packages: ${missing.join(" ")}`);
  const [cmd, ...pre] = sudo.length ? sudo : ["env"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  runOrFail("apt-get update", cmd, [...pre, "apt-get", "update", "-qq"], { env });
  runOrFail("apt-get install", cmd, [...pre, "apt-get", "install", "-y", "-qq", ...missing], { env });
}
