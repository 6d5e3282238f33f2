/**
 * The database going away (issue 12 items 4 and 5), on a stack of this file's own: its
 * Postgres is stopped, SIGKILLed and restarted, which the files sharing the run's stack must
 * never see. While the database is away clients are told 503 database_unavailable with
 * Retry-After; once it is back the next request reconnects; an Idempotency-Key whose holder
 * is gone (or stalled idle in its transaction) is resolved, never 409 forever. (`kill -9`
 * of the postmaster under load is in the fault suite.)
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbUrl, apiUrl, ensureInstance, type Instance } from "../../../scripts/stack/instance.ts";
import { destroy, up } from "../../../scripts/stack/manager.ts";
import { startCluster, stopCluster } from "../../../scripts/stack/postgres.ts";
import { freePort } from "../../../scripts/stack/processes.ts";
import { DEMO_TENANT, USERS, userJwt } from "../../helpers/auth.ts";

let inst: Instance;
let owner: postgres.Sql;
let ops: string;

const pickup = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
const QUOTE = { origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup };
const price = (headers: Record<string, string> = {}) =>
  fetch(`${apiUrl(inst)}/functions/v1/rates/price_one`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${ops}`, ...headers },
    body: JSON.stringify(QUOTE),
  });
const health = () => fetch(`${apiUrl(inst)}/functions/v1/health`, { headers: { authorization: `Bearer ${inst.anonKey}` } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function expectUnavailable(res: Response) {
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(503);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  expect(body.code).toBe("database_unavailable");
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
}

beforeAll(async () => {
  inst = await ensureInstance(`outage-${process.pid}`, { api: await freePort(), db: await freePort() }, true);
  await up(inst, () => {}, { skipCheck: true, relayWorker: false });
  owner = postgres(dbUrl(inst), { prepare: false, max: 2, onnotice: () => {} });
  ops = await userJwt(USERS.ops, { secret: inst.jwtSecret });
}, 240_000);

afterAll(async () => {
  await owner?.end({ timeout: 1 });
  if (inst) await destroy(inst, () => {});
});

describe("the database away (issue 12 item 4)", () => {
  it("health and a portal action answer 503 database_unavailable with Retry-After while Postgres is stopped, 200 once it is back", async () => {
    expect((await health()).status).toBe(200);
    expect((await price()).status).toBe(200);
    stopCluster(inst); // pg_ctl stop -m fast: the pool's connections are ended (57P01), new ones refused
    try {
      await expectUnavailable(await health());
      await expectUnavailable(await price());
      await expectUnavailable(await price({ "idempotency-key": `down-${randomBytes(4).toString("hex")}` }));
    } finally {
      startCluster(inst);
    }
    // The first requests after the restart reconnect (no backoff left over from the outage).
    expect((await health()).status).toBe(200);
    expect((await price()).status).toBe(200);
  }, 60_000);
});

describe("an Idempotency-Key whose holder is gone (issue 12 item 5)", () => {
  it("the backend holding the key is terminated mid-request: the request is told 503, its retry runs once, the next one replays", async () => {
    const key = `ended-${randomBytes(4).toString("hex")}`;
    // Hold the request inside its transaction (after action_begin took the key), as rates.test does.
    const locker = await owner.reserve();
    await locker`begin`;
    await locker`lock table rates_quotes in exclusive mode`;
    const first = price({ "idempotency-key": key });
    let waiting: { pid: number }[] = [];
    for (let i = 0; i < 200 && waiting.length === 0; i++) {
      await sleep(50);
      waiting = await owner`select l.pid from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'rates_quotes' and not l.granted`;
    }
    expect(waiting).toHaveLength(1);
    await owner`select pg_terminate_backend(${waiting[0].pid}, 5000)`;
    await locker`rollback`;
    locker.release();
    await expectUnavailable(await first); // 57P01: its connection was ended

    const retry = await price({ "idempotency-key": key });
    const body = await retry.json();
    expect(retry.status, JSON.stringify(body)).toBe(200);
    expect(retry.headers.get("idempotency-replayed")).toBeNull();
    const again = await price({ "idempotency-key": key });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect((await again.json()).data.quote_id).toBe(body.data.quote_id);
    const [{ n }] = await owner`select count(*)::int as n from idempotency_keys where key = ${key} and state = 'completed'`;
    expect(n).toBe(1);
  }, 60_000);

  it("a holder that went silent inside its transaction is ended: the retry runs instead of 409 for ever", async () => {
    const key = `stalled-${randomBytes(4).toString("hex")}`;
    // A client (psql here) that took the key exactly as the pipeline does (claims, then
    // action_begin, in its transaction) and then went silent: idle in its transaction, holding the key.
    const claims = JSON.stringify({ sub: USERS.ops, role: "authenticated", tenant_id: DEMO_TENANT, principal_kind: "human", portal: "rates" });
    const holder = spawn("psql", [dbUrl(inst), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], { stdio: ["pipe", "pipe", "pipe"] });
    const exited = new Promise<number | null>((r) => holder.on("exit", (code) => r(code)));
    let out = "";
    holder.stdout.on("data", (d) => (out += d));
    holder.stdin.write(`begin;
      select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '${claims}', true) \\g /dev/null
      select app_private.action_begin('rates.quote', '${key}', 'fingerprint', null, null, null, 'domain') \\g /dev/null
      select 'holder ' || pg_backend_pid();\n`);
    for (let i = 0; i < 200 && !/holder \d+/.test(out); i++) await sleep(50);
    const pid = Number(/holder (\d+)/.exec(out)?.[1]);
    expect(pid).toBeGreaterThan(0);
    // Past the stall threshold (app_private.idempotency_reclaim: idle in its transaction for 5 s).
    await sleep(6000);
    const retry = await price({ "idempotency-key": key });
    const body = await retry.json();
    expect(retry.status, JSON.stringify(body)).toBe(200);
    // The stalled holder was ended: its session is gone, its transaction rolled back.
    expect((await owner`select count(*)::int as n from pg_stat_activity where pid = ${pid}`)[0].n).toBe(0);
    holder.stdin.end("select 1;\n");
    expect(await exited).not.toBe(0);
    const again = await price({ "idempotency-key": key });
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect((await again.json()).data.quote_id).toBe(body.data.quote_id);
  }, 60_000);
});
