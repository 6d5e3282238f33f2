// @ts-check
/**
 * The k6 side of the project's load runs (k6/smoke.js, k6/load.js), for users' CI: the same
 * scenarios and thresholds as the autocannon runs in load/, taken from k6/thresholds.json
 * (the entry scripts open() it at init). Scenarios: health with the anon key, and the portal
 * action rates/price_one with a real user JWT at the file's arrival rates; then one
 * iteration of outbox_lag reads the commit-to-ack lag of the events the run created from
 * the console's API (GET console/api/outbox/lag?since=) into the Trend `outbox_lag`.
 *
 * Environment (k6 run -e NAME=value, or the process environment):
 *   SWITCHYARD_API_URL     the project (https://<ref>.supabase.co, locally http://127.0.0.1:54321)
 *   SWITCHYARD_ANON_KEY    the anon key (health)
 *   SWITCHYARD_USER_JWT    a user's access token with tenant_id and outbox.read (ops_manager), or
 *   SWITCHYARD_JWT_SECRET  the project's JWT secret: setup() then signs a 30-minute HS256 token
 *                          for SWITCHYARD_K6_SUBJECT in SWITCHYARD_K6_TENANT (default: the seed's
 *                          demo tenant and its ops_manager)
 *   SWITCHYARD_LAG_WAIT_S  how long outbox_lag waits for the run's last events (default 30)
 * Type-checked against @types/k6 by npm test (k6/tsconfig.json).
 */
import { check, fail, sleep } from "k6";
import { hmac } from "k6/crypto";
import { b64encode } from "k6/encoding";
import { test } from "k6/execution";
import { get, post } from "k6/http";
import { Trend } from "k6/metrics";

/** @typedef {{ rate: number, seconds: number } | { start_rate: number, stages: { rate: number, seconds: number }[] }} Profile */
/** @typedef {{ thresholds: { metric: string, expr: string }[], runs: Record<string, Record<string, Profile>> }} LoadFile */
/** @typedef {{ token: string, since: string }} RunData */

const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
const DEMO_OPS = "e0000000-0000-4000-8000-000000000003";

const lag = new Trend("outbox_lag", true);

/** @param {string} name */
function env(name) {
  const v = __ENV[name];
  if (!v) fail(`${name} is required (k6 run -e ${name}=...)`);
  return v;
}

const api = () => env("SWITCHYARD_API_URL").replace(/\/+$/, "");
const anonHeaders = () => ({ authorization: `Bearer ${env("SWITCHYARD_ANON_KEY")}`, apikey: env("SWITCHYARD_ANON_KEY") });

/** @param {Profile} p */
const seconds = (p) => ("seconds" in p ? p.seconds : p.stages.reduce((n, s) => n + s.seconds, 0));

/**
 * One scenario of the file as a k6 arrival-rate executor. VUs: enough to hold the peak rate
 * with requests taking up to 2 s.
 * @param {string} exec the exported function it runs
 * @param {Profile} p
 * @returns {import("k6/options").Scenario}
 */
function scenario(exec, p) {
  const peak = "rate" in p ? p.rate : Math.max(p.start_rate, ...p.stages.map((s) => s.rate));
  const vus = { preAllocatedVUs: Math.max(2, Math.ceil(peak / 5)), maxVUs: Math.max(10, 2 * peak) };
  return "rate" in p
    ? { executor: "constant-arrival-rate", exec, rate: p.rate, timeUnit: "1s", duration: `${p.seconds}s`, ...vus }
    : {
      executor: "ramping-arrival-rate", exec, startRate: p.start_rate, timeUnit: "1s",
      stages: p.stages.map((s) => ({ target: s.rate, duration: `${s.seconds}s` })), ...vus,
    };
}

/**
 * The k6 options of one run of the file: its scenarios (each runs the exported function of
 * its name), then outbox_lag once after they end, and the file's thresholds verbatim.
 * @param {LoadFile} file
 * @param {string} run
 * @returns {import("k6/options").Options}
 */
