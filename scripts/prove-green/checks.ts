import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { SignJWT } from "jose";
import { apiUrl, dbUrl, type Instance } from "../stack/instance.ts";
import { readSse } from "../../packages/shared/http/sse-reader.ts";
import { PORTALS } from "../../packages/portals/registry.ts";
import { runPortalLoad } from "../../load/portal.ts";
import { describeSlo, sloLimits, sloVerdict } from "../gate/checks.ts";
import { EXPECTED_ACTIVATION, slo } from "../ops/metrics.ts";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

type Sql = ReturnType<typeof postgres>;
type Check = (i: Instance, sql: Sql) => Promise<Omit<CheckResult, "name">>;

const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
const DEMO_OPS = "e0000000-0000-4000-8000-000000000003";
const PROVE_TENANT = "d0000000-0000-4000-8000-00000000ffff";

const fn = (i: Instance, name: string) => `${apiUrl(i)}/functions/v1/${name}`;
const userToken = (i: Instance, sub: string, tenant: string) =>
  new SignJWT({ role: "authenticated", tenant_id: tenant, principal_kind: "human" }).setProtectedHeader({ alg: "HS256" })
    .setSubject(sub).setIssuedAt().setExpirationTime("5m").sign(new TextEncoder().encode(i.jwtSecret));

/** Collects Live Feed events until `until` says stop or `ms` pass. */
async function watchFeed(res: Response, ctrl: AbortController, until: (events: { event: string; data: Record<string, unknown> }[]) => boolean, ms: number) {
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const timer = setTimeout(() => ctrl.abort(), ms);
  await readSse(res.body!, (e) => {
    events.push({ event: e.event, data: JSON.parse(e.data) });
    return until(events);
  });
  clearTimeout(timer);
  return events;
}

/** The charter's §10 prove-green, as a list of named checks. */
const CHECKS: [string, Check][] = [
  ["database", async (_i, sql) => {
    const t = performance.now();
    const [r] = await sql`select current_setting('server_version') as v`;
    return { ok: true, detail: `Postgres ${r.v}, round trip ${(performance.now() - t).toFixed(1)} ms` };
  }],
  ["gateway", async (i) => {
    const res = await fetch(fn(i, "health"), { headers: { authorization: `Bearer ${i.anonKey}` }, signal: AbortSignal.timeout(5000) });
    const body = await res.json().catch(() => ({}));
    return { ok: res.status === 200 && body.status === "ok", detail: `health ${res.status}, db round trip ${body.db_round_trip_ms ?? "?"} ms` };
  }],
  ["cron", async (_i, sql) => {
    const [r] = await sql`
      select (select count(*) from pg_stat_activity where backend_type = 'pg_cron launcher')::int as launchers,
             (select count(*) from cron.job where active)::int as jobs,
             (select extversion from pg_extension where extname = 'pg_cron') as version`;
    return { ok: r.launchers === 1 && r.jobs > 0, detail: `pg_cron ${r.version}, launcher ${r.launchers ? "running" : "down"}, ${r.jobs} jobs` };
  }],
  ["activation flags", async (_i, sql) => {
    const rows = await sql`select key, public.flag_value(key) as v from unnest(${Object.keys(EXPECTED_ACTIVATION)}::text[]) key`;
    const wrong = rows.filter((r) => r.v !== EXPECTED_ACTIVATION[r.key]).map((r) => `${r.key}=${JSON.stringify(r.v)}`);
    return { ok: wrong.length === 0, detail: wrong.length ? `unexpected: ${wrong.join(", ")}` : rows.map((r) => `${r.key}=${JSON.stringify(r.v)}`).join(", ") };
  }],
  ["synthetic rates.price_one on the Live Feed", async (i) => {
    const token = await userToken(i, DEMO_OPS, DEMO_TENANT);
    const ctrl = new AbortController();
    const feed = await fetch(fn(i, "live-feed"), { headers: { authorization: `Bearer ${token}` }, signal: ctrl.signal });
    if (!feed.ok) return { ok: false, detail: `live feed ${feed.status}` };
    const t0 = Date.now();
    const pickup = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const res = await fetch(fn(i, "rates/price_one"), {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }),
    });
    const body = await res.json().catch(() => ({}));
    const trace = body.trace_id;
    const events = await watchFeed(feed, ctrl, (es) => es.some((e) => e.event === "finish" && e.data.trace_id === trace), 5000);
    const mine = events.filter((e) => e.data.trace_id === trace).map((e) => e.event);
    const ok = res.status === 200 && mine.includes("start") && mine.includes("finish");
    return { ok, detail: `HTTP ${res.status}, feed ${mine.join(" -> ") || "nothing"} in ${Date.now() - t0} ms, trace ${trace}` };
  }],
  ["forced safe error: DLQ and alert share the trace", async (i, sql) => {
    // A tenant of its own whose only subscription points at a function that does not exist
    // (404) and gets one attempt: the event dead-letters at once.
    await sql.begin((tx) => [
      tx`insert into public.tenants (id, slug, name) values (${PROVE_TENANT}, 'prove-green', 'prove-green') on conflict do nothing`,
      tx`insert into public.feature_flags_v2 (key, scope, value, reason, owner_name)
         values ('outbox.maxAttempts', ${"tenant:" + PROVE_TENANT}, '1', 'prove-green: fail fast', 'system')
         on conflict (key, scope) do nothing`,
      tx`insert into public.outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
         values (${PROVE_TENANT}, 'prove-green-sink', ${fn(i, "prove-green-missing-sink")}, ${PROVE_TENANT + "/prove_green_sink"})
         on conflict (tenant_id, name) do update set endpoint_url = excluded.endpoint_url, enabled = true`,
      tx`delete from vault.secrets where name = ${PROVE_TENANT + "/prove_green_sink"}`,
      tx`select vault.create_secret(${"whsec_" + randomBytes(24).toString("base64")}, ${PROVE_TENANT + "/prove_green_sink"})`,
    ]);
    try {
      return await forcedSafeError(i, sql);
    } finally {
      // Clean up what the check set up: a failing subscription left enabled sent every later
      // event of this tenant (e.g. the agents' rates.index.stale) to the DLQ.
      await sql.begin((tx) => [
        tx`delete from public.outbox_subscriptions where tenant_id = ${PROVE_TENANT} and name = 'prove-green-sink'`,
        tx`delete from public.feature_flags_v2 where key = 'outbox.maxAttempts' and scope = ${"tenant:" + PROVE_TENANT}`,
        tx`delete from vault.secrets where name = 'prove_green_sink'`,
      ]);
    }
  }],
  // §10 "k6 smoke: all thresholds green": the autocannon twin of k6/smoke.js, same file.
  ["load smoke (k6/thresholds.json)", async (i) => {
    const r = await runPortalLoad({ api: apiUrl(i), db: dbUrl(i), anonKey: i.anonKey, jwtSecret: i.jwtSecret }, "smoke", { relay: true });
    const shown = r.thresholds.map((t) => `${t.ok ? "" : "FAILED "}${t.metric} ${t.expr} (${t.value < 1 ? t.value.toFixed(4) : Math.round(t.value)})`);
    return { ok: r.ok, detail: `${r.requests.health} health + ${r.requests.price_one} price_one, ${r.events} events: ${shown.join(", ")}` };
  }],
  // §10 "SLO dashboard shows green": every portal's rows of slo_summary over 5 minutes, by
  // the live slo.* flags as the gate judges them (a portal with too few requests: no verdict).
  ["SLO summary of every portal", async (_i, sql) => {
    const [rows, limits] = await Promise.all([slo(sql, { interval: "5 minutes" }), sloLimits(sql)]);
    const { limit, judged, breaching } = sloVerdict(rows.filter((r) => r.portal !== null), limits);
    const shown = PORTALS.map(({ name }) => {
      const n = rows.filter((r) => r.portal === name).reduce((sum, r) => sum + r.requests, 0);
      const bad = breaching.filter((r) => r.portal === name);
      if (bad.length) return bad.map((r) => `RED ${describeSlo(r, limit(r))}`).join("; ");
      return `${name} ${judged.some((r) => r.portal === name) ? "green" : "no verdict"} (${n} requests)`;
    });
    return { ok: breaching.length === 0, detail: shown.join(", ") };
  }],
];

