/**
 * The scenarios of the fault suite (issue 12 "Must show"). Each runs under price_one load on
 * its own tenant with its own subscription to its own receiver, injects one fault, lets the
 * system recover, and returns its figures (measure.ts) and its checks (pass / SHORT).
 */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { opsToken } from "../../bench/lib/fixtures.ts";
import { fmtMs, latency, progress, sleep } from "../../bench/lib/stats.ts";
import { type LoadRun, type Sent, startLoad } from "./load.ts";
import { type Figures, measure, recoveredAt, waitDelivered } from "./measure.ts";
import { deliveredAt, type Receiver, type ReceiverMode, startReceiver } from "./receiver.ts";
import { healthy } from "../stack/manager.ts";
import { restartCluster } from "../stack/postgres.ts";
import { type FaultStack, operatorUp, pgKill9AndStart, servingPid, watchRuntime } from "./stack.ts";

export interface Check {
  figure: string;
  target: string;
  measured: string;
  pass: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  seconds: number;
  figures?: Figures;
  /** Time to recover, as text ("1.2 s after the database was back"). */
  recover: string;
  /** "alive, 0 exits", "died (restarted by the harness)". */
  runtime: string;
  notes: string[];
  checks: Check[];
  error?: string;
}

export interface Ctx {
  stack: FaultStack;
  /** price_one/s of the load under the faults. */
  rate: number;
  tenants: string[];
  /** The quick form (npm test): shorter waits, a shorter client retry window, no cron check. */
  quick: boolean;
  /** Receivers and load runs still open (closed on Ctrl-C). */
  open: { receivers: Set<Receiver>; loads: Set<LoadRun> };
}

interface Tenant {
  id: string;
  token: string;
  receiver: Receiver;
  subscription: string;
}

let nextTenant = 0;

/** The next unused tenant, subscribed (rates.quote.created) to a fresh receiver. */
async function tenant(ctx: Ctx, o: { fastRetries?: boolean } = {}): Promise<Tenant> {
  const id = ctx.tenants[nextTenant++];
  if (!id) throw new Error("out of fault-suite tenants");
  const sql = ctx.stack.admin;
  const receiver = await startReceiver();
  ctx.open.receivers.add(receiver);
  const secretRef = `${id}/faults-${randomBytes(4).toString("hex")}`;
  await sql`select vault.create_secret(${"whsec_" + randomBytes(24).toString("base64")}, ${secretRef})`;
  const [sub] = await sql`insert into public.outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref, event_filter)
    values (${id}, ${secretRef.slice(37)}, ${receiver.url}, ${secretRef}, '{rates.quote.created}') returning id`;
  if (o.fastRetries) {
    // Receiver faults last seconds, not hours: retry after 0.5, 1, 2, 4 ... s, and never DLQ within the run.
    await sql`insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
      values ('outbox.retryBaseMs', ${"tenant:" + id}, '500', 'fault suite: short retries', 'faults'),
             ('outbox.maxAttempts', ${"tenant:" + id}, '30', 'fault suite: short retries', 'faults')
      on conflict (key, scope) do update set value = excluded.value`;
  }
  return { id, token: await opsToken(ctx.stack.inst.jwtSecret, id), receiver, subscription: sub.id };
}

function load(ctx: Ctx, t: Tenant, rate = ctx.rate, seconds?: number): LoadRun {
  const run = startLoad({
    api: ctx.stack.api, callers: [{ tenant: t.id, token: t.token }], rate, seconds, retryWindowMs: ctx.quick ? 15_000 : 60_000,
  });
  ctx.open.loads.add(run);
  return run;
}

async function stopLoad(ctx: Ctx, run: LoadRun): Promise<Sent[]> {
  const sent = await run.stop();
  ctx.open.loads.delete(run);
  return sent;
}