export function runOptions(file, run) {
  const profiles = file.runs[run];
  /** @type {Record<string, import("k6/options").Scenario>} */
  const scenarios = {};
  for (const [name, p] of Object.entries(profiles)) scenarios[name] = scenario(name, p);
  const end = Math.max(...Object.values(profiles).map(seconds));
  scenarios.outbox_lag = { executor: "per-vu-iterations", exec: "outbox_lag", vus: 1, iterations: 1, startTime: `${end + 2}s`, maxDuration: "90s" };
  /** @type {Record<string, string[]>} */
  const thresholds = {};
  for (const t of file.thresholds) (thresholds[t.metric] ??= []).push(t.expr);
  return { scenarios, thresholds, setupTimeout: "30s" };
}

/** @param {object} claims */
const b64url = (claims) => b64encode(JSON.stringify(claims), "rawurl");

/** The user's token: SWITCHYARD_USER_JWT, or one signed here with SWITCHYARD_JWT_SECRET. */
function userToken() {
  if (__ENV.SWITCHYARD_USER_JWT) return __ENV.SWITCHYARD_USER_JWT;
  const secret = env("SWITCHYARD_JWT_SECRET");
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({
    sub: __ENV.SWITCHYARD_K6_SUBJECT || DEMO_OPS, role: "authenticated", tenant_id: __ENV.SWITCHYARD_K6_TENANT || DEMO_TENANT,
    principal_kind: "human", iat: now, exp: now + 1800,
  })}`;
  return `${unsigned}.${hmac("sha256", secret, unsigned, "base64rawurl")}`;
}

/**
 * Once before the scenarios: the user's token, and the database's clock from health (the
 * run's events are those committed since then, whatever the runner's clock says).
 * @returns {RunData}
 */
export function setup() {
  const res = get(`${api()}/functions/v1/health`, { headers: anonHeaders() });
  if (res.status !== 200) fail(`health answered ${res.status}: ${res.body}`);
  return { token: userToken(), since: String(res.json("db_time")) };
}

export function health() {
  const res = get(`${api()}/functions/v1/health`, { headers: anonHeaders() });
  check(res, { "health: 200": (r) => r.status === 200 });
}

/** @param {RunData} data */
export function price_one(data) {
  const pickup = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const res = post(`${api()}/functions/v1/rates/price_one`,
    JSON.stringify({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }),
    { headers: { authorization: `Bearer ${data.token}`, "content-type": "application/json" } });
  check(res, { "price_one: 200": (r) => r.status === 200 });
}

/**
 * After the scenarios: the lag of every event the run created, waiting up to
 * SWITCHYARD_LAG_WAIT_S for the last ones; an event still undelivered counts with its age.
 * Nothing to judge (the endpoint refused, or the run created no event) fails the run
 * (exit 110): an empty Trend gives its threshold nothing to fail on.
 * @param {RunData} data
 */
export function outbox_lag(data) {
  const waitMs = 1000 * Number(__ENV.SWITCHYARD_LAG_WAIT_S || 30);
  const started = Date.now();
  const url = `${api()}/functions/v1/console/api/outbox/lag?since=${encodeURIComponent(data.since)}`;
  for (;;) {
    const res = get(url, { headers: { authorization: `Bearer ${data.token}` } });
    if (!check(res, { "outbox/lag: 200": (r) => r.status === 200 })) return test.fail(`console/api/outbox/lag answered ${res.status}: ${res.body}`);
    const body = /** @type {{ lag_ms: number[], undelivered_ms: number[] }} */ (res.json());
    if (body.undelivered_ms.length === 0 || Date.now() - started >= waitMs) {
      const all = [...body.lag_ms, ...body.undelivered_ms];
      if (all.length === 0) return test.fail(`the run created no outbox event since ${data.since}: no outbox_lag to judge`);
      for (const ms of all) lag.add(ms);
      return;
    }
    sleep(1);
  }
}
