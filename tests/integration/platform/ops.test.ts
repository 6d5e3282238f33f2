/**
 * The ops CLI end to end: each command spawned as an operator runs it (tsx scripts/ops.ts,
 * SUPABASE_DB_URL = the test stack), checked by exit code, --json shape and Postgres state.
 * Flags it touches are restored after every test; its DLQ data lives in a tenant of its own.
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScript } from "../../helpers/cli.ts";
import { pinGlobalFlags } from "../../helpers/flags.ts";
import { stackEnv } from "../../helpers/env.ts";
import { sql } from "../../helpers/db.ts";

// The charter's switchboard values (§3) at the start of every test.
pinGlobalFlags(sql, { "autonomy.emergencyStop": "false", "autonomy.mode": "FULL", "agents.autonomousEnabled": "true", "budget.replay.maxBatch": "50" }, "ops.test");
const ops = (...args: string[]) => runScript("scripts/ops.ts", args);

/** The charter's "Resume Operations" statement, verbatim. */
const CHARTER_RESUME = "update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';";

const tenant = { id: randomUUID(), slug: `ops-test-${randomBytes(4).toString("hex")}` };

const flag = async (key: string, tenantId: string | null = null) => (await sql`select public.flag_value(${key}, ${tenantId}::uuid) as v`)[0].v;

/** Dead-letters n events of the test tenant the way the relay does, each with a trace id. */
async function deadLetter(n: number, traceId?: string): Promise<string[]> {
  const rows = await sql`
    with e as (
      insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload, trace_id, state, attempts, last_error)
      select ${tenant.id}, 'shipment', 'ops-' || gen_random_uuid(), 'shipment.created', '{"ok": false}',
             coalesce(${traceId ?? null}, encode(extensions.gen_random_bytes(16), 'hex')), 'dead', 8, 'HTTP 500 from subscriber'
      from generate_series(1, ${n}) returning *)
    insert into public.dlq_entries (tenant_id, event_id, event_created_at, event_type, aggregate_type, aggregate_id, event,
                                    attempts, last_error, payload_bytes, trace_id)
    select tenant_id, id, created_at, event_type, aggregate_type, aggregate_id, to_jsonb(e), attempts, last_error,
           octet_length(payload::text), trace_id from e
    returning id`;
  return rows.map((r) => r.id);
}

/** Stands in for the relay: marks a replay's re-queued events delivered. */
const deliverReplay = (requestId: string) =>
  sql`update public.outbox_events set state = 'delivered', delivered_at = now()
      where headers ->> 'x-replay-request' = ${requestId} and state = 'pending'`;

beforeAll(async () => {
  await sql`insert into public.tenants (id, slug, name) values (${tenant.id}, ${tenant.slug}, 'Ops CLI test')`;
});

afterAll(async () => {
  await sql`delete from public.tenants where id = ${tenant.id}`;
  await sql.end();
});

