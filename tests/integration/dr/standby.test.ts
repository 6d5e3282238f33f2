/**
 * Disaster recovery (issue 19) on a stack of this file's own with a streaming standby: its
 * primary is stopped, killed with -9 and replaced, which the files sharing the run's stack
 * must never see. In order: lag and its alert; refusals (DR permission, one cutover at a time,
 * the loss window); a planned cutover under price_one load (0 acknowledged writes lost);
 * fail-back by pg_rewind; an unplanned cutover after kill -9 with the standby's WAL receiver
 * stopped (lost = the N acknowledged writes, counted here); fail-back again; the same crash with
 * synchronous replication on (lost = 0, no --accept-loss; a commit the primary wrote but never
 * acknowledged is reported as such); fail-back again.
 * Last: a verified base backup (what backup freshness reads) and a point-in-time restore test.
 * The drill with its RPO/RTO figures under load (also kill -9 mid-load): `npm run dr-drill`.
 */
import { setTimeout as sleep } from "node:timers/promises";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiUrl, dbUrl, ensureInstance, type Instance, loadInstance } from "../../../scripts/stack/instance.ts";
import { destroy, up } from "../../../scripts/stack/manager.ts";
import { freePort, poll } from "../../../scripts/stack/processes.ts";
import { ensureStandby, standbyOf } from "../../../scripts/stack/standby.ts";
import { killPrimary, stopWalReceiver } from "../../../scripts/dr/faults.ts";
import { missingQuotes, opsToken, priceOne, startLoad } from "../../../scripts/dr/load.ts";
import { runScript } from "../../helpers/cli.ts";
import { USERS, userJwt } from "../../helpers/auth.ts";

let inst: Instance;

/** The stack as its state file says now (a cutover swaps primary and standby). */
const current = () => loadInstance(inst.name)!;
const connectTo = (i: Instance) => postgres(dbUrl(i), { prepare: false, max: 1, onnotice: () => {} });
async function withDb<T>(i: Instance, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = connectTo(i);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}
const opsDr = (args: string[]) => runScript("scripts/ops.ts", ["dr", ...args, "--stack", inst.name, "--json"], { SUPABASE_DB_URL: dbUrl(current()) });
const ops = (args: string[]) => runScript("scripts/ops.ts", [...args, "--json"], { SUPABASE_DB_URL: dbUrl(current()) });
const tick = () => fetch(`${apiUrl(inst)}/functions/v1/autopilot/tick`, {
  method: "POST", headers: { authorization: `Bearer ${inst.serviceRoleKey}`, "content-type": "application/json" }, body: "{}",
}).then((r) => r.json());
/** The console's Standby panel, read as super_admin (a global metrics.read). */
const consoleReplication = async () => {
  const res = await fetch(`${apiUrl(inst)}/functions/v1/console/api/replication`, {
    headers: { authorization: `Bearer ${await userJwt(USERS.super, { secret: inst.jwtSecret })}` },
  });
  expect(res.status).toBe(200);
  return await res.json();
};
const inRecovery = (i: Instance) => withDb(i, async (sql) => (await sql`select pg_is_in_recovery() as r`)[0].r as boolean);
const halted = (i: Instance) => withDb(i, async (sql) => (await sql`select public.flag_value('autonomy.emergencyStop') as v`)[0].v);

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 15_000): Promise<T> {
  const v = await poll(ms, fn);
  if (v === null) throw new Error(`timed out waiting for ${what}`);
  return v;
}

beforeAll(async () => {
  inst = await ensureInstance(`dr-${process.pid}`, { api: await freePort(), db: await freePort() });
  await up(inst, () => {}, { skipCheck: true });
  await ensureStandby(inst, () => {});
  inst = current();
}, 300_000);

afterAll(async () => {
  if (inst) await destroy(current(), () => {});
}, 60_000);

