/**
 * The load run against the portals (smoke in npm test, longer by hand or from the gate):
 * constant arrival rates on health and rates/price_one with a real user JWT, an outbox
 * subscription to a local receiver with a relay delivering, and the charter's thresholds:
 * http_req_failed rate<0.02, http_req_duration p(95)<2500, outbox_lag p(95)<5000 ms.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, writeFileSync } from "node:fs";
import postgres from "postgres";
import { SignJWT } from "jose";
import { createLogger } from "../packages/shared/observability/logger.ts";
import { RELAY_PRINCIPAL, Relay } from "../packages/shared/outbox/relay.ts";
import { runScenario } from "./run.ts";
import { evaluate, formatThresholds, type Threshold, trendThreshold } from "./thresholds.ts";

const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
const DEMO_OPS = "e0000000-0000-4000-8000-000000000003";

export interface PortalLoadOptions {
  name: string;
  healthRate: number;
  priceRate: number;
  seconds: number;
  /** Run a relay in this process (stacks started without the runtime's relay worker). */
  relay: boolean;
}

function env(k: string): string {
  const v = process.env[k];
  if (!v) {
    console.error(`${k} is required (npm test sets SWITCHYARD_API_URL, SWITCHYARD_DB_URL, SWITCHYARD_ANON_KEY, SWITCHYARD_JWT_SECRET)`);
    process.exit(2);
  }
  return v;
}

export async function runPortalLoad(o: PortalLoadOptions): Promise<boolean> {
  const api = env("SWITCHYARD_API_URL"), db = env("SWITCHYARD_DB_URL"), anon = env("SWITCHYARD_ANON_KEY");
  const sql = postgres(db, { prepare: false, max: 4, onnotice: () => {} });
  const token = await new SignJWT({ role: "authenticated", tenant_id: DEMO_TENANT, principal_kind: "human" })
    .setProtectedHeader({ alg: "HS256" }).setSubject(DEMO_OPS).setIssuedAt().setExpirationTime("30m")
    .sign(new TextEncoder().encode(env("SWITCHYARD_JWT_SECRET")));

  // An n8n stand-in subscribed to the quotes, so every quote's event is delivered and timed.
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
            values ('rate.actions.perMinute', ${scope}, ${String(Math.max(600, o.priceRate * 120))}, 'load run', 'ci')
            on conflict (key, scope) do update set value = excluded.value`;
  const stopRelay = o.relay ? await new Relay(sql, { principalId: RELAY_PRINCIPAL }, createLogger("load", { write: () => {} })).start(200) : null;

  const started = new Date();
  const pickup = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const [health, price] = await Promise.all([
    runScenario({ name: "health", url: `${api}/functions/v1/health`, headers: { authorization: `Bearer ${anon}` }, rate: o.healthRate, seconds: o.seconds }),
    runScenario({
      name: "rates.price_one", url: `${api}/functions/v1/rates/price_one`, method: "POST", rate: o.priceRate, seconds: o.seconds,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup }),
    }),
  ]);

  // Outbox lag: commit to 2xx of every quote event of the run (waiting for the last ones).
  let lags: number[] = [];
  for (let i = 0; i < 40; i++) {
    lags = (await sql`select l.lag_ms::float8 as lag from outbox_delivery_lag l where l.subscription_id = ${sub.id}`).map((r) => r.lag);
    const [{ n }] = await sql`select count(*)::int as n from outbox_events where tenant_id = ${DEMO_TENANT}
                              and event_type = 'rates.quote.created' and created_at >= ${started}`;
    if (lags.length >= n) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await stopRelay?.();
  await sql`update outbox_subscriptions set enabled = false where id = ${sub.id}`;
  await sql`delete from feature_flags_v2 where key = 'rate.actions.perMinute' and scope = ${scope}`;
  receiver.close();
  await sql.end();

  const results: Record<string, { requests: number; thresholds: Threshold[] }> = {
    health: { requests: health.length, thresholds: evaluate(health) },
    "rates.price_one": { requests: price.length, thresholds: [...evaluate(price), trendThreshold("outbox_lag", lags, 95, 5000)] },
  };
  let ok = true;
  for (const [name, r] of Object.entries(results)) {
    ok &&= r.thresholds.every((t) => t.ok);
    console.log(`scenario ${name}: ${r.requests} requests over ${o.seconds}s\n${formatThresholds(r.thresholds)}`);
  }
  mkdirSync("test-results", { recursive: true });
  writeFileSync(`test-results/load-${o.name}.json`, JSON.stringify({ options: o, results }, null, 2));
  console.log(ok ? `load ${o.name}: all thresholds green` : `load ${o.name}: thresholds FAILED`);
  return ok;
}