describe("ops stop / status / resume", () => {
  it("stop halts, status shows HALTED (human and --json), the charter's psql resume brings it back", async () => {
    const stop = await ops("stop", "--reason", "ops.test: drill");
    expect(stop.code, stop.stderr).toBe(0);
    expect(stop.stdout).toMatch(/^HALTED/);
    expect(await flag("autonomy.emergencyStop")).toBe(true);
    const [h] = await sql`select reason, changed_by, application_name from public.feature_flag_history
                          where key = 'autonomy.emergencyStop' order by changed_at desc limit 1`;
    expect(h).toMatchObject({ reason: "ops.test: drill", application_name: expect.stringMatching(/^switchyard-ops \(.+\)$/) });

    // (independent runs go in parallel: each is a process start)
    const [human, halted, again] = await Promise.all([ops("status"), ops("status", "--json"), ops("stop", "--json")]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Switchyard: HALTED/);
    expect(halted.code).toBe(0);
    expect(halted.json()).toMatchObject({ ok: true, command: "status", data: { state: "HALTED", halted: true } });
    // Stopping again is idempotent, and --json says nothing changed.
    expect(again.code).toBe(0);
    expect(again.json().data).toMatchObject({ halted: true, previous: true, changed: false });
    expect(again.json().data.reason).toMatch(/^emergency stop via ops CLI by /);

    const psql = spawnSync("psql", [stackEnv.dbUrl, "-v", "ON_ERROR_STOP=1", "-c", CHARTER_RESUME], { encoding: "utf8" });
    expect(psql.status, psql.stderr).toBe(0);
    expect(psql.stdout.trim()).toBe("UPDATE 1");

    const [running, runningHuman] = await Promise.all([ops("status", "--json"), ops("status")]);
    const data = running.json().data;
    expect(data).toMatchObject({ state: "RUNNING", halted: false, mode: "FULL" });
    expect(data.activation).toEqual({ "autonomy.emergencyStop": false, "autonomy.mode": "FULL", "agents.autonomousEnabled": true, "obs.otelEnabled": true });
    expect(data.budgets).toMatchObject({ "budget.replay.maxBatch": 50, "rate.replay.per5m": 3 });
    expect(data.queue).toEqual({ pending: expect.any(Number), delivering: expect.any(Number), failed: expect.any(Number) });
    expect(data.outboxLag).toHaveProperty("p95Ms");
    expect(data.dlq).toEqual({ dead: expect.any(Number), parked: expect.any(Number), newInWindow: expect.any(Number) });
    expect(Array.isArray(data.slo)).toBe(true);
    expect(runningHuman.stdout).toMatch(/^Switchyard: RUNNING, mode FULL/);
  });

  it("resume runs the charter's resume statement", async () => {
    await ops("stop");
    const r = await ops("resume", "--reason", "ops.test: all clear", "--json");
    expect(r.code).toBe(0);
    expect(r.json().data).toMatchObject({ halted: false, previous: true, changed: true, statement: CHARTER_RESUME });
    expect(await flag("autonomy.emergencyStop")).toBe(false);
  });

  it("status --window must be an interval (usage, exit 2)", async () => {
    const r = await ops("status", "--window", "yesterday", "--json");
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ ok: false, error: { code: "usage", exit: 2 } });
  });
});

describe("ops mode", () => {
  it("sets autonomy.mode and refuses an unknown mode", async () => {
    const r = await ops("mode", "step-down", "--reason", "ops.test: step down", "--json");
    expect(r.code).toBe(0);
    expect(r.json().data).toMatchObject({ mode: "STEP-DOWN", previous: "FULL", changed: true });
    expect(await flag("autonomy.mode")).toBe("STEP-DOWN");
    expect((await ops("status", "--json")).json().data.mode).toBe("STEP-DOWN");

    const bad = await ops("mode", "sideways", "--json");
    expect(bad.code).toBe(2);
    expect(bad.json().error.code).toBe("usage");
  });
});

describe("ops flags", () => {
  it("get lists typed values, get <key> shows rows and history, an unknown key is SY010 (exit 20)", async () => {
    const [all, one, unknown] = await Promise.all([
      ops("flags", "get", "--json"), ops("flags", "get", "budget.replay.maxBatch", "--json"), ops("flags", "get", "no.suchFlag", "--json"),
    ]);
    expect(all.code).toBe(0);
    const byKey = Object.fromEntries(all.json().data.flags.map((f: any) => [f.key, f]));
    expect(byKey["autonomy.emergencyStop"]).toMatchObject({ value: false, type: "boolean" });
    expect(byKey["budget.agents.maxConcurrent"]).toMatchObject({ value: 150, type: "integer" });

    expect(one.code).toBe(0);
    expect(one.json()).toMatchObject({ command: "flags get", data: { key: "budget.replay.maxBatch", value: 50, type: "integer", from: "global" } });
    expect(one.json().data.rows[0]).toMatchObject({ scope: "global", value: 50 });

    expect(unknown.code).toBe(20);
    expect(unknown.json().error).toMatchObject({ code: "unknown_flag", sqlstate: "SY010", exit: 20 });
  });

  it("set needs --reason (usage, exit 2), surfaces bad_flag_value (22) and bad_flag_scope (21), and writes with history", async () => {
    const [noReason, noReasonHuman, bad, negative, scope] = await Promise.all([
      ops("flags", "set", "budget.replay.maxBatch", "10", "--json"),
      ops("flags", "set", "budget.replay.maxBatch", "10"),
      ops("flags", "set", "budget.replay.maxBatch", "lots", "--reason", "ops.test", "--json"),
      ops("flags", "set", "budget.replay.maxBatch", "--reason", "ops.test", "--", "-5"),
      ops("flags", "set", "portal.enabled", "false", "--scope", "portal:nowhere", "--reason", "ops.test", "--json"),
    ]);
    expect(noReason.code).toBe(2);
    expect(noReason.json().error).toMatchObject({ code: "usage", exit: 2 });
    expect(noReason.json().error.message).toMatch(/--reason is required/);
    expect(noReasonHuman.stderr).toMatch(/--reason is required/);
    expect(bad.code).toBe(22);
    expect(bad.json().error).toMatchObject({ code: "bad_flag_value", sqlstate: "SY012" });
    expect(negative.code).toBe(22);
    expect(negative.stderr).toMatch(/bad_flag_value: budget.replay.maxBatch is a budget and cannot be negative/);
    expect(scope.code).toBe(21);
    expect(scope.json().error.code).toBe("bad_flag_scope");

    const ok = await ops("flags", "set", "budget.replay.maxBatch", "10", "--reason", "ops.test: smaller batches", "--json");
    expect(ok.code).toBe(0);
    expect(ok.json().data).toMatchObject({ key: "budget.replay.maxBatch", scope: "global", previous: 50, value: 10, changed: true });
    expect(await flag("budget.replay.maxBatch")).toBe(10);
    const [h] = await sql`select new_value, reason from public.feature_flag_history where key = 'budget.replay.maxBatch' order by changed_at desc limit 1`;
    expect(h).toEqual({ new_value: "10", reason: "ops.test: smaller batches" });
  });

  it("set at a tenant scope writes that tenant's row only", async () => {
    const r = await ops("flags", "set", "dlq.paused", "yes", "--scope", `tenant:${tenant.id}`, "--reason", "ops.test: pause one tenant", "--json");
    expect(r.code).toBe(0);
    expect(r.json().data).toMatchObject({ scope: `tenant:${tenant.id}`, value: true, previous: null });
    expect(await flag("dlq.paused", tenant.id)).toBe(true);
    expect(await flag("dlq.paused")).toBe(false);
    const get = await ops("flags", "get", "dlq.paused", "--scope", `tenant:${tenant.id}`, "--json");
    expect(get.json().data).toMatchObject({ value: true, from: `tenant:${tenant.id}` });
    await sql`delete from public.feature_flags_v2 where key = 'dlq.paused' and tenant_id = ${tenant.id}`;
  });
});

