/**
 * The load run against the portals, the autocannon twin of k6/smoke.js and k6/load.js: the
 * scenarios and thresholds of k6/thresholds.json (health and rates/price_one with a real
 * user JWT), an outbox subscription to a local receiver with a relay delivering, and the
 * outbox lag of the run's own events read from the endpoint k6 reads
 * (console/api/outbox/lag). Run by npm test (smoke), prove-green (smoke) and by hand (load).
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import postgres from "postgres";
import { SignJWT } from "jose";
import { createLogger } from "../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../packages/shared/outbox/relay.ts";
import { runProfile } from "./run.ts";
import { formatThresholds, judge, LOAD, peakRate, type RunName, scenarioSeconds, type Threshold } from "./thresholds.ts";

const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
const DEMO_OPS = "e0000000-0000-4000-8000-000000000003";
/** How long to wait for the run's last events to be delivered before judging the lag. */
const LAG_WAIT_MS = 10_000;

export interface LoadTarget {
  api: string;
  db: string;
  anonKey: string;
  jwtSecret: string;
}

export interface LoadResult {
  run: RunName;
  ok: boolean;
  requests: Record<string, number>;
  events: number;
  thresholds: Threshold[];
}

/** The target from SWITCHYARD_* (what npm test sets), or exit 2 naming what is missing. */
export function targetFromEnv(): LoadTarget {
  const env = (k: string): string => {
    const v = process.env[k];
    if (!v) {
      console.error(`${k} is required (npm test sets SWITCHYARD_API_URL, SWITCHYARD_DB_URL, SWITCHYARD_ANON_KEY, SWITCHYARD_JWT_SECRET)`);
      process.exit(2);
    }
    return v;
  };
  return { api: env("SWITCHYARD_API_URL"), db: env("SWITCHYARD_DB_URL"), anonKey: env("SWITCHYARD_ANON_KEY"), jwtSecret: env("SWITCHYARD_JWT_SECRET") };
}

/** Commit-to-ack lags of the caller's events since `since` (undelivered ones count with their age). */
async function outboxLags(api: string, token: string, since: string): Promise<{ lags: number[]; events: number }> {
  const deadline = Date.now() + LAG_WAIT_MS;
  for (;;) {
    const res = await fetch(`${api}/functions/v1/console/api/outbox/lag?since=${encodeURIComponent(since)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) throw new Error(`console/api/outbox/lag answered ${res.status}: ${await res.text()}`);
    const body = await res.json() as { events: number; lag_ms: number[]; undelivered_ms: number[] };
    if (body.undelivered_ms.length === 0 || Date.now() >= deadline) return { lags: [...body.lag_ms, ...body.undelivered_ms], events: body.events };
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runPortalLoad(t: LoadTarget, run: RunName, o: { relay: boolean }): Promise<LoadResult> {
  const profile = LOAD.runs[run];
  const sql = postgres(t.db, { prepare: false, max: 4, onnotice: () => {} });
  const token = await new SignJWT({ role: "authenticated", tenant_id: DEMO_TENANT, principal_kind: "human" })
    .setProtectedHeader({ alg: "HS256" }).setSubject(DEMO_OPS).setIssuedAt().setExpirationTime("30m")
    .sign(new TextEncoder().encode(t.jwtSecret));

  // An n8n stand-in subscribed to the quotes, so every quote's event is really delivered.
  const receiver = createServer((req, res) => req.resume().on("end", () => res.writeHead(204).end()));
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
  const secretRef = `${DEMO_TENANT}/load-${randomBytes(4).toString("hex")}`;
  await sql`select vault.create_secret(${"whsec_" + randomBytes(24).toString("base64")}, ${secretRef})`;
  const [sub] = await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref, event_filter)
    values (${DEMO_TENANT}, ${secretRef.slice(37)}, ${`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`}, ${secretRef}, '{rates.quote.created}')
    returning id`;
  // One user at this rate would hit the per-caller action limit; lift it for the run only.
  const scope = `tenant:${DEMO_TENANT}:portal:rates`;
  await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
            values ('rate.actions.perMinute', ${scope}, ${String(Math.max(600, peakRate(profile.price_one) * 120))}, 'load run', 'ci')
            on conflict (key, scope) do update set value = excluded.value`;
  const stopRelay = o.relay ? await new Relay(sql, { principalId: RELAY_PRINCIPAL }, createLogger("load", { write: () => {} })).start(200) : null;

  try {
    const healthUrl = `${t.api}/functions/v1/health`;
    const anon = { authorization: `Bearer ${t.anonKey}` };
    // The database's clock, as k6's setup() takes it: the run's events are the ones committed since.
    const since = (await (await fetch(healthUrl, { headers: anon })).json()).db_time as string;
    const pickup = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const [health, price] = await Promise.all([
      runProfile({ name: "health", url: healthUrl, headers: anon }, profile.health),
      runProfile({
        name: "price_one", url: `${t.api}/functions/v1/rates/price_one`, method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }),
      }, profile.price_one),
    ]);
    const { lags, events } = await outboxLags(t.api, token, since);
    const thresholds = judge(LOAD.thresholds, { health, price_one: price }, lags);
    return { run, ok: thresholds.every((x) => x.ok), requests: { health: health.length, price_one: price.length }, events, thresholds };
  } finally {
    await stopRelay?.();
    await sql`update outbox_subscriptions set enabled = false where id = ${sub.id}`;
    await sql`delete from feature_flags_v2 where key = 'rate.actions.perMinute' and scope = ${scope}`;
    receiver.close();
    await sql.end();
  }
}

/** Prints a run's thresholds, keeps test-results/load-<run>.json, and says whether all held. */
export function reportLoad(r: LoadResult): boolean {
  const seconds = Math.max(...Object.values(LOAD.runs[r.run]).map(scenarioSeconds));
  console.log(`load ${r.run}: ${Object.entries(r.requests).map(([k, n]) => `${n} ${k}`).join(", ")} requests over ${seconds}s, ${r.events} outbox events\n${formatThresholds(r.thresholds)}`);
  mkdirSync("test-results", { recursive: true });
  writeFileSync(`test-results/load-${r.run}.json`, JSON.stringify({ profile: LOAD.runs[r.run], ...r }, null, 2));
  console.log(r.ok ? `load ${r.run}: all thresholds green` : `load ${r.run}: thresholds FAILED`);
  return r.ok;
}