/** The forced safe error: one event to the failing sink, dead at once; DLQ and alert share its trace. */
async function forcedSafeError(i: Instance, sql: Sql): Promise<Omit<CheckResult, "name">> {
  const trace = randomBytes(16).toString("hex");
  const [e] = await sql`
    insert into public.outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload, headers)
    values (${PROVE_TENANT}, 'prove_green', ${trace}, 'prove_green.safe_error', '{}',
            ${sql.json({ traceparent: `00-${trace}-00f067aa0ba902b7-01` })}) returning id`;
  const drain = () => fetch(fn(i, "outbox-relay"), { method: "POST", headers: { authorization: `Bearer ${i.serviceRoleKey}` } }).then((r) => r.body?.cancel());
  let dlq: { trace_id: string }[] = [];
  for (let n = 0; n < 20 && dlq.length === 0; n++) {
    await drain();
    dlq = await sql`select trace_id from public.dlq_entries where event_id = ${e.id}`;
    if (!dlq.length) await new Promise((r) => setTimeout(r, 250));
  }
  const [alert] = await sql`select trace_id from public.alerts where source = 'outbox.dead' and dedupe_key = ${e.id}::text`;
  await fetch(fn(i, "autopilot/alerts"), { method: "POST", headers: { authorization: `Bearer ${i.serviceRoleKey}` } }).then((r) => r.body?.cancel());
  const link = `${fn(i, "console")}#/trace/${trace}`;
  const ok = dlq[0]?.trace_id === trace && alert?.trace_id === trace;
  return { ok, detail: ok ? `DLQ entry and alert carry trace ${trace}: ${link}` : `dlq ${dlq[0]?.trace_id ?? "missing"}, alert ${alert?.trace_id ?? "missing"}` };
}

/** Runs the checks (`only`: those of these names) in order, each on its own: one failing does not stop the rest. */
export async function proveGreen(i: Instance, only?: string[]): Promise<CheckResult[]> {
  const sql = postgres(dbUrl(i), { prepare: false, max: 2, onnotice: () => {} });
  try {
    const out: CheckResult[] = [];
    for (const [name, check] of CHECKS.filter(([n]) => !only || only.includes(n))) {
      try {
        out.push({ name, ...(await check(i, sql)) });
      } catch (err) {
        out.push({ name, ok: false, detail: err instanceof Error ? err.message : String(err) });
      }
    }
    return out;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export function formatChecks(results: CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length));
  return results.map((r) => `  ${r.ok ? "GREEN" : "RED  "}  ${r.name.padEnd(w)}  ${r.detail}`).join("\n");
}