describe("the standby and its lag (issue 19 item 1)", () => {
  it("streams; ops status shows the lag in bytes and seconds; the tick alerts once lag passes dr.standby.maxLagBytes", async () => {
    const status = await ops(["status"]);
    expect(status.code, status.stderr).toBe(0);
    const [r] = status.json().data.replication;
    expect(r).toMatchObject({ slot: "switchyard_standby", state: "streaming" });
    expect(typeof r.lagBytes).toBe("number");
    expect(typeof r.lagSeconds).toBe("number");
    expect(await consoleReplication()).toMatchObject({
      slots: [{ slot: "switchyard_standby", state: "streaming", within: true, lag_bytes: expect.any(Number), lag_seconds: expect.any(Number) }],
      max_lag_bytes: 16777216, max_lag_seconds: 30,
    });

    const alerts = () => withDb(current(), (sql) => sql`select detail from public.alerts where source = 'dr.lag' and resolved_at is null`);
    await tick();
    expect(await alerts()).toEqual([]); // within the default 16 MiB / 30 s

    // The standby holds back every commit for an hour: its replay stops while the primary writes on.
    const sb = standbyOf(current())!;
    await withDb(sb, async (sql) => {
      await sql`alter system set recovery_min_apply_delay = '1h'`;
      await sql`select pg_reload_conf()`;
    });
    try {
      const set = await ops(["flags", "set", "dr.standby.maxLagBytes", "1024", "--reason", "dr test: a tight lag limit"]);
      expect(set.code, set.stderr).toBe(0);
      await until("lag past 1024 bytes", () => withDb(current(), async (sql) => {
        await sql`select pg_switch_wal()`; // WAL the standby receives and does not replay
        const [x] = await sql`select lag_bytes from app_private.dr_replication()`;
        return Number(x.lag_bytes) > 1024;
      }), 15_000);
      await tick();
      const [a] = await alerts();
      expect(a.detail).toMatchObject({ slot: "switchyard_standby", state: "streaming", max_bytes: 1024 });
      expect(a.detail.lag_bytes).toBeGreaterThan(1024);
      // The console shows the same slot past its threshold.
      const shown = await consoleReplication();
      expect(shown).toMatchObject({ slots: [{ slot: "switchyard_standby", within: false }], max_lag_bytes: 1024 });
      expect(shown.slots[0].lag_bytes).toBeGreaterThan(1024);
    } finally {
      await withDb(sb, async (sql) => {
        await sql`alter system reset recovery_min_apply_delay`;
        await sql`select pg_reload_conf()`;
      });
      await ops(["flags", "set", "dr.standby.maxLagBytes", "16777216", "--reason", "dr test: back to the default"]);
    }
  }, 60_000);
});

describe("refusals (issue 19 bad input)", () => {
  it("a principal without dr.execute is refused in Postgres (dr_forbidden, SY160) and nothing moves", async () => {
    const r = await opsDr(["cutover", "--as", "viewer@demo-freight.test"]);
    expect(r.code, r.stderr).toBe(60);
    expect(r.json().error).toMatchObject({ code: "dr_forbidden", sqlstate: "SY160" });
    expect(await inRecovery(standbyOf(current())!)).toBe(true);
    expect(await halted(current())).toBe(false);
  });

  it("a second cutover while one runs is refused (dr_cutover_running, SY161)", async () => {
    const sql = connectTo(standbyOf(current())!);
    const held = await sql.reserve(); // the first runbook's session: it holds the cutover lock
    try {
      await held`select app_private.dr_authorize('system')`;
      const r = await opsDr(["cutover", "--as", "system"]);
      expect(r.code, r.stderr).toBe(61);
      expect(r.json().error).toMatchObject({ code: "dr_cutover_running", sqlstate: "SY161" });
    } finally {
      held.release();
      await sql.end({ timeout: 1 });
    }
    expect(await inRecovery(standbyOf(current())!)).toBe(true);
  });
});