describe("ops dlq", () => {
  it("list and dry-run; the caps are Postgres': replay_cap_exceeded (exit 18)", async () => {
    const ids = await deadLetter(2);
    const [list, noTenant, dry, noSelection, badId] = await Promise.all([
      ops("dlq", "list", "--tenant", tenant.slug, "--json"),
      ops("dlq", "list", "--tenant", "no-such-tenant", "--json"),
      ops("dlq", "dry-run", "--tenant", tenant.id, "--all", "--json"),
      ops("dlq", "dry-run", "--tenant", tenant.slug, "--json"), // neither --ids nor --all
      ops("dlq", "dry-run", "--tenant", tenant.slug, "--ids", "not-a-uuid"),
    ]);
    expect(list.code).toBe(0);
    expect(list.json().data.entries.map((e: any) => e.id).sort()).toEqual([...ids].sort());
    expect(noTenant.code).toBe(4);
    expect(dry.code).toBe(0);
    expect(dry.json().data).toMatchObject({ status: "dry_run", batchSize: 2, outcome: { would_replay: 2 }, progress: null });
    expect(noSelection.code).toBe(2);
    expect(badId.code).toBe(2);

    await sql`update public.feature_flags_v2 set value = '1' where key = 'budget.replay.maxBatch' and scope = 'global'`;
    const capped = await ops("dlq", "dry-run", "--tenant", tenant.slug, "--ids", ids.join(","), "--json");
    expect(capped.code).toBe(18);
    expect(capped.json().error).toMatchObject({ code: "replay_cap_exceeded", sqlstate: "SY008", detail: { "budget.replay.maxBatch": 1 } });
    await sql`update public.dlq_entries set state = 'discarded' where id in ${sql(ids)}`;
  });

  it("replay follows delivery to the end; DEGRADE refuses (dlq_paused, 17); STEP-DOWN waits for approve; the 4th replay in 5 minutes is rate_limited (15)", async () => {
    const ids = await deadLetter(5);

    // FULL: executes at once, the CLI follows delivery (the relay, or this stand-in) to the end.
    const running = ops("dlq", "replay", "--tenant", tenant.slug, "--ids", ids[0], "--ids", ids[1], "--wait", "30", "--json");
    const [req] = await pollFor(() => sql`select id from public.replay_requests where tenant_id = ${tenant.id} and not dry_run and status = 'executed'`);
    await deliverReplay(req.id);
    const replay = await running;
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.json().data).toMatchObject({
      requestId: req.id, status: "executed", batchSize: 2,
      progress: { total: 2, delivered: 2, failed: 0, pending: 0, complete: true, shouldStop: false },
    });
    const progress = await ops("dlq", "progress", req.id, "--json");
    expect(progress.json().data.progress).toMatchObject({ total: 2, delivered: 2 });

    // DEGRADE: refused before any rate token is taken.
    await ops("mode", "degrade", "--reason", "ops.test");
    const paused = await ops("dlq", "replay", "--tenant", tenant.slug, "--ids", ids[2], "--json");
    expect(paused.code).toBe(17);
    expect(paused.json().error).toMatchObject({ code: "dlq_paused", sqlstate: "SY007" });

    // STEP-DOWN: the request waits for a human; approve executes it.
    await ops("mode", "step-down", "--reason", "ops.test");
    const pending = await ops("dlq", "replay", "--tenant", tenant.slug, "--ids", ids[2], "--json");
    expect(pending.code).toBe(0);
    expect(pending.json().data).toMatchObject({ status: "pending_approval", progress: null });
    expect((await ops("dlq", "replay", "--tenant", tenant.slug, "--ids", ids[3])).stdout).toMatch(/dlq approve [0-9a-f-]{36}/);
    const approve = await ops("dlq", "approve", pending.json().data.requestId, "--note", "ops.test", "--wait", "0", "--json");
    expect(approve.code, approve.stderr).toBe(0);
    expect(approve.json().data).toMatchObject({ status: "executed", progress: { total: 1 } });
    const twice = await ops("dlq", "approve", pending.json().data.requestId, "--json");
    expect(twice.code).toBe(27);
    expect(twice.json().error.code).toBe("bad_request");
    expect((await ops("dlq", "approve", randomUUID(), "--json")).code).toBe(4);

    // rate.replay.per5m = 3 per tenant: three were taken above.
    await ops("mode", "full", "--reason", "ops.test");
    const limited = await ops("dlq", "replay", "--tenant", tenant.slug, "--ids", ids[4], "--json");
    expect(limited.code).toBe(15);
    expect(limited.json().error).toMatchObject({ code: "rate_limited", sqlstate: "SY005", detail: { limit: 3, window_seconds: 300 } });
    expect(limited.json().error.detail.retry_after_seconds).toBeGreaterThan(0);
  });
});