async function closeReceiver(ctx: Ctx, r: Receiver): Promise<void> {
  await r.close();
  ctx.open.receivers.delete(r);
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const check = (figure: string, target: string, measured: string | number, pass: boolean): Check =>
  ({ figure, target, measured: String(measured), pass });

/**
 * lost = 0 and duplicates = 0: every scenario's first two checks. After a crash (`crash`: the
 * relay or the database died between a receiver's 2xx and its acknowledgement) delivery is
 * at-least-once by design, the receiver dedupes by webhook-id, and duplicates are a figure only.
 */
function integrity(f: Figures, crash = false): Check[] {
  const d = f.lostDetail;
  const why = f.lost === 0 ? "0" : `${f.lost} (${[
    d.notCommitted && `${d.notCommitted} accepted not committed`,
    d.halfWritten && `${d.halfWritten} half-written`,
    d.markedDeliveredNotTaken && `${d.markedDeliveredNotTaken} marked delivered, never received`,
    d.undelivered - d.markedDeliveredNotTaken && `${d.undelivered - d.markedDeliveredNotTaken} never delivered`,
  ].filter(Boolean).join(", ")})`;
  return [
    check("lost", "0", why, f.lost === 0),
    ...(crash ? [] : [check("duplicates (same webhook-id taken twice)", "0", f.duplicates, f.duplicates === 0)]),
  ];
}

const fiveXxOther = (f: Figures) => Object.entries(f.fiveXx).filter(([k]) => !k.startsWith("503")).reduce((n, [, v]) => n + v, 0);
const finalFailed = (f: Figures) => Object.values(f.finalNot2xx).reduce((n, v) => n + v, 0);
export const fmtCounts = (c: Record<string, number>) =>
  Object.keys(c).length === 0 ? "none" : Object.entries(c).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} x${v}`).join(", ");

/** Was agents.autonomousEnabled turned off (a rollback), and SLO-breach alerts since `since`. */
async function rollbackState(sql: postgres.Sql, since: Date): Promise<{ agentsOn: boolean; breaches: number }> {
  const [r] = await sql`
    select coalesce((select value::text = 'true' from public.feature_flags_v2 where key = 'agents.autonomousEnabled' and scope = 'global'), false) as on,
           (select count(*)::int from public.alerts where source = 'slo.breach' and created_at >= ${since}) as breaches`;
  return { agentsOn: r.on, breaches: r.breaches };
}

/** A pg_net call (the cron schedules) answered 2xx after `since`: the scheduler works again. */
async function cronCallAnsweredAfter(sql: postgres.Sql, since: number, waitMs: number): Promise<number | null> {
  const until = Date.now() + waitMs;
  for (;;) {
    const [r] = await sql`select min(created) as at from net._http_response where status_code between 200 and 299 and created > ${new Date(since)}`
      .catch(() => [{ at: null }]);
    if (r.at) return new Date(r.at).getTime();
    if (Date.now() > until) return null;
    await sleep(1000);
  }
}

/**
 * The autopilot's 30 s tick, called now (as pg_cron would, with the service key), then waits
 * until the global agents flag reads `want` (pg_cron's own ticks count too) or `ms` passed.
 * Returns what the tick answered (a status, or why it did not).
 */
async function autopilotTick(ctx: Ctx): Promise<string> {
  try {
    const res = await fetch(`${ctx.stack.api}/functions/v1/autopilot/tick`, {
      method: "POST", headers: { authorization: `Bearer ${ctx.stack.inst.serviceRoleKey}`, "content-type": "application/json" }, body: "{}",
      signal: AbortSignal.timeout(60_000),
    });
    await res.body?.cancel();
    return String(res.status);
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

async function agentsFlagIs(sql: postgres.Sql, want: boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if ((await rollbackState(sql, new Date())).agentsOn === want) return true;
    if (Date.now() > until) return false;
    await sleep(1000);
  }
}

/**
 * Between scenarios: the switchboard back to the charter's values (a rollback a scenario
 * caused must not stop the next one's deliveries), the SLO minutes cleared, alerts resolved,
 * and the runtime idle again (its health check answers within 1 s; at most 2 minutes).
 */
export async function resetBetween(ctx: Ctx): Promise<void> {
  const sql = ctx.stack.admin;
  await sql.begin(async (tx) => {
    await tx`select set_config('app.reason', 'fault suite: reset between scenarios', true)`;
    await tx`update public.feature_flags_v2 set value = 'true', reason = 'fault suite: reset between scenarios', owner_name = 'faults'
             where key = 'agents.autonomousEnabled' and scope = 'global' and value::text <> 'true'`;
    await tx`update public.feature_flags_v2 set value = '150', reason = 'fault suite: reset between scenarios', owner_name = 'faults'
             where key = 'budget.agents.maxConcurrent' and scope = 'global' and value::text <> '150'`;
    await tx`delete from public.request_metrics`;
    await tx`update public.alerts set resolved_at = now() where resolved_at is null`;
  });
  // The runtime finishes requests their clients gave up on: the next scenario starts once it is idle.
  const until = Date.now() + 120_000;
  while (Date.now() < until && !(await healthy(ctx.stack.inst, 1000))) await sleep(1000);
}

/** Serving: the runtime answers its health check within `ms` (a saturated machine answers slowly). */
async function serving(ctx: Ctx, ms = 30_000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await healthy(ctx.stack.inst, 5000)) return true;
    if (!servingPid(ctx.stack.inst) || Date.now() > until) return false;
    await sleep(1000);
  }
}

/** After a scenario: the runtime serving, or the harness restarts it (as an operator would). */
async function ensureServing(ctx: Ctx, notes: string[]): Promise<void> {
  if (await serving(ctx, 30_000)) return;
  const dead = !servingPid(ctx.stack.inst);
  progress(`  the runtime is ${dead ? "down" : "alive but not answering for 30 s"}: restarting it as an operator would (npm run stack -- up)`);
  await operatorUp(ctx.stack.inst);
  notes.push(`runtime ${dead ? "down" : "not answering"} at the end: restarted by the harness (npm run stack -- up)`);
}

function runtimeText(w: { exits: number }, alive: boolean): string {
  return `${alive ? "alive" : "DOWN"}, ${w.exits} exit${w.exits === 1 ? "" : "s"}`;
}

// --- Database outages ------------------------------------------------------------------

interface Outage {
  faultAt: number;
  backAt: number;
}

async function dbOutage(
  ctx: Ctx, id: string, title: string, inject: () => Promise<Outage[]>,
  o: { warmMs?: number; afterMs?: number; databaseAway?: boolean; crash?: boolean } = {},
): Promise<ScenarioResult> {
  const { warmMs = 8000, afterMs = 20_000, databaseAway = true, crash = false } = o;
  const started = Date.now();
  const t = await tenant(ctx);
  const watch = watchRuntime(ctx.stack.inst);
  const run = load(ctx, t);
  await sleep(warmMs);
  const outages = await inject();
  const last = outages.at(-1)!;
  progress(`  ${title}: database back ${secs(last.backAt - outages[0].faultAt)} after the first fault; load goes on ${secs(afterMs)}`);
  await sleep(afterMs);
  const sent = await stopLoad(ctx, run);
  const w = watch.stop();
  const alive = await serving(ctx);
  const notes: string[] = [];
  const cronAt = alive && !ctx.quick ? await cronCallAnsweredAfter(ctx.stack.admin, last.backAt, 40_000) : null;
  await ensureServing(ctx, notes);
  await waitDelivered(ctx.stack.admin, t.id, t.subscription, t.receiver, ctx.quick ? 25_000 : 45_000);
  const f = await measure(ctx.stack.admin, { tenant: t.id, subscription: t.subscription, receiver: t.receiver, sent });
  await closeReceiver(ctx, t.receiver);
  // Recovery per outage: the first prompt 2xx to a request sent after the database was back (before the next fault).
  // "Promptly": within 2 s, or twice the p95 before the fault on a machine slower than that.
  const before = sent.flatMap((s) => s.attempts.filter((a) => a.status >= 200 && a.status < 300 && a.at + a.ms < outages[0].faultAt).map((a) => a.ms));
  const prompt = Math.max(2000, 2 * latency(before).p95 || 0);
  const recov = outages.map((o, i) => {
    const at = recoveredAt(sent.map((s) => ({ ...s, attempts: s.attempts.filter((a) => a.at < (outages[i + 1]?.faultAt ?? Infinity)) })), o.backAt, prompt);
    return at === null ? null : at - o.backAt;
  });
  const recovered = recov.filter((r): r is number => r !== null);
  const worst = recovered.length ? Math.max(...recovered) : NaN;
  const down = Math.max(...outages.map((o) => o.backAt - o.faultAt));
  const recover = recovered.length === outages.length
    ? `${secs(worst)} after the database was back${outages.length > 1 ? ` (worst of ${outages.length})` : ""}; outage ${secs(down)}${outages.length > 1 ? " max" : ""}`
    : `${outages.length - recovered.length} of ${outages.length} outage(s) never recovered`;
  return {
    id, title, seconds: (Date.now() - started) / 1000, figures: f, recover, runtime: runtimeText(w, alive), notes,
    checks: [
      ...integrity(f, crash),
      check("runtime never exits", "0 exits, serving at the end", runtimeText(w, alive), w.exits === 0 && alive),
      // Exhausted connections need not fail a request (pooled ones go on); an outage must.
      ...(databaseAway ? [check("503 with Retry-After while the database is away", "> 0", f.with503RetryAfter, f.with503RetryAfter > 0)] : []),
      check("5xx other than 503", "0", fmtCounts(Object.fromEntries(Object.entries(f.fiveXx).filter(([k]) => !k.startsWith("503")))), fiveXxOther(f) === 0),
      check("every retried request succeeds", "0 final failures", finalFailed(f) === 0 ? 0 : fmtCounts(f.finalNot2xx), finalFailed(f) === 0),
      check("time to recover after the database is back", "<= 5 s", recovered.length === outages.length ? secs(worst) : "never", recovered.length === outages.length && worst <= 5000),
      ...(ctx.quick ? [] : [
        check("cron / pg_net calls answered again", "a 2xx after the outage", cronAt ? `${secs(cronAt - last.backAt)} after` : "none in 40 s", cronAt !== null),
      ]),
    ],
  };
}

export function pgRestart(ctx: Ctx, times = 1, afterMs = 20_000): Promise<ScenarioResult> {
  const title = times === 1 ? "Postgres restart -m fast" : `Postgres restart -m fast x${times}`;
  return dbOutage(ctx, times === 1 ? "pg-restart" : `pg-restart-x${times}`, title, async () => {
    const out: Outage[] = [];
    for (let i = 0; i < times; i++) {
      const faultAt = Date.now();
      await restartCluster(ctx.stack.inst);
      out.push({ faultAt, backAt: Date.now() });
      if (times > 1) progress(`  restart ${i + 1}/${times}: back in ${secs(Date.now() - faultAt)}`);
      if (i < times - 1) await sleep(4000);
    }
    return out;
  }, { warmMs: times === 1 ? 8000 : 5000, afterMs });
}

export function pgKill9(ctx: Ctx): Promise<ScenarioResult> {
  return dbOutage(ctx, "pg-kill9", "postmaster kill -9", async () => {
    const { killedAt, acceptingAt } = await pgKill9AndStart(ctx.stack.inst, 2000);
    return [{ faultAt: killedAt, backAt: acceptingAt }];
  }, { crash: true });
}

/** Every connection slot held by idle sessions until a pg_cron tick has run, then released. */
export function connectionsExhausted(ctx: Ctx): Promise<ScenarioResult> {
  return dbOutage(ctx, "conn-exhausted", "connections exhausted across a cron tick", async () => {
    const sql = ctx.stack.admin;
    // The accounting pool's connections are opened first: it keeps them through the fault.
    await Promise.all([1, 2, 3].map(() => sql`select pg_sleep(0.1)`));
    const hog = postgres(ctx.stack.db, { prepare: false, max: 400, connect_timeout: 5, onnotice: () => {} });
    const held: postgres.ReservedSql[] = [];
    let refused = 0;
    while (refused < 3 && held.length < 400) {
      try {
        held.push(await hog.reserve());
        refused = 0;
      } catch {
        refused++;
      }
    }
    const faultAt = Date.now();
    const [{ max }] = await sql`select current_setting('max_connections') as max`;
    progress(`  holding ${held.length} idle sessions (max_connections ${max}); waiting for a pg_cron run`);
    const until = faultAt + 40_000;
    while (Date.now() < until) {
      const [r] = await sql`select count(*)::int as n from cron.job_run_details where start_time > ${new Date(faultAt)}`;
      if (r.n > 0) break;
      await sleep(1000);
    }
    await sleep(3000); // the tick's calls run against the exhausted server
    await Promise.all(held.map((c) => c.release()));
    await hog.end({ timeout: 1 });
    return [{ faultAt, backAt: Date.now() }];
  }, { warmMs: 5000, afterMs: 15_000, databaseAway: false });
}

/** The runtime's serving process SIGKILLed under load; a supervisor should bring it back. */
export async function runtimeKill(ctx: Ctx): Promise<ScenarioResult> {
  const started = Date.now();
  const t = await tenant(ctx);
  const run = load(ctx, t);
  await sleep(8000);
  const target = servingPid(ctx.stack.inst);
  if (!target) throw new Error("no runtime process to kill");
  process.kill(target.pid, "SIGKILL");
  const killedAt = Date.now();
  let by = "a supervisor";
  let backAt: number | null = null;
  while (Date.now() - killedAt < 20_000) {
    if (await healthy(ctx.stack.inst, 1000)) {
      backAt = Date.now();
      break;
    }
    await sleep(250);
  }
  if (backAt === null) {
    progress("  nothing restarted the runtime in 20 s: the harness runs npm run stack -- up");
    by = "the harness (npm run stack -- up)";
    await operatorUp(ctx.stack.inst);
    backAt = Date.now();
  }
  progress(`  runtime (pid ${target.pid}${target.supervised ? ", a supervised worker" : ""}) back after ${secs(backAt - killedAt)}, by ${by}`);
  await sleep(10_000);
  const sent = await stopLoad(ctx, run);
  const notes: string[] = [];
  await ensureServing(ctx, notes);
  await waitDelivered(ctx.stack.admin, t.id, t.subscription, t.receiver, 45_000);
  const f = await measure(ctx.stack.admin, { tenant: t.id, subscription: t.subscription, receiver: t.receiver, sent });
  await closeReceiver(ctx, t.receiver);
  const alone = by === "a supervisor";
  return {
    id: "runtime-sigkill", title: "runtime SIGKILLed", seconds: (Date.now() - started) / 1000, figures: f,
    recover: `${secs(backAt - killedAt)} (by ${by})`, runtime: alone ? "restarted by its supervisor" : "stayed down until the harness restarted it", notes,
    checks: [
      ...integrity(f, true),
      check("restarted without an operator", "a supervisor restarts it", `by ${by} after ${secs(backAt - killedAt)}`, alone),
      check("every retried request succeeds", "0 final failures", finalFailed(f) === 0 ? 0 : fmtCounts(f.finalNot2xx), finalFailed(f) === 0),
    ],
  };
}

// --- Receivers ---------------------------------------------------------------------------

export async function receiverFault(ctx: Ctx, mode: Exclude<ReceiverMode, "ok">, faultMs: number): Promise<ScenarioResult> {
  const started = Date.now();
  const title = { "500": "receiver answers 500", "429": "receiver answers 429 (Retry-After: 2)", "410": "receiver answers 410", hang: "receiver hangs 30 s" }[mode];
  const t = await tenant(ctx, { fastRetries: true });
  const watch = watchRuntime(ctx.stack.inst);
  const run = load(ctx, t);
  await sleep(5000);
  t.receiver.mode = mode;
  const faultAt = Date.now();
  await sleep(faultMs);
  t.receiver.mode = "ok";
  const notes: string[] = [];
  if (mode === "410") {
    // A human re-enables the subscription once the receiver is back.
    const [s] = await ctx.stack.admin`update public.outbox_subscriptions set enabled = true where id = ${t.subscription} and not enabled returning id`;
    notes.push(s ? "the 410 switched the subscription off; the harness re-enabled it after the window (a human's act)" : "the subscription stayed enabled through the 410s");
  }
  const backAt = Date.now();
  progress(`  ${title} for ${secs(faultMs)}; receiver answers 204 again`);
  await sleep(5000);
  const sent = await stopLoad(ctx, run);
  const open = await waitDelivered(ctx.stack.admin, t.id, t.subscription, t.receiver, 90_000);
  const doneAt = Date.now();
  const w = watch.stop();
  const alive = await serving(ctx);
  await ensureServing(ctx, notes);
  const f = await measure(ctx.stack.admin, { tenant: t.id, subscription: t.subscription, receiver: t.receiver, sent });
  const [{ alerts }] = await ctx.stack.admin`select count(*)::int as alerts from public.alerts where tenant_id = ${t.id} and created_at >= ${new Date(faultAt)}`;
  await closeReceiver(ctx, t.receiver);
  const lastDelivery = Math.max(...deliveredAt(t.receiver).values());
  const checks = [
    ...integrity(f),
    check("every attempt the receiver saw is in outbox_deliveries", "0 unrecorded", f.unrecordedAttempts, f.unrecordedAttempts === 0),
    check("runtime never exits", "0 exits, serving at the end", runtimeText(w, alive), w.exits === 0 && alive),
  ];
  if (mode === "410") checks.push(check("the tenant is alerted of the 410", ">= 1 tenant alert", alerts, alerts > 0));
  if (f.parked > 0) notes.push(`${f.parked} event(s) parked (DLQ / dead / parked), not delivered`);
  return {
    id: `receiver-${mode}`, title, seconds: (Date.now() - started) / 1000, figures: f,
    recover: open === 0 ? `all delivered ${secs(Math.max(0, lastDelivery - backAt))} after the receiver was back` : `${open} still undelivered ${secs(doneAt - backAt)} after`,
    runtime: runtimeText(w, alive), notes, checks,
  };
}

// --- The autopilot -----------------------------------------------------------------------

/** An SLO rollback under load (agents off): committed events must keep flowing, lag p95 < 5 s. */
export async function sloRollback(ctx: Ctx, offMs = 30_000): Promise<ScenarioResult> {
  const started = Date.now();
  const sql = ctx.stack.admin;
  const t = await tenant(ctx);
  const watch = watchRuntime(ctx.stack.inst);
  const run = load(ctx, t);
  await sleep(8000);
  // A platform breach the gate cannot miss: 200 failed rates requests in the current minute (both
  // windows) in each of four tenants (one tenant failing alone is a quarantine, not a rollback).
  const breaching = [t.id, ...ctx.tenants.slice(-3)];
  await sql`select count(app_private.record_request('rates', 'rates', x.id, 100, true, now()))
            from unnest(${breaching}::uuid[]) as x(id), generate_series(1, 200)`;
  const tick = await autopilotTick(ctx);
  const agentsOn = !(await agentsFlagIs(sql, false, 35_000)); // else pg_cron's next tick
  const notes: string[] = [];
  if (agentsOn) {
    // What the gate's rollback writes, so the delivery figure is still measured.
    await sql`update public.feature_flags_v2 set value = 'false', reason = 'fault suite: the rollback the gate did not make', owner_name = 'autopilot'
              where key = 'agents.autonomousEnabled' and scope = 'global'`;
    notes.push(`the autopilot did not roll back (tick: ${tick}); the harness turned agents off as the rollback does`);
  }
  const offAt = Date.now();
  progress(`  autopilot tick answered ${tick}; ${agentsOn ? "no rollback: the harness turned agents off" : "rolled back: agents off"}`);
  await sleep(offMs);
  const onAt = Date.now();
  await sql.begin(async (tx) => {
    await tx`select set_config('app.reason', 'fault suite: a human turns agents back on', true)`;
    await tx`delete from public.request_metrics where tenant_id = any(${breaching}::uuid[])`;
    await tx`update public.feature_flags_v2 set value = 'true', reason = 'fault suite: agents back on', owner_name = 'faults'
             where key = 'agents.autonomousEnabled' and scope = 'global'`;
  });
  await sleep(5000);
  const sent = await stopLoad(ctx, run);
  await waitDelivered(sql, t.id, t.subscription, t.receiver, 45_000);
  const w = watch.stop();
  const alive = await serving(ctx);
  await ensureServing(ctx, notes);
  const f = await measure(sql, { tenant: t.id, subscription: t.subscription, receiver: t.receiver, sent, lagFrom: offAt, lagTo: onAt });
  await closeReceiver(ctx, t.receiver);
  return {
    id: "slo-rollback", title: "SLO rollback under load (agents off 30 s)", seconds: (Date.now() - started) / 1000, figures: f,
    recover: `agents off ${secs(onAt - offAt)}; lag p95 while off ${fmtLag(f.lag.p95)}`, runtime: runtimeText(w, alive), notes,
    checks: [
      ...integrity(f),
      check("the autopilot rolled back (agents.autonomousEnabled false)", "rolled back", agentsOn ? "no rollback" : "rolled back", !agentsOn),
      check("webhook delivery lag p95 while agents are off", "< 5 s", `${fmtLag(f.lag.p95)} (${f.lag.n} events)`, f.lag.n > 0 && f.lag.p95 < 5000),
    ],
  };
}

export const fmtLag = (ms: number) => (ms === Infinity ? "never delivered" : Number.isFinite(ms) ? `${fmtMs(ms)} ms` : "n/a");

/**
 * Where the database shows a tenant quarantined: open rows of tables named *quarantin* with a
 * tenant_id (public.quarantines), or a tenant-scoped flag turning its agents or portal off.
 */
async function quarantinedIn(sql: postgres.Sql, tenantId: string): Promise<string[]> {
  const tables = await sql<{ t: string; open: boolean }[]>`
    select format('%I.%I', c.table_schema, c.table_name) as t,
           exists (select 1 from information_schema.columns r where r.table_schema = c.table_schema and r.table_name = c.table_name
                   and r.column_name = 'released_at') as open
    from information_schema.columns c
    where c.table_name ilike '%quarantin%' and c.column_name = 'tenant_id' and c.table_schema not in ('pg_catalog', 'information_schema')`;
  const where: string[] = [];
  for (const { t, open } of tables) {
    // Open quarantines only, where the table records releases (public.quarantines does).
    const [r] = await sql.unsafe(`select count(*)::int as n from ${t} where tenant_id = $1${open ? " and released_at is null" : ""}`, [tenantId]);
    if (r.n > 0) where.push(`${t} (${r.n})`);
  }
  const flags = await sql`select key from public.feature_flags_v2 where scope like ${"tenant:" + tenantId + "%"}
                            and key in ('agents.autonomousEnabled', 'portal.enabled') and value::text = 'false'`;
  return [...where, ...flags.map((f) => `flag ${f.key}@tenant`)];
}

/** One tenant's requests all fail (500): only it is quarantined; the platform's agents stay on, others' deliveries go on. */
export async function quarantine(ctx: Ctx): Promise<ScenarioResult> {
  const started = Date.now();
  const sql = ctx.stack.admin;
  const good = await tenant(ctx);
  const bad = await tenant(ctx);
  await sql.unsafe(`
    create schema if not exists faults;
    create or replace function faults.fail_insert() returns trigger language plpgsql as $$
    begin raise exception 'fault suite: injected failure' using errcode = 'XX000'; end $$;
    drop trigger if exists faults_fail_tenant on public.rates_quotes;
    create trigger faults_fail_tenant before insert on public.rates_quotes for each row
      when (new.tenant_id = '${bad.id}') execute function faults.fail_insert();`);
  const watch = watchRuntime(ctx.stack.inst);
  const goodRun = load(ctx, good, Math.max(5, Math.round(ctx.rate * 0.6)));
  const badRun = load(ctx, bad, 2);
  await sleep(30_000);
  const badSent = await stopLoad(ctx, badRun);
  const tick = await autopilotTick(ctx);
  progress(`  ${badSent.length} failing requests from one tenant; autopilot tick answered ${tick}`);
  const judged = tick === "200";
  await agentsFlagIs(sql, false, 35_000); // a rollback shows within pg_cron's next tick, or never
  const sent = await stopLoad(ctx, goodRun);
  await waitDelivered(sql, good.id, good.subscription, good.receiver, 45_000);
  const w = watch.stop();
  const alive = await serving(ctx);
  const { agentsOn } = await rollbackState(sql, new Date(started));
  const badQ = await quarantinedIn(sql, bad.id);
  const goodQ = await quarantinedIn(sql, good.id);
  await sql.unsafe(`drop trigger if exists faults_fail_tenant on public.rates_quotes; drop schema faults cascade;`);
  const notes: string[] = [];
  await ensureServing(ctx, notes);
  const f = await measure(sql, { tenant: good.id, subscription: good.subscription, receiver: good.receiver, sent });
  const badFinal = badSent.filter((s) => s.status >= 500).length;
  await closeReceiver(ctx, good.receiver);
  await closeReceiver(ctx, bad.receiver);
  notes.push(`the failing tenant's requests: ${badSent.length} sent, ${badFinal} answered 5xx (${fmtCounts(countFinal(badSent))}); figures are the healthy tenant's`);
  notes.push("release by a human (audited) is not exercised: it depends on the quarantine's interface");
  return {
    id: "quarantine", title: "one tenant's requests fail (quarantine)", seconds: (Date.now() - started) / 1000, figures: f,
    recover: agentsOn ? "platform agents stayed on" : "platform-wide rollback", runtime: runtimeText(w, alive), notes,
    checks: [
      ...integrity(f),
      // Only a tick that answered judged the failures: a timed-out one proves nothing.
      check("platform agents stay on (no platform-wide rollback)", "on, after the gate judged", judged ? (agentsOn ? "on" : "switched off") : `not judged (tick: ${tick})`, judged && agentsOn),
      check("the failing tenant is quarantined (visible)", "quarantined", badQ.length ? badQ.join(", ") : "no quarantine found", badQ.length > 0),
      check("the healthy tenant is not quarantined", "not quarantined", goodQ.length ? goodQ.join(", ") : "not quarantined", goodQ.length === 0),
      check("the healthy tenant's delivery lag p95", "< 5 s", fmtLag(f.lag.p95), f.lag.p95 < 5000),
    ],
  };
}

function countFinal(sent: Sent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of sent) out[String(s.status)] = (out[String(s.status)] ?? 0) + 1;
  return out;
}

// --- Capacity ----------------------------------------------------------------------------

/** 100 price_one/s for 2 minutes on the fresh stack (the suite's first scenario): p95 < 1.5 s, no rollback. */
export async function freshRate(ctx: Ctx, rate = 100, seconds = 120): Promise<ScenarioResult> {
  const started = Date.now();
  const sql = ctx.stack.admin;
  const t = await tenant(ctx);
  const watch = watchRuntime(ctx.stack.inst);
  const run = load(ctx, t, rate, seconds);
  for (let s = 30; s < seconds; s += 30) {
    await sleep(30_000);
    const ok = run.sent.filter((x) => x.status >= 200 && x.status < 300).length;
    progress(`  ${s} s: ${run.sent.length} sent, ${ok} accepted`);
  }
  const sent = await stopLoad(ctx, run);
  const endAt = Date.now();
  // The autopilot judges the run on its next ticks (every 30 s): wait for them before reading the switchboard.
  await waitDelivered(sql, t.id, t.subscription, t.receiver, 45_000);
  await sleep(Math.max(0, 35_000 - (Date.now() - endAt)));
  const w = watch.stop();
  const alive = await serving(ctx);
  const { agentsOn, breaches } = await rollbackState(sql, new Date(started));
  const notes: string[] = [];
  await ensureServing(ctx, notes);
  const f = await measure(sql, { tenant: t.id, subscription: t.subscription, receiver: t.receiver, sent });
  await closeReceiver(ctx, t.receiver);
  const achieved = f.accepted / seconds;
  return {
    id: "fresh-100", title: `${rate} price_one/s for ${seconds / 60} min on a fresh stack`, seconds: (Date.now() - started) / 1000, figures: f,
    recover: `achieved ${achieved.toFixed(1)}/s; p95 ${fmtMs(f.latency.p95)} ms`, runtime: runtimeText(w, alive), notes,
    checks: [
      ...integrity(f),
      check(`achieved rate (target ${rate}/s; near this machine's ceiling)`, `>= ${rate * 0.95}/s`, `${achieved.toFixed(1)}/s`, achieved >= rate * 0.95),
      check("price_one p95 (portal SLO)", "< 1.5 s", `${fmtMs(f.latency.p95)} ms`, f.latency.p95 < 1500),
      check("no rollback", "agents on, no slo.breach alert", agentsOn && breaches === 0 ? "none" : `${agentsOn ? "agents on" : "agents OFF"}, ${breaches} slo.breach alert(s)`, agentsOn && breaches === 0),
    ],
  };
}
