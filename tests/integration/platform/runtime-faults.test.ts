/**
 * Issue 12 items 1, 2 and 10: the local runtime outlives what happens inside it and to its
 * database and a burst of connections that uses up its file descriptors, and its supervisor starts it again when it does exit. A stack of its own (this
 * file restarts its Postgres and its runtime), with the runtime's tripwire on: an unhandled
 * rejection or exception exits it instead of being contained, so a floating promise shows as
 * a supervisor restart.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl, dbUrl, ensureInstance, type Instance, PROJECT_ROOT } from "../../../scripts/stack/instance.ts";
import { destroy, runtimePid, startRuntime, status, stopRuntime, up } from "../../../scripts/stack/manager.ts";
import { restartCluster } from "../../../scripts/stack/postgres.ts";
import { freePort } from "../../../scripts/stack/processes.ts";

let inst: Instance;
let sql: postgres.Sql;
const RUNTIME = { relayWorker: true, tripwire: true };

beforeAll(async () => {
  inst = await ensureInstance(`rtfaults-${process.pid}`, { api: await freePort(), db: await freePort() }, true);
  await up(inst, () => {}, { skipCheck: true, ...RUNTIME });
  sql = postgres(dbUrl(inst), { prepare: false, max: 2, onnotice: () => {} });
}, 300_000);
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  if (inst) await destroy(inst, () => {});
});

const healthUrl = () => `${apiUrl(inst)}/functions/v1/health`;
const health = () =>
  fetch(healthUrl(), { headers: { authorization: `Bearer ${inst.anonKey}` }, signal: AbortSignal.timeout(10_000) })
    .then(async (r) => (await r.body?.cancel(), r.status), () => 0);
const runtimeLog = () => readFileSync(join(inst.stateDir, "runtime.log"), "utf8");
/** pg_net calls of health, queued now; their request ids. */
const queueHealthCalls = async (n: number): Promise<string[]> =>
  (await sql`select net.http_get(${healthUrl()}, headers := jsonb_build_object('Authorization', 'Bearer ' || ${inst.anonKey}::text)) as id
             from generate_series(1, ${n})`).map((r) => String(r.id));
const responses = (ids: string[]) =>
  sql`select id::text, status_code, error_msg from net._http_response where id = any(${ids}::bigint[]) order by id`;