describe("ops trace", () => {
  it("tells the whole story of one trace: span waterfall, audit, outbox, DLQ, Live Feed", async () => {
    const traceId = randomBytes(16).toString("hex");
    const [root, child, leaf] = [0, 1, 2].map(() => randomBytes(8).toString("hex"));
    const t0 = Date.now() - 1000;
    await sql`
      insert into public.spans (trace_id, span_id, parent_span_id, tenant_id, name, kind, function_name, portal, start_time, duration_ms, status, status_message)
      values (${traceId}, ${root}, null, ${tenant.id}, 'POST /rates/price_one', 'server', 'rates', 'rates', ${new Date(t0)}, 120, 'ok', null),
             (${traceId}, ${child}, ${root}, ${tenant.id}, 'db.transaction', 'internal', 'rates', 'rates', ${new Date(t0 + 10)}, 80, 'ok', null),
             (${traceId}, ${leaf}, ${child}, ${tenant.id}, 'outbox.publish', 'internal', 'rates', 'rates', ${new Date(t0 + 60)}, 5, 'error', 'subscriber down')`;
    await sql.begin(async (tx) => {
      await tx`select set_config('request.headers', ${JSON.stringify({ traceparent: `00-${traceId}-${root}-01` })}, true)`;
      await tx`select app_private.audit_event('rates.price_one', 'quote', 'q-1', null, '{"ok": true}', 'ops.test', ${tenant.id}::uuid)`;
    });
    await deadLetter(1, traceId);
    await sql`insert into public.live_feed (tenant_id, trace_id, portal, action, phase, ok, principal)
              values (${tenant.id}, ${traceId}, 'rates', 'price_one', 'start', null, 'ops.test'),
                     (${tenant.id}, ${traceId}, 'rates', 'price_one', 'finish', true, 'ops.test')`;

    const [json, human, unknown, malformed] = await Promise.all([
      ops("trace", traceId, "--json"), ops("trace", traceId),
      ops("trace", randomBytes(16).toString("hex"), "--json"), ops("trace", "not-a-trace", "--json"),
    ]);
    expect(json.code).toBe(0);
    const t = json.json().data;
    expect(t.traceId).toBe(traceId);
    expect(t.spans.map((s: any) => s.name)).toEqual(["POST /rates/price_one", "db.transaction", "outbox.publish"]);
    expect(t.audit).toEqual([expect.objectContaining({ action: "rates.price_one", reason: "ops.test", span_id: root })]);
    expect(t.outbox).toHaveLength(1);
    expect(t.dlq).toEqual([expect.objectContaining({ state: "dead", last_error: "HTTP 500 from subscriber" })]);
    expect(t.liveFeed.map((f: any) => f.phase)).toEqual(["start", "finish"]);

    const lines = human.stdout.split("\n");
    // "  +  10.0 ms |<32-char bar>| <2 spaces per depth><name> ..."
    const indent = (name: string) => /\|[ █]{32}\| ( *)/.exec(lines.find((l) => l.includes(` ${name} [`))!)![1].length;
    expect(indent("db.transaction")).toBe(indent("POST /rates/price_one") + 2);
    expect(indent("outbox.publish")).toBe(indent("db.transaction") + 2);
    expect(human.stdout).toMatch(/outbox\.publish \[rates\/rates\] 5\.0 ms ERROR subscriber down/);
    expect(human.stdout).toMatch(/Audit \(1\)[\s\S]*rates\.price_one/);

    expect(unknown.code).toBe(4);
    expect(malformed.json().error.code).toBe("usage");
  });
});

