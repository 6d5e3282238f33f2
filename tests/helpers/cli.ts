import { spawn } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";
import { stackEnv } from "./env.ts";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  json: () => any;
}

/**
 * Runs one of the project's scripts (scripts/ops.ts, scripts/gate.ts) as an operator would,
 * against the test stack (SUPABASE_DB_URL); asynchronous so a test can act meanwhile.
 */
export function runScript(script: string, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(PROJECT_ROOT, "node_modules", ".bin", "tsx"), [script, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, SUPABASE_DB_URL: stackEnv.dbUrl, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}