/** Fails at once when the runtime exited since `before` (the tripwire's line says why). */
const stillUp = (before: { restarts: number }) => {
  if (status(inst).restarts === before.restarts) return;
  throw new Error(`the runtime exited: ${runtimeLog().split("\n").filter((l) => l.includes("tripwire")).join("\n")}`);
};
type Maybe<T> = T | null | undefined | false;
const waitFor = async <T>(what: string, probe: () => Maybe<T> | Promise<Maybe<T>>, ms = 60_000): Promise<T> => {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe("the local runtime survives", () => {
  it("a pg_net response whose insert fails: logged with its request id, the runtime stays up (item 2)", async () => {
    const before = status(inst);
    expect(before.runtime).toBe("running");
    await sql.unsafe(`
      create table public.test_refused_responses (id bigint primary key);
      create function public.test_refuse_response() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from public.test_refused_responses where id = new.id) then
          raise exception 'injected: this response is refused';
        end if;
        return new;
      end $$;
      create trigger test_refuse_response before insert on net._http_response
        for each row execute function public.test_refuse_response();`);
    try {
      // Queued and marked in one transaction: the worker sees the request only with its mark.
      const [{ id }] = await sql`
        with r as (select net.http_get(${healthUrl()}) as id)
        insert into public.test_refused_responses select id from r returning id::text`;
      const line = await waitFor("the lost response's log line", () => {
        stillUp(before);
        return runtimeLog().split("\n").find((l) => l.includes('"pg_net response not recorded"') && l.includes(`"request_id":"${id}"`));
      });
      expect(JSON.parse(line)).toMatchObject({ level: "error", status_code: 401, timed_out: false, attempts: 1 });
      expect(JSON.parse(line).err).toContain("injected: this response is refused");
      // Same process, no restart; the worker goes on with the next request.
      expect(status(inst)).toMatchObject({ runtimePid: before.runtimePid, restarts: before.restarts });
      const [next] = await queueHealthCalls(1);
      const [r] = await waitFor("the next response", async () => (await responses([next])).length ? responses([next]) : null);
      expect(r).toMatchObject({ status_code: 200, error_msg: null });
    } finally {
      await sql.unsafe(`drop trigger test_refuse_response on net._http_response;
        drop function public.test_refuse_response(); drop table public.test_refused_responses;`);
    }
  });

  it("pg_ctl restart -m fast three times under load: the runtime never exits and answers again after each (item 1)", async () => {
    const before = status(inst);
    let stop = false, ok = 0;
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) if ((await health()) === 200) ok++;
    });
    try {
      await waitFor("load", () => ok > 0);
      for (let i = 0; i < 3; i++) {
        await restartCluster(inst);
        const at = ok;
        await waitFor(`health after restart ${i + 1}`, () => (stillUp(before), ok > at));
      }
    } finally {
      stop = true;
      await Promise.all(load);
    }
    expect(status(inst)).toMatchObject({ runtime: "running", runtimePid: before.runtimePid, restarts: before.restarts });
    expect(runtimeLog()).not.toContain("tripwire, exiting");
  }, 180_000);

  it("file descriptors used up by a burst of connections (EMFILE): the gateway listens again once they are free, the runtime never exits", async () => {
    const before = status(inst);
    const pid = before.runtimePid!;
    const fds = () => readdirSync(`/proc/${pid}/fd`).length;
    const [, soft, hard] = /Max open files\s+(\d+)\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))!;
    const prlimit = (limit: string) => spawnSync("prlimit", [`--nofile=${limit}`, "--pid", String(pid)], { encoding: "utf8" });
    expect(prlimit(`${fds() + 30}:${hard}`).status).toBe(0); // room for 30 more descriptors
    const sockets: Socket[] = [];
    try {
      // Held open until the accept loop fails for want of a descriptor.
      for (let i = 0; i < 200; i++) sockets.push(connect(inst.apiPort, "127.0.0.1").on("error", () => {}));
      await waitFor("the listener's accept error", () => runtimeLog().includes("Too many open files"), 30_000);
    } finally {
      for (const s of sockets) s.destroy();
      prlimit(`${soft}:${hard}`); // (fails harmlessly if the runtime is gone: stillUp below says so)
    }
    await waitFor("health after the burst", async () => (stillUp(before), (await health()) === 200), 30_000);
    expect(status(inst)).toMatchObject({ runtime: "running", runtimePid: pid, restarts: before.restarts });
    expect(runtimeLog()).toContain('"gateway listener failed; listening again"');
  }, 90_000);

  it("SIGKILL: the supervisor starts the runtime again, and `stack status` counts the restart", async () => {
    const before = status(inst);
    process.kill(before.runtimePid!, "SIGKILL");
    await waitFor("a new runtime", async () => runtimePid(inst) !== null && runtimePid(inst) !== before.runtimePid && (await health()) === 200);
    const cli = spawnSync(join(PROJECT_ROOT, "node_modules/.bin/tsx"), ["scripts/stack.ts", "status", "--name", inst.name, "--json"], {
      cwd: PROJECT_ROOT, encoding: "utf8",
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({
      runtime: "running", restarts: before.restarts + 1, lastExit: { signal: "SIGKILL" }, supervisorPid: before.supervisorPid,
    });
    expect(runtimeLog()).toContain('"msg":"runtime exited; restarting"');
  }, 120_000);

  it("calls queued while the runtime was down are sent once its gateway listens: answered, not `fetch failed` (item 10)", async () => {
    await stopRuntime(inst);
    const ids = await queueHealthCalls(5);
    await startRuntime(inst, () => {}, RUNTIME);
    const rows = await waitFor("the queued calls' responses", async () => {
      const r = await responses(ids);
      return r.length === ids.length ? r : null;
    });
    expect(rows.map((r) => [r.status_code, r.error_msg])).toEqual(ids.map(() => [200, null]));
  }, 120_000);
});
