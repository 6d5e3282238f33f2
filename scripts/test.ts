/**
 * npm test: lint, type-check, then a fresh throwaway stack on free ports for pgTAP,
 * vitest (unit + integration) and the load smoke. Independent of any `npm start` stack;
 * the throwaway stack is destroyed at the end, pass or fail.
 *
 * `npm test -- <file>...` (a development loop, not CI): the same steps, but pgTAP and vitest
 * run only the named files (.sql -> pg_prove, others -> vitest) and the load smoke is skipped.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { StackError } from "./stack/errors.ts";
import { apiUrl, dbUrl, ensureInstance, type Instance, PROJECT_ROOT } from "./stack/instance.ts";
import { denoCheck, destroy, up } from "./stack/manager.ts";
import { psql } from "./stack/postgres.ts";
import { freePort } from "./stack/processes.ts";
import { dumpSchema, layoutProblems, readMigrations, SCHEMA_FILE, shortDiff } from "./stack/schema.ts";
import { nowTicks, type ProcInfo, processes, processesWithEnv, waitUntil } from "./stack/leftovers.ts";

const BIN = join(PROJECT_ROOT, "node_modules", ".bin");
const results: { step: string; ok: boolean; seconds: number; note?: string }[] = [];
/** Every process the tests start inherits this marker, so the run can tell what it left behind. */
const RUN_MARKER = "SWITCHYARD_TEST_RUN";
const RUN_ID = `${process.pid}-${Date.now()}`;
const RUN_STARTED_TICKS = nowTicks();
const ONLY = process.argv.slice(2);
const onlySql = ONLY.filter((f) => f.endsWith(".sql"));
const onlyVitest = ONLY.filter((f) => !f.endsWith(".sql"));

/**
 * What this run left running: any process carrying its marker (a test's child, a child of
 * that child), and any relay of this checkout (scripts/relay.ts) started since the run began.
 */
function leftovers(): ProcInfo[] {
  const marked = processesWithEnv(RUN_MARKER, RUN_ID);
  const relays = processes().filter((p) =>
    p.cmdline.includes(PROJECT_ROOT) && p.cmdline.includes("scripts/relay.ts") && p.startTicks >= RUN_STARTED_TICKS
  );
  const byPid = new Map([...marked, ...relays].map((p) => [p.pid, p]));
  byPid.delete(process.pid);
  return [...byPid.values()];
}

/** Fails the run when a test left a process behind (and ends those, by pid: they are this run's). */
async function noProcessLeftBehind(): Promise<boolean> {
  if (await waitUntil(() => leftovers().length === 0, 3000)) return true;
  const left = leftovers();
  for (const p of left) console.error(`  left running: pid ${p.pid} (ppid ${p.ppid}, pgid ${p.pgid}): ${p.cmdline}`);
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch { /* exited meanwhile */ }
  }
  return false;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): boolean {
  const r = spawnSync(cmd, args, { cwd: PROJECT_ROOT, stdio: "inherit", env: { ...process.env, ...env } });
  return r.status === 0;
}

async function step(name: string, fn: () => boolean | Promise<boolean> | void | Promise<void>, note?: string) {
  console.log(`\n=== ${name} ===`);
  const t = Date.now();
  let ok = false;
  try {
    ok = (await fn()) !== false;
  } catch (err) {
    console.error(err instanceof StackError ? err.message : err);
  }
  results.push({ step: name, ok, seconds: (Date.now() - t) / 1000, note });
  return ok;
}

function testEnv(i: Instance, startedAt: number): NodeJS.ProcessEnv {
  return {
    SWITCHYARD_STACK: i.name,
    SWITCHYARD_API_URL: apiUrl(i),
    SWITCHYARD_DB_URL: dbUrl(i),
    SWITCHYARD_ANON_KEY: i.anonKey,
    SWITCHYARD_SERVICE_ROLE_KEY: i.serviceRoleKey,
    SWITCHYARD_JWT_SECRET: i.jwtSecret,
    SWITCHYARD_STACK_STARTED_AT: String(startedAt),
    [RUN_MARKER]: RUN_ID,
  };
}

/** pgTAP files: supabase/tests/<owner>/*.sql (and any at the top), never `_`-prefixed ones. */
function pgtapFiles(dir = join(PROJECT_ROOT, "supabase", "tests")): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith("_") || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...pgtapFiles(p));
    else if (e.name.endsWith(".sql")) out.push(relative(PROJECT_ROOT, p));
  }
  return out.sort();
}