describe("planned cutover and fail-back (issue 19 items 2, 3)", () => {
  it("under a steady price_one load: 0 acknowledged writes lost, autonomy stopped during the switch and resumed after, prove-green green on the new primary, RTO reported", async () => {
    const before = current();
    const standbyPort = standbyOf(before)!.dbPort;
    const load = await startLoad(before, 4);
    await until("load acknowledged", () => load.acked.length >= 20);
    const r = await opsDr(["cutover", "--as", "super@switchyard.test"]);
    const atCutover = load.acked.length;
    await until("writes on the new primary", () => load.acked.length >= atCutover + 10);
    const { acked } = await load.stop();
    expect(r.code, r.stderr).toBe(0);
    const report = r.json().data;
    expect(report).toMatchObject({ planned: true, lost_commits: 0, lost_bytes: 0, green: true, new_primary: `127.0.0.1:${standbyPort}` });
    expect(report.prove_green.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(report.rto_ms).toBeGreaterThan(0);

    const now = current();
    expect(now.dbPort).toBe(standbyPort);
    expect(await inRecovery(now)).toBe(false);
    await withDb(now, async (sql) => {
      expect(await missingQuotes(sql, acked)).toEqual([]);
      // Stopped before the switch (replicated from the old primary), still stopped after it.
      const [run] = await sql`select ok, steps, principal_id from ops.dr_runs where id = ${report.run_id}`;
      expect(run.ok).toBe(true);
      const promoteAt = run.steps.find((s: { step: string }) => s.step === "promote (pg_promote)").at;
      const [stop] = await sql`select changed_at, changed_by from public.feature_flag_history
                               where key = 'autonomy.emergencyStop' and new_value = 'true' order by changed_at limit 1`;
      expect(stop.changed_by).toBe("super@switchyard.test");
      expect(new Date(stop.changed_at).getTime()).toBeLessThan(new Date(promoteAt).getTime());
      const [audit] = await sql`select principal_name from public.audit_log where action = 'dr.cutover' and target_id = ${String(report.run_id)} order by occurred_at desc limit 1`;
      expect(audit.principal_name).toBe("super@switchyard.test");
    });
    expect(await halted(now)).toBe(true);
    const resumed = await ops(["resume", "--reason", "dr test: cutover verified by a human"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(await halted(now)).toBe(false);
  }, 120_000);

  it("fail-back: the old primary rejoins as a standby via pg_rewind and streams again (lag shown)", async () => {
    const r = await opsDr(["failback", "--as", "system"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().data).toMatchObject({ method: "pg_rewind", state: "streaming" });
    const s = await opsDr(["status"]);
    expect(s.json().data.replication[0]).toMatchObject({ slot: "switchyard_standby", state: "streaming" });
    expect(await inRecovery(standbyOf(current())!)).toBe(true);
  }, 60_000);
});

describe("unplanned cutover: the primary killed with -9 (issue 19 Decisions)", () => {
  const N = 12;
  let acked: string[] = [];
  let goneAt: Date;

  it("with the standby's WAL receiver stopped, N acknowledged writes and kill -9: promotion without --accept-loss is refused with the loss window", async () => {
    const primary = current();
    const standby = standbyOf(primary)!;
    await stopWalReceiver(standby);
    const token = await opsToken(primary);
    for (let n = 0; n < N; n++) acked.push((await priceOne(primary, token))!);
    acked = acked.filter(Boolean);
    expect(acked).toHaveLength(N); // every one acknowledged (200) by the primary
    goneAt = killPrimary(primary);

    const r = await opsDr(["cutover", "--as", "system"]);
    expect(r.code, r.stderr).toBe(62);
    const e = r.json().error;
    expect(e).toMatchObject({ code: "dr_loss_window", sqlstate: "SY162" });
    expect(e.detail.lost_commits).toBeGreaterThanOrEqual(N);
    expect(await inRecovery(standby)).toBe(true); // refused: not promoted
  }, 60_000);

  it("with --accept-loss it promotes and reports lost = N, the acknowledged writes missing on the new primary", async () => {
    const r = await opsDr(["cutover", "--as", "system", "--accept-loss", "--primary-gone-at", goneAt.toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json().data;
    expect(report.planned).toBe(false);
    expect(report.green).toBe(true);
    const missing = await withDb(current(), (sql) => missingQuotes(sql, acked));
    expect(missing).toHaveLength(N); // what the clients saw acknowledged and is gone
    expect(report.lost_by_table["public.rates_quotes"]).toBe(missing.length); // what the runbook reported
    expect(report.rto_ms).toBeGreaterThan(0);
    await ops(["resume", "--reason", "dr test: unplanned cutover verified"]);
  }, 60_000);

  it("fail-back after the crash: pg_rewind discards the lost commits and the old primary streams again", async () => {
    const r = await opsDr(["failback", "--as", "system"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().data).toMatchObject({ method: "pg_rewind", state: "streaming" });
    const old = standbyOf(current())!;
    const left = await withDb(old, (sql) => missingQuotes(sql, acked));
    expect(left).toHaveLength(N); // rewound: the old primary no longer has them either
  }, 60_000);
});

describe("unplanned cutover with synchronous replication: nothing acknowledged is lost (issue 19 Must show)", () => {
  const N = 12;
  let acked: string[] = [];

  it("synchronous_standby_names on, N acknowledged writes, one more left waiting for the standby, kill -9: no --accept-loss needed, lost = 0, the waiting one reported unacknowledged", async () => {
    const primary = current();
    await withDb(primary, async (sql) => {
      await sql`alter system set synchronous_standby_names = '*'`;
      await sql`select pg_reload_conf()`;
    });
    await until("the standby is synchronous", () => withDb(primary, async (sql) =>
      (await sql`select sync_state from pg_stat_replication`)[0]?.sync_state === "sync"));
    const token = await opsToken(primary);
    for (let n = 0; n < N; n++) acked.push((await priceOne(primary, token))!);
    acked = acked.filter(Boolean);
    expect(acked).toHaveLength(N); // each acknowledged after the standby flushed it
    // The standby stops receiving: the next write commits in the primary's WAL and waits.
    await stopWalReceiver(standbyOf(primary)!);
    const waiting = priceOne(primary, token);
    await until("a commit waiting for the synchronous standby", () => withDb(primary, async (sql) =>
      (await sql`select count(*)::int as n from pg_stat_activity where wait_event = 'SyncRep'`)[0].n > 0));
    const goneAt = killPrimary(primary);
    expect(await waiting).toBeNull(); // never acknowledged to its client

    const r = await opsDr(["cutover", "--as", "system", "--primary-gone-at", goneAt.toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json().data;
    expect(report).toMatchObject({ planned: false, green: true, lost_commits: 0, lost_bytes: 0,
                                   synchronous: { synchronous: true, synchronous_standby_names: "*" } });
    expect(report.unacknowledged_commits).toBeGreaterThanOrEqual(1); // the waiting write, at least
    expect(await withDb(current(), (sql) => missingQuotes(sql, acked))).toEqual([]); // all N on the new primary
    await ops(["resume", "--reason", "dr test: synchronous cutover verified"]);
  }, 90_000);

  it("fail-back: the old primary rejoins as an asynchronous standby (the new primary's settings, by pg_rewind)", async () => {
    const r = await opsDr(["failback", "--as", "system"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().data).toMatchObject({ method: "pg_rewind", state: "streaming" });
    const [rep] = await withDb(current(), (sql) => sql`select sync_state, current_setting('synchronous_standby_names') as names from pg_stat_replication`);
    expect(rep).toMatchObject({ sync_state: "async", names: "" });
    expect(await withDb(standbyOf(current())!, (sql) => missingQuotes(sql, acked))).toEqual([]);
  }, 60_000);
});

describe("backups and the restore test (issue 19 item 4)", () => {
  it("a verified base backup is what the daily freshness check reads; a point-in-time restore into a scratch cluster passes pg_amcheck and the audit chains verify", async () => {
    const daily = () => fetch(`${apiUrl(inst)}/functions/v1/autopilot/daily`, {
      method: "POST", headers: { authorization: `Bearer ${inst.serviceRoleKey}`, "content-type": "application/json" }, body: "{}",
    }).then((r) => r.json());
    await daily();
    const [before] = await withDb(current(), (sql) => sql`select summary from public.alerts where source = 'backup.freshness' and resolved_at is null`);
    expect(before.summary).toContain("No verified backup recorded");

    const b = await opsDr(["backup"]);
    expect(b.code, b.stderr).toBe(0);
    const backup = b.json().data;
    expect(backup.verified).toBe("backup successfully verified");
    const fresh = await daily();
    expect(JSON.stringify(fresh)).toContain(backup.label); // the daily job read the verified backup

    // An audited change before the target time and one after it: the restore keeps only the first.
    const flag = (v: string) => ops(["flags", "set", "dr.standby.maxLagSeconds", v, "--reason", `dr test: restore marker ${v}`]);
    expect((await flag("31")).code).toBe(0);
    await sleep(1100);
    const target = new Date();
    await sleep(1100);
    expect((await flag("30")).code).toBe(0);

    const r = await opsDr(["restore-test", "--target-time", target.toISOString()]);
    expect(r.code, r.stderr).toBe(0);
    const report = r.json().data;
    expect(report).toMatchObject({ ok: true, amcheck: "clean", audit_ok: true, flags_typed: true, trial_balance_cents: 0, backup: backup.label });
    expect(report.audit_chains).toBeGreaterThan(0);
    expect(new Date(report.last_audit_at).getTime()).toBeLessThanOrEqual(target.getTime());
    expect(new Date(report.last_audit_at).getTime()).toBeGreaterThan(target.getTime() - 3000); // the marker before it is there
    expect(new Date(report.recovery_point).getTime()).toBeLessThanOrEqual(target.getTime());
    const [run] = await withDb(current(), (sql) => sql`select ok from ops.schedule_runs where job = 'restore-test' order by id desc limit 1`);
    expect(run.ok).toBe(true);
  }, 90_000);
});