describe("ops keys", () => {
  it("rotate prints the new key id and secret once (Vault keeps the signing key, the table a fingerprint); rehearse passes", async () => {
    const [r, human, rehearse, nobody] = await Promise.all([
      ops("keys", "rotate", "n8n", "--tenants", "d0000000-0000-4000-8000-000000000001", "--json"), ops("keys", "rotate", "autopilot"), ops("keys", "rehearse", "dlq", "--json"),
      ops("keys", "rotate", "nobody", "--json"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const k = r.json().data;
    expect(k).toMatchObject({ account: "n8n", keyId: expect.stringMatching(/^sk_n8n_[0-9a-f]{16}$/), olderKeysExpireIn: "24 hours",
      tenants: ["d0000000-0000-4000-8000-000000000001"] });
    const [stored] = await sql`
      select key_hash = encode(sha256(convert_to(encode(sha256(convert_to(${k.secret}, 'UTF8')), 'hex'), 'UTF8')), 'hex') as fingerprint,
             key_hash <> encode(sha256(convert_to(${k.secret}, 'UTF8')), 'hex') as not_signing_key,
             (select decrypted_secret from vault.decrypted_secrets where name = 'service_key:' || ${k.keyId})
               = encode(sha256(convert_to(${k.secret}, 'UTF8')), 'hex') as in_vault
      from public.service_account_keys where key_id = ${k.keyId}`;
    expect(stored).toEqual({ fingerprint: true, not_signing_key: true, in_vault: true });

    expect(human.stdout).toMatch(/key id: {2}sk_autopilot_[0-9a-f]{16}\n {2}secret: {2}\S{40,}/);
    expect(rehearse.code).toBe(0);
    expect(rehearse.json().data).toMatchObject({ account: "dlq", outcome: "passed", details: { fresh_key_verified: true, wrong_secret_rejected: true, revoked_key_rejected: true } });
    expect(JSON.stringify(rehearse.json())).not.toMatch(/"secret"/);

    expect(nobody.code).toBe(27);
    expect(nobody.json().error.code).toBe("bad_request");
  });
});

describe("ops usage and connection errors", () => {
  it("help is exit 0, an unknown command or option is usage (2), an unreachable database is connection (5)", async () => {
    const [help, none, unknown, badOption, down] = await Promise.all([
      ops("help"), ops(), ops("launch", "--json"), ops("status", "--verbose"),
      runScript("scripts/ops.ts", ["status", "--json"], { SUPABASE_DB_URL: "postgresql://postgres:postgres@127.0.0.1:1/postgres" }),
    ]);
    expect(help.stdout).toMatch(/Exit codes: 0 ok/);
    expect(none.code).toBe(2);
    expect(unknown.json()).toMatchObject({ ok: false, error: { code: "usage", exit: 2 } });
    expect(badOption.code).toBe(2);
    expect(down.code).toBe(5);
    expect(down.json().error).toMatchObject({ code: "connection", exit: 5 });
    expect(down.stdout + down.stderr).not.toMatch(/postgres:postgres@/);
    expect(down.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

async function pollFor<T extends readonly unknown[]>(read: () => Promise<T>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const rows = await read();
    if (rows.length > 0 || Date.now() > until) return rows;
    await new Promise((r) => setTimeout(r, 100));
  }
}