/** Snapshot drift and migration layout: readable failures, one line per problem. */
function schemaCheck(inst: Instance): boolean {
  let ok = true;
  const problems = layoutProblems(readMigrations());
  if (problems.length > 0) {
    ok = false;
    console.error(`migration layout: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  } else {
    console.log("migration layout: every function and procedure is defined in exactly one migration; names are <timestamp>_<owner>_<topic>.sql");
  }
  const committed = existsSync(SCHEMA_FILE) ? readFileSync(SCHEMA_FILE, "utf8") : "";
  const actual = dumpSchema(inst);
  if (committed !== actual) {
    ok = false;
    console.error(
      `supabase/schema.sql differs from the schema the migrations build${committed ? "" : " (the file is missing)"}.\n` +
        "If the migration change is intended, run `npm run schema:dump` and commit supabase/schema.sql.\n" +
        shortDiff(committed, actual, ["supabase/schema.sql (committed)", "migrations (fresh stack)"]),
    );
  } else {
    console.log("schema snapshot: supabase/schema.sql matches the migrated stack");
  }
  return ok;
}

/** actionlint from the Go module proxy (`go run` builds it once, then runs it from Go's cache). */
const ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12";
function actionlint(): boolean {
  if (spawnSync("go", ["version"], { stdio: "ignore" }).status !== 0) {
    console.error("actionlint needs Go 1.25 or later on PATH (Debian bookworm's golang-go, 1.19, is too old; see README)");
    return false;
  }
  const dir = join(PROJECT_ROOT, ".github", "workflows");
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));
  return sh("go", ["run", ACTIONLINT, ...files]);
}

async function main(): Promise<number> {
  await step("lint (deno lint)", () => sh(join(BIN, "deno"), ["lint", "--quiet"]));
  await step("typecheck (tsc, Node code)", () => sh(join(BIN, "tsc"), ["-p", "."]));
  await step("typecheck (tsc, k6 scripts against @types/k6)", () => sh(join(BIN, "tsc"), ["-p", "k6"]));
  await step(`actionlint ${ACTIONLINT.split("@")[1]} (.github/workflows)`, actionlint);
  await step("typecheck (deno check, functions + runtime)", () => denoCheck());

  const inst = await ensureInstance(`test-${process.pid}`, { api: await freePort(), db: await freePort() }, true);
  let startedAt = Date.now();
  try {
    const upOk = await step("throwaway stack up", async () => {
      await up(inst, (s) => console.log(`[stack] ${s}`), { skipCheck: true, relayWorker: false });
      startedAt = Date.now(); // the schedules exist from here on
    });
    if (upOk) {
      const env = testEnv(inst, startedAt);
      // Before pgTAP and the seed-dependent tests touch anything: the schema as migrated.
      await step("schema snapshot + migration layout", () => schemaCheck(inst));
      await step("pgTAP (pg_prove supabase/tests/**)", () => {
        psql(inst, ["-c", "create extension if not exists pgtap with schema extensions"]);
        psql(inst, ["-f", join(PROJECT_ROOT, "supabase", "tests", "_helpers.sql")], "pgTAP helpers (supabase/tests/_helpers.sql)");
        if (ONLY.length > 0 && onlySql.length === 0) return true;
        return sh("pg_prove", ["--failures", "-d", dbUrl(inst), ...(onlySql.length > 0 ? onlySql : pgtapFiles())]);
      });
      if (ONLY.length === 0 || onlyVitest.length > 0) {
        await step("vitest (unit + integration)", () => sh(join(BIN, "vitest"), ["run", ...onlyVitest], env));
      }
      if (ONLY.length === 0) {
        await step("load smoke (thresholds)", () =>
          existsSync(join(PROJECT_ROOT, "load", "smoke.ts")) ? sh(join(BIN, "tsx"), ["load/smoke.ts"], env) : false);
      }
    }
  } finally {
    await destroy(inst, () => {});
  }
  // The fault suite's quick form on its own throwaway stack (a Postgres restart under load:
  // lost = 0, the runtime alive, 503 + Retry-After; <= 90 s). On in a full run
  // (SWITCHYARD_FAULTS_QUICK=0 skips it); beside `npm test -- <files>` with SWITCHYARD_FAULTS_QUICK=1.
  const faultsQuick = process.env.SWITCHYARD_FAULTS_QUICK;
  if (ONLY.length === 0 ? faultsQuick !== "0" : faultsQuick === "1") {
    await step("fault suite, quick (Postgres restart under load)", () =>
      sh(join(BIN, "tsx"), ["scripts/faults/run.ts", "--quick"], { [RUN_MARKER]: RUN_ID }));
  }
  await step("no process left behind (relays, test children)", noProcessLeftBehind);

  console.log("\n=== summary ===");
  for (const r of results) {
    console.log(`  ${r.ok ? "PASS" : "FAIL"}  ${r.step.padEnd(46)} ${r.seconds.toFixed(1).padStart(6)} s${r.note ? `  (${r.note})` : ""}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\nsteps: ${results.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err);
  process.exit(1);
});
