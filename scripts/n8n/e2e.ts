/**
 * npm run n8n:e2e — the templates in n8n/ in a real n8n, against a real Switchyard stack.
 *
 * Installs the pinned n8n (scripts/n8n/install.ts) into .n8n/install, starts a throwaway stack
 * (free ports, destroyed at the end, pass or fail), starts n8n on 127.0.0.1 and a free port with
 * its own SQLite in a fresh user folder, imports the Stripe credential and the templates with
 * n8n's CLI, activates them, and drives the flows: a form post reaches n8n, n8n signs and posts
 * it, Switchyard stores the lead and publishes the event, the relay delivers it to n8n, n8n
 * verifies it and updates the CRM; checkout.started -> Stripe (a local stand-in) -> the session
 * posted back, signed; then the refusals. Prints each check with its time; exit 0 when all pass.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { startFaultStack } from "../faults/stack.ts";
import { PROJECT_ROOT } from "../stack/instance.ts";
import { freePort, pidAlive, poll } from "../stack/processes.ts";
import { ensureN8n, N8N_BIN, N8N_VERSION } from "./install.ts";
import { startReceivers } from "./receivers.ts";
import { loadTemplate, templateFiles } from "./templates.ts";

const DEMO_TENANT = "d0000000-0000-4000-8000-000000000001";
const started = Date.now();
const secs = (from: number) => ((Date.now() - from) / 1000).toFixed(1);
const log = (s: string) => console.log(`[n8n:e2e +${secs(started)}s] ${s}`);
const results: { name: string; ok: boolean; seconds: number; detail: string }[] = [];

async function check(name: string, fn: () => Promise<string>) {
  const t = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true, seconds: (Date.now() - t) / 1000, detail });
    console.log(`  ok   ${name} (${secs(t)} s): ${detail}`);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    results.push({ name, ok: false, seconds: (Date.now() - t) / 1000, detail });
    console.log(`  FAIL ${name} (${secs(t)} s): ${detail}`);
  }
}

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function until<T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const v = await poll(ms, () => Promise.resolve().then(fn).catch(() => null), 200);
  if (v === null) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
  return v;
}

async function main(): Promise<number> {
  console.log(`n8n:e2e: n8n ${N8N_VERSION} on Node ${process.version}, the templates in n8n/ (${templateFiles().join(", ")})`);
  const inst = ensureN8n(log);
  log(inst.installed ? `n8n installed in ${inst.seconds.toFixed(1)} s` : `n8n ${N8N_VERSION} already installed (.n8n/install)`);

  const runDir = join(PROJECT_ROOT, ".n8n", `run-${process.pid}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  // Kept when a check failed: n8n's log and its SQLite (executions) are in it.
  const cleanups: (() => Promise<void> | void)[] = [() => {
    if (results.every((r) => r.ok)) rmSync(runDir, { recursive: true, force: true });
    else console.log(`n8n's log and database kept in ${runDir}`);
  }];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e) => console.error(`cleanup: ${e}`));
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));

  try {
    let t = Date.now();
    const stack = await startFaultStack(`n8n-e2e-${process.pid}`, (s) => log(s));
    cleanups.push(() => stack.destroy());
    const sql = stack.admin;
    log(`Switchyard stack up in ${secs(t)} s: ${stack.api}`);

    // What the operator does once (README "Using n8n"): an n8n key for the tenant, a webhook
    // secret in Vault and a subscription to n8n's webhook. All generated now, none in a template.
    const [k] = await sql`select key_id, secret from ops.issue_service_key('n8n', 90, 'service', ${[DEMO_TENANT]}::uuid[])`;
    const keyId = k.key_id as string;
    const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
    const stripeKey = `sk_test_${randomBytes(12).toString("hex")}`;
    const n8nPort = await freePort();
    const brokerPort = await freePort();
    const n8nBase = `http://127.0.0.1:${n8nPort}`;
    const secretRef = `${DEMO_TENANT}/n8n-e2e`;
    await sql`select vault.create_secret(${webhookSecret}, ${secretRef})`;
    const [sub] = await sql`insert into public.outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref, event_filter)
      values (${DEMO_TENANT}, 'n8n-e2e', ${`${n8nBase}/webhook/switchyard-events`}, ${secretRef}, '{website.*}') returning id`;

    const rx = await startReceivers(stripeKey);
    cleanups.push(() => rx.close());

    // The wrong-key case: the inbound template as a user would misconfigure it (its key from
    // another variable holding a key Switchyard never issued), on its own path.
    const wfDir = join(runDir, "workflows");
    mkdirSync(wfDir);
    for (const f of templateFiles()) writeFileSync(join(wfDir, f), readFileSync(join(PROJECT_ROOT, "n8n", f)));
    const wrong = loadTemplate("inbound.json") as unknown as Record<string, unknown> & { nodes: { type: string; parameters: Record<string, unknown>; webhookId?: string; id: string }[] };
    wrong.id = "SwyInboundWrong1";
    wrong.name += " (wrong key)";
    for (const n of wrong.nodes) {
      n.id = randomUUID();
      if (n.type === "n8n-nodes-base.webhook") (n.parameters.path = "wrong-key-form"), (n.webhookId = randomUUID());
      if (n.type === "n8n-nodes-base.code") n.parameters.jsCode = String(n.parameters.jsCode).replace("'SWITCHYARD_N8N_KEY_SECRET'", "'WRONG_KEY_SECRET'");
    }
    writeFileSync(join(wfDir, "inbound-wrong-key.json"), JSON.stringify(wrong));
    writeFileSync(join(runDir, "credentials.json"), JSON.stringify([{
      id: "SwyStripeKey0001", name: "Stripe secret key", type: "httpHeaderAuth",
      data: { name: "Authorization", value: `Bearer ${stripeKey}` },
    }]));

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH, HOME: process.env.HOME, TZ: "UTC",
      N8N_USER_FOLDER: join(runDir, "home"),
      N8N_ENCRYPTION_KEY: randomBytes(24).toString("hex"),
      DB_TYPE: "sqlite",
      N8N_LISTEN_ADDRESS: "127.0.0.1", N8N_HOST: "127.0.0.1", N8N_PORT: String(n8nPort), N8N_PROTOCOL: "http",
      WEBHOOK_URL: `${n8nBase}/`,
      // No calls home: this machine has no network (and n8n has nothing to fetch).
      N8N_DIAGNOSTICS_ENABLED: "false", N8N_VERSION_NOTIFICATIONS_ENABLED: "false", N8N_TEMPLATES_ENABLED: "false",
      N8N_PERSONALIZATION_ENABLED: "false", N8N_HIRING_BANNER_ENABLED: "false", EXTERNAL_FRONTEND_HOOKS_URLS: "",
      N8N_DIAGNOSTICS_CONFIG_FRONTEND: "", N8N_DIAGNOSTICS_CONFIG_BACKEND: "", N8N_COMMUNITY_PACKAGES_ENABLED: "false",
      N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: "false", N8N_LOG_LEVEL: "info", N8N_RUNNERS_ENABLED: "true",
      N8N_RUNNERS_BROKER_PORT: String(brokerPort), DB_SQLITE_POOL_SIZE: "2",
      // n8n 1.123's default "vm" expression engine runs on isolated-vm 6.2, which needs Node 22
      // (its install script is skipped, scripts/n8n/install.ts): the legacy engine needs none.
      N8N_EXPRESSION_ENGINE: "legacy",
      // What the templates need (README "Using n8n").
      N8N_BLOCK_ENV_ACCESS_IN_NODE: "false", NODE_FUNCTION_ALLOW_BUILTIN: "crypto",
      SWITCHYARD_FUNCTIONS_URL: `${stack.api}/functions/v1`, SWITCHYARD_TENANT_ID: DEMO_TENANT,
      SWITCHYARD_N8N_KEY_ID: keyId, SWITCHYARD_N8N_KEY_SECRET: k.secret as string,
      WRONG_KEY_SECRET: randomBytes(32).toString("base64url"),
      SWITCHYARD_WEBHOOK_SECRETS: webhookSecret,
      CRM_WEBHOOK_URL: `${rx.base}/crm`, SLACK_WEBHOOK_URL: `${rx.base}/slack`, STRIPE_API_BASE: `${rx.base}/stripe`,
      SWITCHYARD_SITE_URL: "https://www.switchyard.example",
    };
    const n8n = (args: string[]) => {
      const r = spawnSync(process.execPath, [N8N_BIN, ...args], { env, encoding: "utf8", timeout: 180_000 });
      if (r.status !== 0) throw new Error(`n8n ${args.join(" ")} failed (${r.status}): ${(r.stderr + r.stdout).trim().slice(-1500)}`);
      return (r.stdout + r.stderr).trim();
    };

    t = Date.now();
    n8n(["import:credentials", `--input=${join(runDir, "credentials.json")}`]);
    n8n(["import:workflow", "--separate", `--input=${wfDir}`]);
    for (const id of ["SwyInbound000001", "SwyOutbound00001", "SwyInboundWrong1"]) n8n(["update:workflow", `--id=${id}`, "--active=true"]);
    log(`n8n CLI: credential and ${templateFiles().length + 1} workflows imported, 3 activated in ${secs(t)} s`);

    t = Date.now();
    const logFile = join(runDir, "n8n.log");
    const out = openSync(logFile, "a");
    const child = spawn(process.execPath, [N8N_BIN, "start"], { env, detached: true, stdio: ["ignore", out, out] });
    cleanups.push(async () => {
      if (!child.pid || !pidAlive(child.pid)) return;
      process.kill(-child.pid, "SIGTERM");
      const end = Date.now() + 15_000;
      while (pidAlive(child.pid) && Date.now() < end) await sleep(100);
      if (pidAlive(child.pid)) process.kill(-child.pid, "SIGKILL");
    });
    const tail = () => readFileSync(logFile, "utf8").split("\n").slice(-25).join("\n");
    try {
      await until("n8n's production webhooks", async () => {
        if (child.exitCode !== null) throw new Error("exited");
        const r = await fetch(`${n8nBase}/webhook/switchyard-events`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
        return r.status === 400;
      }, 180_000);
    } catch (err) {
      throw new Error(`n8n did not serve the templates' webhooks (${err}); its log:\n${tail()}`);
    }
    log(`n8n ${N8N_VERSION} serving on ${n8nBase} (pid ${child.pid}) after ${secs(t)} s`);

    const form = (path: string, body: string, type = "application/x-www-form-urlencoded") =>
      fetch(`${n8nBase}/webhook/${path}`, { method: "POST", headers: { "content-type": type }, body });
    const deliveredOk = (eventId: string) => until(`the relay's delivery of ${eventId} to n8n`, async () => {
      const [d] = await sql`select status_code, attempt from public.outbox_deliveries where event_id = ${eventId} and subscription_id = ${sub.id} and ok`;
      return d;
    });
    const email = `maria-${randomBytes(3).toString("hex")}@acme-shippers.example`;
    let leadEvent = "";

    await check("inbound: website form -> n8n signs (HMAC v2) -> /functions/v1/webhooks", async () => {
      const res = await form("switchyard-website-form", new URLSearchParams({
        email, name: "Maria Lopez", company: "Acme Shippers", page: "/pricing", utm_source: "google", utm_medium: "cpc", utm_campaign: "q4-reefer",
      }).toString());
      const body = await res.json() as { data?: { event_id: string } };
      assert(res.status === 200 && body.data?.event_id, `n8n answered ${res.status} ${JSON.stringify(body)}`);
      const [ev] = await sql`select event_type, utm, page from public.website_events where id = ${body.data.event_id}`;
      assert(ev?.event_type === "lead.created" && ev.utm.campaign === "q4-reefer", `website_events row: ${JSON.stringify(ev)}`);
      const [lead] = await sql`select stage, company from public.crm_leads where tenant_id = ${DEMO_TENANT} and email = ${email}`;
      assert(lead?.company === "Acme Shippers", "no crm_leads row for the form's email");
      const [o] = await sql`select id, event_type from public.outbox_events where payload->>'website_event_id' = ${body.data.event_id}`;
      assert(o?.event_type === "website.lead.created", "no website.lead.created in the outbox");
      leadEvent = o.id;
      return `Switchyard 200, website event ${body.data.event_id}, lead stored (stage ${lead.stage}), ${o.event_type} published`;
    });

    await check("outbound: relay -> n8n verifies the Standard Webhooks signature -> CRM update", async () => {
      assert(leadEvent, "no event from the inbound check");
      const d = await deliveredOk(leadEvent);
      const crm = await until("the CRM call", () => rx.calls.find((c) => c.path === "/crm" && c.body.includes(leadEvent)));
      const sent = JSON.parse(crm.body);
      assert(sent.type === "website.lead.created" && /^[0-9a-f]{64}$/.test(sent.lead.email_sha256), `CRM got ${crm.body}`);
      assert(!crm.body.includes(email), "the CRM call carried the email (the outbox has only its hash)");
      return `delivery answered ${d.status_code} (attempt ${d.attempt}) after n8n verified it and called the CRM with the lead's hash and UTM`;
    });

    await check("checkout: checkout.started -> n8n creates the Stripe Checkout Session -> posts it back signed", async () => {
      const res = await form("switchyard-website-form", JSON.stringify({ type: "checkout.started", data: { page: "/checkout", email, plan: "growth", seats: 12, utm: { source: "newsletter" } } }), "application/json");
      const body = await res.json() as { data?: { event_id: string } };
      assert(res.status === 200 && body.data?.event_id, `n8n answered ${res.status} ${JSON.stringify(body)}`);
      const [o] = await sql`select id from public.outbox_events where payload->>'website_event_id' = ${body.data.event_id}`;
      const d = await deliveredOk(o.id);
      const session = rx.sessions.get(o.id);
      assert(session, "Stripe stand-in saw no Checkout Session request with Idempotency-Key = the event id");
      const [cb] = await sql`select data from public.website_events where tenant_id = ${DEMO_TENANT} and event_type = 'checkout.session_created' and data->>'checkout_event_id' = ${body.data.event_id}`;
      assert(cb, "no checkout.session_created stored for the checkout");
      assert(cb.data.session_id === session.id && cb.data.amount_total === 12 * 9900, `stored ${JSON.stringify(cb.data)}, Stripe made ${session.id}`);
      const [o2] = await sql`select event_type from public.outbox_events where payload->>'session_id' = ${String(session.id)}`;
      return `Stripe (local) made ${session.id} for ${session.amount_total} ${session.currency}; Switchyard stored it (${o2?.event_type ?? "no event"}); delivery answered ${d.status_code}`;
    });

    await check("refused: a template signing with a wrong key gets Switchyard's 401", async () => {
      const before = (await sql`select count(*)::int as n from public.website_events`)[0].n;
      const res = await form("wrong-key-form", new URLSearchParams({ email: `x-${email}`, page: "/pricing" }).toString());
      const text = await res.text();
      const p = JSON.parse(text || "{}") as { code?: string; status?: number };
      assert(text, `n8n answered ${res.status} with an empty body (${JSON.stringify(Object.fromEntries(res.headers))})`);
      const after = (await sql`select count(*)::int as n from public.website_events`)[0].n;
      assert(res.status === 401 && p.code === "invalid_signature", `n8n answered ${res.status} ${JSON.stringify(p)}`);
      assert(after === before, "a website event was stored");
      return `401 ${p.code}, nothing stored`;
    });

    // Deliveries n8n's verifier must refuse, sent straight to its webhook.
    const deliver = (id: string, body: string, secret: string, at: Date) =>
      fetch(`${n8nBase}/webhook/switchyard-events`, {
        method: "POST",
        headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign(id, at, body) },
        body,
      });
    const forged = (id: string) => JSON.stringify({ id, type: "website.lead.created", timestamp: new Date().toISOString(), tenant_id: DEMO_TENANT, aggregate: { type: "website_visitor", id: "x" }, data: { page: "/forged", utm: {}, email_sha256: "0".repeat(64) } });
    const crmCalls = () => rx.calls.filter((c) => c.path === "/crm").length;

    await check("refused by n8n: a delivery signed with another secret", async () => {
      const id = randomUUID();
      const before = crmCalls();
      const res = await deliver(id, forged(id), `whsec_${randomBytes(24).toString("base64")}`, new Date());
      const p = await res.json();
      assert(res.status === 401 && crmCalls() === before, `n8n answered ${res.status} ${JSON.stringify(p)}`);
      return `401 "${p.detail}", no CRM call`;
    });

    await check("refused by n8n: a delivery signed right but 6 minutes old", async () => {
      const id = randomUUID();
      const before = crmCalls();
      const res = await deliver(id, forged(id), webhookSecret, new Date(Date.now() - 360_000));
      const p = await res.json();
      assert(res.status === 401 && crmCalls() === before, `n8n answered ${res.status} ${JSON.stringify(p)}`);
      return `401 "${p.detail}", no CRM call`;
    });

    await check("refused by n8n: a replayed webhook-id (the lead event, signed anew)", async () => {
      const before = crmCalls();
      const res = await deliver(leadEvent, forged(leadEvent), webhookSecret, new Date());
      const p = await res.json();
      assert(res.status === 200 && p.status === "duplicate" && crmCalls() === before, `n8n answered ${res.status} ${JSON.stringify(p)}`);
      return `200 ${JSON.stringify(p)} (not handled again: the relay stops retrying), no CRM call`;
    });
  } finally {
    await cleanup();
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(`\nn8n:e2e: ${results.length} checks in ${secs(started)} s (n8n install ${inst.installed ? `${inst.seconds.toFixed(1)} s` : "cached"})`);
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  console.error(`n8n:e2e: ${err instanceof Error ? err.message : err}`);
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exit(1);
});
