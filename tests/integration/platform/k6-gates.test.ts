/**
 * Issue 21 against the test stack: the slo.* flags are seeded with k6/thresholds.json's
 * values; console/api/outbox/lag reports the lag of the caller's own events only; the k6
 * scripts' own functions (bundled, run through tests/helpers/k6.ts's stand-in for k6's
 * runtime) sign a token, price, and read every event the run created into outbox_lag; the
 * gate fails on a failed k6 smoke like on any check and judges by the live flags; the two
 * prove-green rows of charter §10.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LOAD, parseExpr } from "../../../load/thresholds.ts";
import { PORTALS } from "../../../packages/portals/registry.ts";
import { sloLimits } from "../../../scripts/gate/checks.ts";
import { loadSmoke } from "../../../scripts/gate/load.ts";
import { proveGreen } from "../../../scripts/prove-green/checks.ts";
import { loadInstance } from "../../../scripts/stack/instance.ts";
import { USERS, userJwt } from "../../helpers/auth.ts";
import { runScript } from "../../helpers/cli.ts";
import { rolledBack, sql } from "../../helpers/db.ts";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { pinGlobalFlags } from "../../helpers/flags.ts";
import { expectProblem, portal } from "../../helpers/http.ts";
import { k6Runtime, loadK6Script } from "../../helpers/k6.ts";

pinGlobalFlags(sql, { "autonomy.emergencyStop": "false", "autonomy.mode": "FULL", "agents.autonomousEnabled": "true", "obs.otelEnabled": "true" }, "k6-gates.test");
afterAll(() => sql.end());

const dbNow = async () => ((await sql`select now() as t`)[0].t as Date).toISOString();
const lagOf = async (as: keyof typeof USERS, since: string) =>
  fetch(`${fnUrl("console/api/outbox/lag")}?since=${encodeURIComponent(since)}`, { headers: { authorization: `Bearer ${await userJwt(USERS[as])}` } });
const priceOne = (as: keyof typeof USERS) => {
  const pickup = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  return portal("rates").call("price_one", { origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }, as);
};
/** The test stack runs no relay worker: drain through the outbox-relay function until `done`. */
async function drainUntil(done: () => Promise<boolean>) {
  for (let i = 0; i < 40 && !(await done()); i++) {
    await fetch(fnUrl("outbox-relay"), { method: "POST", headers: { authorization: `Bearer ${stackEnv.serviceRoleKey}` } }).then((r) => r.body?.cancel());
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("k6/thresholds.json and the slo.* flags", () => {
  it("every flag the file names is seeded with the file's value (rate<x: 1 - x), so the gate and k6 start equal", async () => {
    const defs = Object.fromEntries((await sql`select key, default_value from public.flag_definitions where key like 'slo.%'`)
      .map((r) => [r.key, Number(r.default_value)]));
    const named = LOAD.thresholds.filter((t) => t.flag !== null);
    expect(named.map((t) => t.flag).sort()).toEqual(["slo.p95MaxMs", "slo.portalP95MaxMs", "slo.successMin"]);
    for (const t of named) {
      const { p, limit } = parseExpr(t.expr);
      expect(defs[t.flag!], `${t.flag} vs ${t.metric} ${t.expr}`).toBe(p === null ? Number((1 - limit).toFixed(6)) : limit);
    }
  });

  it("the gate judges by the live flags: an operator's slo.p95MaxMs applies to its load smoke", async () => {
    const limits = await rolledBack(async (tx) => {
      await tx`insert into public.feature_flags_v2 (key, scope, value, reason, owner_name) values ('slo.p95MaxMs', 'global', '1', 'k6-gates.test', 'system')
               on conflict (key, scope) do update set value = excluded.value`;
      return sloLimits(tx);
    });
    expect(limits).toMatchObject({ p95Ms: 1, successMin: 0.98, portalP95Ms: 1500 });
    const smoke = await loadSmoke(stackEnv.apiUrl, stackEnv.anonKey, 10, 1, limits);
    expect(smoke.threshold).toBe("http_req_failed rate<0.02, http_req_duration p(95)<1");
    expect(smoke.ok).toBe(false); // no health answer takes under 1 ms through the gateway
  });
});

describe("GET console/api/outbox/lag", () => {
  it("refuses without a token, a role without outbox.read, and a since that is no timestamp or over an hour back", async () => {
    await expectProblem(await fetch(`${fnUrl("console/api/outbox/lag")}?since=${encodeURIComponent(await dbNow())}`), 401, "missing_authorization");
    await expectProblem(await lagOf("viewer", await dbNow()), 403, "forbidden");
    await expectProblem(await lagOf("ops", "yesterday"), 400, "validation_failed");
    await expectProblem(await lagOf("ops", new Date(Date.now() - 2 * 3_600_000).toISOString()), 400, "validation_failed");
  });

  it("the caller's own events since then: undelivered with their age, then delivered with their commit-to-ack lag", async () => {
    const since = await dbNow();
    for (const as of ["ops", "ops", "dispatcher"] as const) expect((await priceOne(as)).status).toBe(200);
    const first = await (await lagOf("ops", since)).json();
    expect(first).toMatchObject({ since, events: 2, truncated: false });
    expect(first.lag_ms.length + first.undelivered_ms.length).toBe(2);
    const delivered = async () => (await (await lagOf("ops", since)).json()).lag_ms.length === 2;
    await drainUntil(delivered);
    const after = await (await lagOf("ops", since)).json();
    expect(after.undelivered_ms).toEqual([]);
    for (const ms of after.lag_ms) expect(ms).toBeGreaterThanOrEqual(0);
    // the dispatcher's quote is the tenant's too, but not ops's event
    const [{ n }] = await sql`select count(*)::int as n from public.outbox_events where event_type = 'rates.quote.created' and created_at >= ${since}::timestamptz`;
    expect(n).toBeGreaterThanOrEqual(3);
  });
});

describe("the k6 scripts' functions against the stack (runtime stand-in)", () => {
  const env = { SWITCHYARD_API_URL: stackEnv.apiUrl, SWITCHYARD_ANON_KEY: stackEnv.anonKey, SWITCHYARD_JWT_SECRET: stackEnv.jwtSecret, SWITCHYARD_LAG_WAIT_S: "0" };

  it("k6/smoke.js: setup signs a token the stack accepts, price_one prices, outbox_lag records every event of the run", async () => {
    const k6 = await loadK6Script("smoke.js");
    const run = k6Runtime(env);
    const data = k6.setup();
    expect(Date.parse(data.since)).toBeGreaterThan(Date.now() - 60_000);
    k6.health();
    for (let i = 0; i < 3; i++) k6.price_one(data);
    expect(run.checks).toEqual({ "health: 200": { passes: 1, fails: 0 }, "price_one: 200": { passes: 3, fails: 0 } });

    k6.outbox_lag(data); // no wait: whatever is not delivered yet counts with its age
    expect(run.metrics.outbox_lag).toHaveLength(3);
    const token = data.token as string;
    await drainUntil(async () => {
      const r = await fetch(`${fnUrl("console/api/outbox/lag")}?since=${encodeURIComponent(data.since)}`, { headers: { authorization: `Bearer ${token}` } });
      return (await r.json()).undelivered_ms.length === 0;
    });
    run.metrics = {};
    k6.outbox_lag(data);
    expect(run.metrics.outbox_lag).toHaveLength(3);
    for (const ms of run.metrics.outbox_lag) expect(ms).toBeLessThan(parseExpr(LOAD.thresholds.find((t) => t.metric === "outbox_lag")!.expr).limit);
    expect(run.failed).toEqual([]);
  });

  it("outbox_lag fails the run (exit 110) when there is nothing to judge: no event, or a token the endpoint refuses", async () => {
    const k6 = await loadK6Script("load.js");
    const run = k6Runtime(env);
    k6.outbox_lag(k6.setup());
    expect(run.failed).toEqual([expect.stringMatching(/created no outbox event/)]);

    const viewerToken = await userJwt(USERS.viewer);
    const viewer = k6Runtime({ ...env, SWITCHYARD_USER_JWT: viewerToken });
    const data = k6.setup();
    expect(data.token).toBe(viewerToken); // a given token is used as it is
    k6.outbox_lag(data);
    expect(viewer.failed).toEqual([expect.stringMatching(/answered 403/)]);
    expect(viewer.metrics.outbox_lag).toBeUndefined();
  });
});

describe("npm run gate with the deploy workflow's k6 smoke", () => {
  const dir = mkdtempSync(join(tmpdir(), "k6-gate-"));
  const gate = (...args: string[]) => runScript("scripts/gate.ts", ["--skip-load", "--since", new Date().toISOString(), ...args]);

  it("a passed smoke is a passing check; a bad outcome is a usage error", async () => {
    const r = await gate("--k6-outcome", "success", "--report", join(dir, "ok.md"));
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pass {2}k6_smoke +k6 run k6\/smoke\.js: every threshold green/);
    expect((await gate("--k6-outcome", "exploded")).code).toBe(2);
  });

  it("a failed smoke (k6 exit 99) fails the gate like any check: agents off as ci, the report names it", async () => {
    const r = await runScript("scripts/gate.ts", ["--skip-load", "--since", new Date().toISOString(), "--report", join(dir, "k6.md"), "--json"], { GATE_K6_OUTCOME: "failure" });
    expect(r.code, r.stderr).toBe(1);
    const out = r.json();
    expect(out.checks[0]).toMatchObject({ name: "k6_smoke", ok: false, threshold: expect.stringContaining("outbox_lag p(95)<5000") });
    expect(out.agents).toMatchObject({ disabled: true, by: "ci" });
    expect((await sql`select public.flag_value('agents.autonomousEnabled') as v`)[0].v).toBe(false);
    expect(readFileSync(join(dir, "k6.md"), "utf8")).toMatch(/## k6_smoke\n\nk6 run k6\/smoke\.js failed: a threshold was crossed \(k6 exit 99\)/);
  });
});

describe("prove-green (charter §10: k6 smoke green, SLO dashboard green)", () => {
  it("runs the load smoke with the file's thresholds and reads the SLO summary of every portal", async () => {
    const rows = await proveGreen(loadInstance(stackEnv.name)!, ["load smoke (k6/thresholds.json)", "SLO summary of every portal"]);
    expect(rows.map((r) => r.name)).toEqual(["load smoke (k6/thresholds.json)", "SLO summary of every portal"]);
    const [smoke, slo] = rows;
    expect(smoke.ok, smoke.detail).toBe(true);
    for (const t of LOAD.thresholds) expect(smoke.detail).toContain(`${t.metric} ${t.expr}`);
    for (const p of PORTALS) expect(slo.detail).toMatch(new RegExp(`\\b${p.name}\\b`));
    expect(slo.detail).toMatch(/rates green/); // the smoke just priced
    expect(slo.ok).toBe(!slo.detail.includes("RED"));
  });
});
