/** Starts bench/deno/bare.js (a bare Deno.serve endpoint) on a free port; stop() kills it. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";
import { freePort } from "../../scripts/stack/processes.ts";

export async function startBareDeno(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(join(PROJECT_ROOT, "node_modules", ".bin", "deno"), ["run", "--allow-net", "bench/deno/bare.js", String(port)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bare Deno.serve did not start in 20 s")), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("listening")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`bare Deno.serve exited (${code})`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 3000).unref();
      }),
  };
}
