/**
 * Issue 12 item 1: postgres.js 3.4.9 killed the runtime on a Postgres restart
 * (`Cannot read properties of null (reading 'write') at Immediate.nextWrite`), and a connection
 * whose socket closed during a buffered write never wrote again. vendor/postgres is the
 * patched copy (PATCH.md). Each scenario (postgres-driver/scenario.mjs) runs in its own
 * process, under Node and Deno, against a private Postgres cluster this file restarts: the
 * unpatched npm package shows the defect, the vendored one settles every query with a
 * catchable error and the pool serves again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbUrl, ensureInstance, type Instance, PROJECT_ROOT } from "../../../scripts/stack/instance.ts";
import { destroy } from "../../../scripts/stack/manager.ts";
import { initCluster, restartCluster, startCluster } from "../../../scripts/stack/postgres.ts";
import { freePort } from "../../../scripts/stack/processes.ts";

const SCENARIO = join(PROJECT_ROOT, "tests/integration/platform/postgres-driver/scenario.mjs");
const LIBS = {
  patched: join(PROJECT_ROOT, "vendor/postgres/src/index.js"),
  upstream: join(PROJECT_ROOT, "node_modules/postgres-upstream/src/index.js"),
};
const RUNTIMES: Record<string, string[]> = {
  node: [process.execPath],
  deno: [join(PROJECT_ROOT, "node_modules/.bin/deno"), "run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys"],
};

let inst: Instance;
beforeAll(async () => {
  inst = await ensureInstance(`pgdriver-${process.pid}`, { api: await freePort(), db: await freePort() }, true);
  initCluster(inst);
  startCluster(inst);
}, 60_000);
afterAll(() => destroy(inst, () => {}));

function start(runtime: string, lib: keyof typeof LIBS, scenario: string): ChildProcess {
  const [cmd, ...args] = RUNTIMES[runtime];
  return spawn(cmd, [...args, SCENARIO, LIBS[lib], scenario, dbUrl(inst)], {
    cwd: PROJECT_ROOT, env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"],
  });
}

async function run(runtime: string, lib: keyof typeof LIBS, scenario: string) {
  const child = start(runtime, lib, scenario);
  let stdout = "", stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on("close", r));
  return { code, stderr, result: () => JSON.parse(stdout.trim().split("\n").at(-1) ?? "null") };
}

const NEXT_WRITE_CRASH = /Cannot read properties of null \(reading 'write'\)[\s\S]*nextWrite/;

describe.each(Object.keys(RUNTIMES))("postgres.js under %s", (runtime) => {
  it("a transaction whose backend is terminated: unpatched, its ROLLBACK kills the process; patched, CONNECTION_CLOSED and the pool serves on", async () => {
    const upstream = await run(runtime, "upstream", "begin");
    expect(upstream.code).not.toBe(0);
    expect(upstream.stderr).toMatch(NEXT_WRITE_CRASH);

    const patched = await run(runtime, "patched", "begin");
    expect(patched.code, patched.stderr).toBe(0);
    expect(patched.result()).toEqual({ tx: "CONNECTION_CLOSED", after: 1 });
  }, 60_000);

  it("transactions in flight when Postgres restarts: their connections, reconnected, answer the next queries (not the 57P01 they were ended with)", async () => {
    const child = start(runtime, "patched", "stale");
    let out = "", stderr = "";
    child.stderr!.on("data", (d) => (stderr += d));
    const ready = new Promise<void>((r) => child.stdout!.on("data", (d) => ((out += d), out.includes("ready") && r())));
    const exited = new Promise<number | null>((r) => child.on("close", r));
    await ready;
    await restartCluster(inst);
    child.stdin!.end("go\n");
    expect(await exited, stderr).toBe(0);
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({ tx: ["CONNECTION_CLOSED", "CONNECTION_CLOSED"], next: [1, 2, 3, 4] });
  }, 60_000);

  it("a socket closed during a buffered write: unpatched, the connection never writes again; patched, it reconnects", async () => {
    const upstream = await run(runtime, "upstream", "poison");
    expect(upstream.result()).toEqual({ queued: "CONNECTION_CLOSED", next: ["CONNECT_TIMEOUT", "CONNECT_TIMEOUT"] });

    const patched = await run(runtime, "patched", "poison");
    expect(patched.code, patched.stderr).toBe(0);
    expect(patched.result()).toEqual({ queued: "CONNECTION_CLOSED", next: [3, 4] });
  }, 60_000);

  it("a connection lost while it fetches the array types, Postgres away on the reconnect: unpatched, an unhandled rejection ends the process; patched, ECONNREFUSED and then an answer", async () => {
    const upstream = await run(runtime, "upstream", "types");
    expect(upstream.code).not.toBe(0);
    expect(upstream.stderr).toMatch(/(Uncaught \(in promise\)|fromPromise)[\s\S]*ECONNREFUSED/); // Deno's words, Node's

    const patched = await run(runtime, "patched", "types");
    expect(patched.code, patched.stderr).toBe(0);
    expect(patched.result()).toEqual({ first: "ECONNREFUSED", next: 2 });
  }, 60_000);

  it("pg_ctl restart -m fast three times under load: the process stays up and commits again after each restart", async () => {
    const child = start(runtime, "patched", "load");
    let committed = 0, mark: number | null = null, summary: any = null, stderr = "";
    const exited = new Promise<number | null>((r) => child.on("close", r));
    child.stderr!.on("data", (d) => (stderr += d));
    createInterface({ input: child.stdout! }).on("line", (l) => {
      const [word, n] = l.split(" ");
      if (word === "progress") committed = Number(n);
      else if (word === "mark") mark = Number(n);
      else if (l.startsWith("{")) summary = JSON.parse(l);
    });
    const until = async (cond: () => boolean) => {
      while (!cond() && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      expect(child.exitCode, stderr).toBeNull();
    };
    try {
      await until(() => committed > 0);
      for (let i = 0; i < 3; i++) {
        await restartCluster(inst);
        mark = null;
        child.stdin!.write("mark\n"); // read after the restart: what commits beyond it is new
        await until(() => mark !== null);
        await until(() => committed > mark!);
      }
      child.stdin!.end("stop\n");
      expect(await exited, stderr).toBe(0);
      expect(summary).toMatchObject({ after: 1 });
    } finally {
      child.kill("SIGKILL");
    }
  }, 120_000);
});
