/**
 * The console function over real HTTP against the running stack: the page's security
 * headers and CSP, no secret in anything served to the browser, the API's refusals
 * (missing / forged / expired JWT, foreign origins, a viewer's writes), the kill switch's
 * exact UPDATE, DLQ replays through app_private.replay_*, and tenants kept apart by RLS.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_TENANT, USERS, userJwt } from "../../helpers/auth.ts";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { deadEntry as deadDlqEntry, hex, sql } from "../../helpers/db.ts";

const CONSOLE = fnUrl("console");
const API = `${CONSOLE}/api`;

// Tenants and a principal of this file's own (re-runnable on the same stack).
const OTHER = "d0000000-0000-4000-8000-0000000000c1";
const REPLAY_TENANT = "d0000000-0000-4000-8000-0000000000c2";
const OTHER_OPS = "e0000000-0000-4000-8000-0000000000c1";
const AGENTS = "a0000000-0000-4000-8000-000000000002";
const SYSTEM = "a0000000-0000-4000-8000-000000000006";

const get = (path: string, token: string | null, headers: Record<string, string> = {}) =>
  fetch(`${API}/${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
const post = (path: string, body: unknown, token: string | null, headers: Record<string, string> = {}) =>
  fetch(`${API}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });

async function problem(res: Response, status: number, code: string) {
  const body = await res.json();
  expect({ status: res.status, code: body.code }).toEqual({ status, code });
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return body;
}

const stopFlag = async () => (await sql`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`)[0].value;

/** A dead DLQ entry (and a span) in `tenant` under a fresh trace id. */
async function deadEntry(tenant: string) {
  const e = await deadDlqEntry(tenant, "console.test.failed");
  await sql`insert into spans (trace_id, span_id, tenant_id, name, start_time, duration_ms, status)
            values (${e.trace}, ${hex(8)}, ${tenant}, 'console.test', now(), 12.5, 'error')`;
  return e;
}

let superJwt: string;
let viewer: string;
let ops: string;
let otherOps: string;

beforeAll(async () => {
  await sql`insert into tenants (id, slug, name) values (${OTHER}, 'console-other', 'Console Other Co'),
                                                       (${REPLAY_TENANT}, 'console-replay', 'Console Replay Co')
            on conflict do nothing`;
  await sql`insert into principals (id, kind, name, display_name)
            values (${OTHER_OPS}, 'human', 'ops@console-other.test', 'Other Ops') on conflict do nothing`;
  await sql`insert into role_assignments (principal_id, role, tenant_id)
            values (${OTHER_OPS}, 'ops_manager', ${OTHER}), (${OTHER_OPS}, 'ops_manager', ${REPLAY_TENANT})
            on conflict on constraint role_assignments_unique do nothing`;
  superJwt = await userJwt(USERS.super);
  viewer = await userJwt(USERS.viewer);
  ops = await userJwt(USERS.ops);
  otherOps = await userJwt(OTHER_OPS, { tenant: OTHER });
});

afterAll(async () => {
  await sql.unsafe("update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';");
  await sql.end();
});

