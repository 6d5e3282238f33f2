/** Starts bench/deno/relay.js (the relay in Deno, as in production); stop() ends it. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";

export async function startDenoRelay(dbUrl: string, opts: { batch: number; concurrency: number }): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(join(PROJECT_ROOT, "node_modules", ".bin", "deno"), [
    "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", "bench/deno/relay.js",
  ], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: "1", SUPABASE_DB_URL: dbUrl, RELAY_BATCH: String(opts.batch), RELAY_CONCURRENCY: String(opts.concurrency), LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the Deno relay did not start in 30 s")), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("started")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the Deno relay exited (${code})`));
    });
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5000).unref();
      }),
  };
}
