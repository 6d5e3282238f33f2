/**
 * pgbench (Debian postgresql-15) running a script file against the bench stack: the
 * database's ceiling for the same SQL. Throughput from its summary, latency percentiles from
 * its per-transaction log (-l).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Latency, latency } from "./stats.ts";

export const PGBENCH = "/usr/lib/postgresql/15/bin/pgbench";

export interface PgbenchSpec {
  dbPort: number;
  script: string; // path
  vars: Record<string, string | number>;
  clients: number;
  seconds: number;
  /** Target transactions per second (-R); undefined = as fast as possible. */
  rate?: number;
}

export interface PgbenchResult {
  target: number | null;
  clients: number;
  tps: number;
  transactions: number;
  failed: number;
  latency: Latency;
}

export async function pgbench(spec: PgbenchSpec): Promise<PgbenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-pgbench-"));
  const args = [
    "-h", "127.0.0.1", "-p", String(spec.dbPort), "-U", "postgres", "-n", "-M", "extended",
    "-c", String(spec.clients), "-j", String(Math.min(2, spec.clients)), "-T", String(spec.seconds),
    "-l", "--log-prefix", join(dir, "pgb"),
    ...(spec.rate ? ["-R", String(spec.rate)] : []),
    ...Object.entries(spec.vars).flatMap(([k, v]) => ["-D", `${k}=${v}`]),
    "-f", spec.script, "postgres",
  ];
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const p = spawn(PGBENCH, args, { env: { ...process.env, PGPASSWORD: "postgres" } });
      let stdout = "", stderr = "";
      p.stdout.on("data", (d) => (stdout += d));
      p.stderr.on("data", (d) => (stderr += d));
      p.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
    const tps = Number(stdout.match(/tps = ([\d.]+) \(without initial connection time\)/)?.[1] ?? NaN);
    const transactions = Number(stdout.match(/number of transactions actually processed: (\d+)/)?.[1] ?? 0);
    const failed = Number(stdout.match(/number of failed transactions: (\d+)/)?.[1] ?? 0);
    if (code !== 0 || !Number.isFinite(tps)) {
      throw new Error(`pgbench failed (exit ${code}):\n${stderr.split("\n").slice(-8).join("\n")}\n${stdout.slice(-500)}`);
    }
    // Log lines: client_id transaction_no time(us) script_no time_epoch time_us [schedule_lag]
    const us: number[] = [];
    for (const f of readdirSync(dir)) {
      for (const line of readFileSync(join(dir, f), "utf8").split("\n")) {
        const parts = line.split(" ");
        if (parts.length >= 6 && parts[2] !== "skipped" && parts[2] !== "failed") us.push(Number(parts[2]) / 1000);
      }
    }
    return { target: spec.rate ?? null, clients: spec.clients, tps, transactions, failed, latency: latency(us) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