describe("the page and its assets", () => {
  it("serve a strict CSP and security headers; no inline script or style", async () => {
    const redirect = await fetch(CONSOLE, { redirect: "manual" });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("console/");

    const res = await fetch(`${CONSOLE}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toMatch(/<script src="app\.js" defer><\/script>/);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // every script is a file
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i); // no inline style or handler

    for (const [path, type] of [["app.js", "text/javascript"], ["app.css", "text/css"], ["vendor/uplot.js", "text/javascript"], ["vendor/uplot.css", "text/css"]]) {
      const a = await fetch(`${CONSOLE}/${path}`);
      expect(a.status, path).toBe(200);
      expect(a.headers.get("content-type")).toContain(type);
      expect(a.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(a.headers.get("x-content-type-options")).toBe("nosniff");
      const etag = a.headers.get("etag")!;
      await a.body?.cancel();
      expect((await fetch(`${CONSOLE}/${path}`, { headers: { "if-none-match": etag } })).status).toBe(304);
    }
    expect((await fetch(`${CONSOLE}/nope.js`)).status).toBe(404);
  });

  it("carry no secret: no service key, JWT secret, anon key or database URL in anything served", async () => {
    const secrets = [stackEnv.serviceRoleKey, stackEnv.jwtSecret, stackEnv.anonKey, stackEnv.dbUrl, new URL(stackEnv.dbUrl).password + "@"];
    const served = await Promise.all(["", "app.js", "app.css", "vendor/uplot.js", "vendor/uplot.css"].map(async (p) => (await fetch(`${CONSOLE}/${p}`)).text()));
    // Not in API answers either (a super_admin sees the most).
    for (const p of ["me", "switchboard", "slo", "outbox", "dlq", "feed"]) served.push(await (await get(p, superJwt)).text());
    for (const text of served) {
      expect(text.length).toBeGreaterThan(10);
      for (const s of secrets) expect(text.includes(s)).toBe(false);
      expect(text).not.toMatch(/postgres(ql)?:\/\/|service_role|SUPABASE_SERVICE_ROLE_KEY|SWITCHYARD_JWT_SECRET/);
    }
  });
});

describe("authentication and CORS", () => {
  it("refuses a missing, forged, expired or anon token and a subject that is no principal", async () => {
    const none = await get("me", null);
    await problem(none, 401, "missing_authorization");
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    await problem(await get("me", await userJwt(USERS.super, { secret: "forged-secret-forged-secret-forged-0001" })), 401, "invalid_jwt");
    await problem(await get("me", `${superJwt.slice(0, -4)}AAAA`), 401, "invalid_jwt");
    await problem(await get("me", await userJwt(USERS.super, { expiresIn: Math.floor(Date.now() / 1000) - 60 })), 401, "jwt_expired");
    await problem(await get("me", stackEnv.anonKey), 401, "missing_authorization");
    await problem(await get("me", stackEnv.serviceRoleKey), 401, "invalid_jwt"); // no sub: not a caller
    await problem(await get("me", await userJwt(randomUUID())), 403, "forbidden");
    // A forged token never reaches a write either.
    await problem(await post("kill-switch", { engage: true, reason: "forged" }, await userJwt(USERS.super, { secret: "x".repeat(40) })), 401, "invalid_jwt");
    expect(await stopFlag()).toBe("false");
  });

  it("answers its own origin and refuses any other (requests and preflights)", async () => {
    const own = new URL(stackEnv.apiUrl).origin;
    const ok = await get("me", superJwt, { origin: own });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(own);
    await problem(await get("me", superJwt, { origin: "https://evil.example" }), 403, "origin_not_allowed");
    const pre = await fetch(`${API}/kill-switch`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "authorization" },
    });
    expect(pre.status).toBe(403);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    await problem(await post("kill-switch", { engage: true, reason: "cross-site" }, superJwt, { origin: "https://evil.example" }), 403, "origin_not_allowed");
    expect(await stopFlag()).toBe("false");
  });

  it("validates routes, methods and trace ids", async () => {
    await problem(await get("nope", superJwt), 404, "not_found");
    await problem(await get("kill-switch", superJwt), 405, "method_not_allowed");
    await problem(await get("trace/not-a-trace", superJwt), 400, "validation_failed");
    await problem(await post("kill-switch", { engage: "yes", reason: "x" }, superJwt), 400, "validation_failed");
    const bad = await fetch(`${API}/kill-switch`, { method: "POST", headers: { authorization: `Bearer ${superJwt}`, "content-type": "text/plain" }, body: "{}" });
    await problem(bad, 415, "unsupported_media_type");
  });
});

describe("the standby panel", () => {
  it("shows replication to a global metrics.read (no slot on this stack) and refuses a tenant's staff", async () => {
    const res = await get("replication", await userJwt(USERS.super));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ slots: [], max_lag_bytes: null, max_lag_seconds: null });
    // tenant_admin holds metrics.read in its tenant only: replication is the platform's.
    await problem(await get("replication", await userJwt(USERS.admin)), 403, "forbidden");
  });
});

describe("switchboard writes", () => {
  it("a viewer can read the switchboard but not write a flag or flip the kill switch (403)", async () => {
    const sb = await (await get("switchboard", viewer)).json();
    expect(sb.emergency_stop).toBe(false);
    expect(sb.can_stop).toBe(false);
    expect(sb.definitions.every((d: { writable: boolean }) => !d.writable)).toBe(true);
    const before = await sql`select count(*)::int as n from feature_flag_history`;
    await problem(await post("flags", { key: "autonomy.mode", value: "DEGRADE", reason: "viewer tries" }, viewer), 403, "forbidden");
    await problem(await post("flags", { key: "portal.enabled", scope: `tenant:${DEMO_TENANT}:portal:rates`, value: false, reason: "viewer tries" }, viewer), 403, "forbidden");
    await problem(await post("kill-switch", { engage: true, reason: "viewer tries" }, viewer), 403, "forbidden");
    expect(await stopFlag()).toBe("false");
    expect((await sql`select count(*)::int as n from feature_flag_history`)[0].n).toBe(before[0].n);
  });

  it("machines cannot use the console's kill switch, not even system@ which holds the permission", async () => {
    const system = await userJwt(SYSTEM, { tenant: undefined, extra: { principal_kind: "machine", tenant_id: undefined } });
    await problem(await post("kill-switch", { engage: true, reason: "machine tries" }, system), 403, "forbidden");
    const agents = await userJwt(AGENTS, { extra: { principal_kind: "machine" } });
    await problem(await post("kill-switch", { engage: true, reason: "machine tries" }, agents), 403, "forbidden");
    expect(await stopFlag()).toBe("false");
  });

  it("super_admin: the kill switch is the charter's UPDATE, with its reason in history and audit; resume likewise", async () => {
    await problem(await post("kill-switch", { engage: true, reason: "  " }, superJwt), 400, "validation_failed");
    try {
      const res = await post("kill-switch", { engage: true, reason: "api test: stop drill" }, superJwt);
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body.emergency_stop).toBe(true);
      expect(await stopFlag()).toBe("true");
      const [audit] = await sql`select action, reason, principal_name, trace_id from audit_log
                                where target_id = 'autonomy.emergencyStop@global' order by occurred_at desc limit 1`;
      expect(audit).toEqual({ action: "flag.update", reason: "api test: stop drill", principal_name: "super@switchyard.test", trace_id: body.trace_id });
      expect(res.headers.get("traceparent")).toContain(body.trace_id);
      // The trace view of that write shows its audit row.
      const t = await (await get(`trace/${body.trace_id}`, superJwt)).json();
      expect(t.audit.map((a: { action: string }) => a.action)).toEqual(["flag.update"]);
    } finally {
      const res = await post("kill-switch", { engage: false, reason: "api test: resume" }, superJwt);
      expect(res.status).toBe(200);
      expect((await res.json()).emergency_stop).toBe(false);
    }
    expect(await stopFlag()).toBe("false");
    const [last] = await sql`select old_value, new_value, reason from feature_flag_history
                             where key = 'autonomy.emergencyStop' order by changed_at desc limit 1`;
    expect(last).toEqual({ old_value: "true", new_value: "false", reason: "api test: resume" });
  });

  it("super_admin writes a flag with a reason; bad values and the kill switch key are refused", async () => {
    const res = await post("flags", { key: "canary.percent", scope: "portal:rates", value: 7, reason: "api test canary" }, superJwt);
    expect(res.status).toBe(200);
    expect((await res.json()).flag).toMatchObject({ key: "canary.percent", scope: "portal:rates", value: 7, reason: "api test canary" });
    const [h] = await sql`select new_value, reason, changed_by from feature_flag_history where key = 'canary.percent' order by changed_at desc limit 1`;
    expect(h).toEqual({ new_value: "7", reason: "api test canary", changed_by: "super@switchyard.test" });
    await problem(await post("flags", { key: "canary.percent", scope: "portal:rates", value: 0, reason: "" }, superJwt), 400, "validation_failed");
    const bad = await problem(await post("flags", { key: "autonomy.mode", value: "WILD", reason: "api test" }, superJwt), 400, "validation_failed");
    expect(bad.rail).toBe("bad_flag_value");
    await problem(await post("flags", { key: "no.suchFlag", value: "1", reason: "api test" }, superJwt), 400, "validation_failed");
    await problem(await post("flags", { key: "autonomy.emergencyStop", value: true, reason: "api test" }, superJwt), 400, "validation_failed");
    await post("flags", { key: "canary.percent", scope: "portal:rates", value: 0, reason: "api test: back to 0" }, superJwt);
  });
});

describe("DLQ through the console", () => {
  it("dry-run, replay (executed in FULL mode) and decide go through app_private.replay_*", async () => {
    const su = await userJwt(USERS.super, { tenant: REPLAY_TENANT });
    const e = await deadEntry(REPLAY_TENANT);
    const list = await (await get("dlq", su)).json();
    expect(list.entries.map((x: { id: string }) => x.id)).toContain(e.id);

    const dry = await post("dlq/dry-run", { ids: [e.id] }, su);
    expect(dry.status).toBe(200);
    const d = (await dry.json()).request;
    expect(d).toMatchObject({ status: "dry_run", dry_run: true, batch_size: 1, outcome: { would_replay: 1, payload_bytes: 8 } });

    const run = await post("dlq/replay", { ids: [e.id] }, su);
    expect(run.status).toBe(200);
    const r = (await run.json()).request;
    expect(r).toMatchObject({ status: "executed", dry_run: false, outcome: { requeued: 1 } });
    expect((await sql`select state from dlq_entries where id = ${e.id}`)[0].state).toBe("replayed");

    // The requester never approves its own replay; another approver may decide only
    // pending requests; a viewer of another tenant may not decide at all.
    const own = await problem(await post("dlq/decide", { request_id: r.id, approve: true }, su), 403, "forbidden");
    expect(own.rail).toBe("approval_forbidden");
    const approver = await userJwt(OTHER_OPS, { tenant: REPLAY_TENANT });
    const notPending = await problem(await post("dlq/decide", { request_id: r.id, approve: true, note: "late" }, approver), 400, "validation_failed");
    expect(notPending.detail).toContain("not pending_approval");
    await problem(await post("dlq/decide", { request_id: r.id, approve: true }, viewer), 403, "forbidden");
    // A replayed entry cannot be replayed again; a viewer cannot request replays.
    await problem(await post("dlq/replay", { ids: [e.id] }, su), 400, "validation_failed");
    const e2 = await deadEntry(DEMO_TENANT);
    await problem(await post("dlq/dry-run", { ids: [e2.id] }, viewer), 403, "forbidden");
    await problem(await post("dlq/dry-run", { ids: ["not-a-uuid"] }, su), 400, "validation_failed");
  });
});

describe("one write path: the console's writes are Autonomous portal actions", () => {
  /** The Live Feed rows and outbox events a trace left (the Live Feed is written in batches). */
  async function evidence(trace: string) {
    for (let i = 0; i < 40; i++) {
      const feed = await sql`select portal, action, phase, ok from live_feed where trace_id = ${trace} order by id`;
      if (feed.some((f) => f.phase === "finish")) {
        const events = await sql`select event_type, aggregate_id from outbox_events where trace_id = ${trace} order by seq`;
        return { feed, events };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no Live Feed finish row for trace ${trace}`);
  }

  it("the kill switch runs autonomous/kill_switch: Live Feed start/prove/finish and an outbox event, both ways", async () => {
    let stopTrace = "";
    try {
      const res = await post("kill-switch", { engage: true, reason: "write path test" }, superJwt);
      expect(res.status).toBe(200);
      stopTrace = (await res.json()).trace_id;
    } finally {
      const back = await post("kill-switch", { engage: false, reason: "write path test: resume" }, superJwt);
      expect(back.status).toBe(200);
      const { feed, events } = await evidence((await back.json()).trace_id);
      expect(feed.map((f) => [f.portal, f.action, f.phase, f.ok])).toEqual([
        ["autonomous", "kill_switch", "start", null], ["autonomous", "kill_switch", "prove", true], ["autonomous", "kill_switch", "finish", true],
      ]);
      expect(events.map((e) => e.event_type)).toEqual(["autonomous.kill_switch.released"]);
    }
    const { feed, events } = await evidence(stopTrace);
    expect(feed.map((f) => f.phase)).toEqual(["start", "prove", "finish"]);
    expect(events).toEqual([{ event_type: "autonomous.kill_switch.engaged", aggregate_id: "autonomy.emergencyStop" }]);
    expect(await stopFlag()).toBe("false");
  });

  it("a DLQ replay runs autonomous/replay: Live Feed rows and its outbox event; a refused one leaves a finish row and no event", async () => {
    const su = await userJwt(USERS.super, { tenant: REPLAY_TENANT });
    const e = await deadEntry(REPLAY_TENANT);
    const res = await post("dlq/replay", { ids: [e.id] }, su);
    expect(res.status).toBe(200);
    const body = await res.json();
    const { feed, events } = await evidence(body.trace_id);
    expect(feed.map((f) => `${f.portal}/${f.action}:${f.phase}`)).toEqual(["autonomous/replay:start", "autonomous/replay:prove", "autonomous/replay:finish"]);
    expect(events).toEqual([{ event_type: "autonomous.replay.requested", aggregate_id: body.request.id }]);

    const again = await post("dlq/replay", { ids: [e.id] }, su);
    const refused = await problem(again, 400, "validation_failed");
    const trace = /^00-([0-9a-f]{32})-/.exec(again.headers.get("traceparent") ?? "")?.[1] ?? "";
    const r2 = await evidence(trace);
    expect(r2.feed.at(-1)).toMatchObject({ phase: "finish", ok: false });
    expect(r2.events).toEqual([]);
    expect(refused.rail).toBe("replay_bad_selection");
  });
});

describe("RLS keeps tenants apart", () => {
  it("each tenant's ops sees only its own DLQ, traces, feed and metrics; a claim for a foreign tenant is refused", async () => {
    const mine = await deadEntry(DEMO_TENANT);
    const theirs = await deadEntry(OTHER);
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    await sql`insert into request_metrics (function_name, portal, tenant_id, minute, count, errors, sum_ms, max_ms, le_100, le_250, le_500, le_1000, le_1500, le_2500, le_5000, le_10000)
              values ('console_probe', 'console_probe', ${OTHER}, ${minute}, 10, 5, 100, 20, 10, 10, 10, 10, 10, 10, 10, 10)
              on conflict on constraint request_metrics_key do update set count = request_metrics.count + 10,
                errors = request_metrics.errors + 5, le_100 = request_metrics.le_100 + 10, le_250 = request_metrics.le_250 + 10,
                le_500 = request_metrics.le_500 + 10, le_1000 = request_metrics.le_1000 + 10, le_1500 = request_metrics.le_1500 + 10,
                le_2500 = request_metrics.le_2500 + 10, le_5000 = request_metrics.le_5000 + 10, le_10000 = request_metrics.le_10000 + 10`;
    await sql`insert into live_feed (tenant_id, trace_id, portal, action, phase, ok, principal)
              values (${OTHER}, ${theirs.trace}, 'console_probe', 'console_test', 'finish', true, 'console-test')`;

    const ids = async (token: string) => (await (await get("dlq", token)).json()).entries.map((x: { id: string }) => x.id);
    const demoSees = await ids(ops);
    expect(demoSees).toContain(mine.id);
    expect(demoSees).not.toContain(theirs.id);
    const otherSees = await ids(otherOps);
    expect(otherSees).toContain(theirs.id);
    expect(otherSees).not.toContain(mine.id);

    const foreignTrace = await (await get(`trace/${theirs.trace}`, ops)).json();
    expect(foreignTrace).toMatchObject({ spans: [], dlq: [], outbox: [] });
    const ownTrace = await (await get(`trace/${theirs.trace}`, otherOps)).json();
    expect(ownTrace.spans.map((s: { name: string }) => s.name)).toEqual(["console.test"]);
    expect(ownTrace.dlq).toHaveLength(1);
    expect(ownTrace.hidden).toEqual(["audit"]); // ops_manager has no audit.read

    const feedOf = async (token: string) => (await (await get("feed?limit=200", token)).json()).rows.map((r: { trace_id: string }) => r.trace_id);
    expect(await feedOf(otherOps)).toContain(theirs.trace);
    expect(await feedOf(ops)).not.toContain(theirs.trace);

    const portalsOf = async (token: string) => (await (await get("slo", token)).json()).tiles.map((t: { portal: string }) => t.portal);
    expect(await portalsOf(otherOps)).toContain("console_probe");
    expect(await portalsOf(ops)).not.toContain("console_probe");

    // The demo ops user claiming the other tenant holds nothing there.
    const forged = await userJwt(USERS.ops, { tenant: OTHER });
    await problem(await get("dlq", forged), 403, "forbidden");
    await problem(await get(`trace/${theirs.trace}`, forged), 403, "forbidden");
    // And its replay of another tenant's entry names entries it cannot see.
    await problem(await post("dlq/dry-run", { ids: [theirs.id] }, ops), 400, "validation_failed");
  });

  it("a viewer reads the switchboard and SLOs but not traces, the outbox or the DLQ (403 with the permission)", async () => {
    expect((await get("slo", viewer)).status).toBe(200);
    for (const [path, perm] of [["dlq", "dlq.read"], ["outbox", "outbox.read"], [`trace/${hex(16)}`, "traces.read"]]) {
      const body = await problem(await get(path, viewer), 403, "forbidden");
      expect(body.permission).toBe(perm);
    }
  });
});
