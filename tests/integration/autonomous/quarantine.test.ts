import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USERS, userJwt } from "../../helpers/auth.ts";
import { runScript } from "../../helpers/cli.ts";
import { fnUrl, stackEnv } from "../../helpers/env.ts";
import { poll } from "../../../scripts/stack/processes.ts";
import { ensureTenant, sql } from "../../helpers/db.ts";
import { expectProblem, portal } from "../../helpers/http.ts";

/**
 * Issue 12, item 9 (Must show): a tenant whose requests fail, or a subscription that always
 * answers 500, is quarantined alone; the other tenants' agents and deliveries carry on, the
 * platform is not rolled back, and a human releases the quarantine with a reason (audited).
 */
const servers: Server[] = [];
const tenants: string[] = [];
const ops = (...args: string[]) => runScript("scripts/ops.ts", args);
const post = async (path: string) => {
  const res = await fetch(fnUrl(path), { method: "POST", headers: { authorization: `Bearer ${stackEnv.serviceRoleKey}`, "content-type": "application/json" }, body: "{}" });
  expect(res.status, path).toBe(200);
  return res.json();
};
const tick = () => post("autopilot/tick");
const flag = async (key: string) => (await sql`select public.flag_value(${key}) as v`)[0].v;
const until = async <T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> => {
  const v = await poll(ms, fn, 250);
  if (v === null) throw new Error(`gave up waiting for ${what}`);
  return v;
};

/** A webhook receiver: answers `status()`, records every webhook-id it was sent. */
async function receiver(status: () => number) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      hits.push(String(req.headers["webhook-id"]));
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits };
}

async function newTenant(label: string) {
  const id = await ensureTenant(randomUUID(), `q-${label}-${randomBytes(3).toString("hex")}`, `Quarantine ${label}`);
  tenants.push(id);
  await sql`insert into role_assignments (principal_id, role, tenant_id) values (${USERS.ops}, 'ops_manager', ${id}), (${USERS.viewer}, 'viewer', ${id})`;
  await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
            values ('outbox.retryBaseMs', ${`tenant:${id}`}, '50', 'fast retries for the test', 'test')`;
  return id;
}

async function subscribe(tenant: string, name: string, url: string) {
  const ref = `${tenant}/${name}`;
  await sql`select vault.create_secret(${`whsec_${randomBytes(24).toString("base64")}`}, ${ref})`;
  const [s] = await sql`insert into outbox_subscriptions (tenant_id, name, endpoint_url, secret_ref)
                        values (${tenant}, ${name}, ${url}, ${ref}) returning id`;
  return s.id as string;
}

const publish = (tenant: string, n: number, type = "test.quarantine") =>
  sql`insert into outbox_events (tenant_id, aggregate_type, aggregate_id, event_type, payload)
      select ${tenant}, 'test', gen_random_uuid()::text, ${type}, jsonb_build_object('n', g) from generate_series(1, ${n}) g
      returning id`.then((rows) => rows.map((r) => r.id as string));

const overdueQuote = async (tenant: string) => {
  const [q] = await sql`insert into rates_quotes (id, tenant_id, request, quote, total, status, needs_approval_since)
                        values (gen_random_uuid(), ${tenant}, '{}', '{}', 4200, 'needs_approval', now() - interval '2 hours') returning id`;
  return q.id as string;
};
const escalated = async (quote: string) => (await sql`select escalated_at from rates_quotes where id = ${quote}`)[0].escalated_at !== null;

const release = (quarantineId: string, reason: string, as: keyof typeof USERS | string = "ops", tenant?: string) =>
  portal("autonomous").call("quarantine_release", { quarantine_id: quarantineId, reason }, as, { tenant, idempotencyKey: randomUUID() });

beforeAll(async () => {
  await sql`update feature_flags_v2 set value = 'true', reason = 'quarantine.test: agents on' where key = 'agents.autonomousEnabled' and scope = 'global' and value <> 'true'`;
});
afterAll(async () => {
  await sql`drop trigger if exists quarantine_test_fault on rates_contracts`;
  await sql`drop function if exists ops.quarantine_test_fault()`;
  await sql`drop policy if exists quarantine_test_fault on rates_index`;
  for (const t of tenants) {
    await sql`update quarantines set released_at = now(), release_reason = 'test cleanup' where tenant_id = ${t} and released_at is null`;
    await sql`update outbox_subscriptions set enabled = false where tenant_id = ${t}`;
  }
  servers.forEach((s) => s.close());
  await sql.end();
});

describe("a tenant whose requests fail", () => {
  it("is quarantined alone: its agents stand down, the others' agents and deliveries carry on, no rollback; a human releases it with a reason", async () => {
    const bad = await newTenant("bad");
    const good = await newTenant("good");
    // The bad tenant's data trips a bug: every contract it writes fails (500 internal_error).
    await sql`create or replace function ops.quarantine_test_fault() returns trigger language plpgsql as $$
              begin raise exception 'injected fault for tenant %', new.tenant_id; end $$`;
    await sql.unsafe(`create trigger quarantine_test_fault before insert on public.rates_contracts for each row
                      when (new.tenant_id = '${bad}') execute function ops.quarantine_test_fault()`);
    const goodHook = await receiver(() => 200);
    await subscribe(good, "sink", goodHook.url);

    const contract = (i: number) => ({ origin: "606", destination: "752", equipment: "van", rate: { kind: "per_mile", per_mile: 2 + i / 100 },
      valid_from: "2036-01-01", valid_to: "2036-12-31", customer_ref: `q-${i}-${randomBytes(3).toString("hex")}` });
    const rates = portal("rates");
    for (let i = 0; i < 30; i++) {
      await expectProblem(await rates.call("contract_upsert", contract(i), "ops", { tenant: bad, idempotencyKey: randomUUID() }), 500, "internal_error", `bad ${i}`);
      expect((await rates.call("contract_upsert", contract(i), "ops", { tenant: good, idempotencyKey: randomUUID() })).status, `good ${i}`).toBe(200);
    }
    // The metrics buffer flushes every second.
    await until("the 30 failures recorded", async () =>
      (await sql`select coalesce(sum(errors), 0)::int as n from request_metrics where tenant_id = ${bad} and portal = 'rates'`)[0].n >= 30);
    const badQuote = await overdueQuote(bad);
    const goodQuote = await overdueQuote(good);

    const out = await tick();
    // Not the platform's breach: no rollback, agents stay on, the good tenant's figures are clean.
    expect(out.slo.rolled_back).toBe(false);
    expect(out.slo.breaches).toEqual([]);
    expect(await flag("agents.autonomousEnabled")).toBe(true);
    const [q] = await sql`select id, reason, quarantined_by from quarantines where kind = 'tenant' and tenant_id = ${bad} and released_at is null`;
    expect(q, "an open quarantine of the bad tenant").toBeDefined();
    expect(q).toMatchObject({ quarantined_by: "autopilot", reason: expect.stringContaining("portal:rates success") });
    expect((await sql`select 1 from quarantines where tenant_id = ${good}`).length).toBe(0);
    const [alert] = await sql`select severity from alerts where tenant_id = ${bad} and source = 'quarantine.tenant' and resolved_at is null`;
    expect(alert?.severity).toBe("critical");

    // The agents: the good tenant's overdue quote is escalated, the bad tenant's is not, and
    // Postgres refuses an agent's write there whatever door it comes through.
    const next = await tick();
    expect(next.agents.rates.quarantined).toContain(`tenant:${bad}`);
    expect(await until("the good tenant's escalation", () => escalated(goodQuote))).toBe(true);
    expect(await escalated(badQuote)).toBe(false);
    const p = await expectProblem(await rates.call("escalate_quote", { quote_id: badQuote }, "agents", { tenant: bad }), 503, "quarantined");
    expect(p.detail).toContain("quarantined");
    // Humans of the bad tenant still work (the quarantine stops its agents, not its people).
    expect((await rates.call("price_one", { origin: "60601", destination: "75201", equipment: "van", pickup_date: "2036-02-02" }, "ops", { tenant: bad, idempotencyKey: randomUUID() })).status).not.toBe(503);

    // Deliveries carry on: the good tenant's 30 events, and a committed event of the bad tenant.
    const badHook = await receiver(() => 200);
    await subscribe(bad, "sink", badHook.url);
    const [badEvent] = await publish(bad, 1);
    await until("deliveries", async () => {
      await post("outbox-relay");
      return new Set(goodHook.hits).size >= 30 && badHook.hits.includes(badEvent);
    }, 20_000);

    // Shown to operators: ops status and ops quarantine list.
    const status = (await ops("status", "--json")).json().data;
    expect(status.quarantined).toEqual(expect.arrayContaining([expect.objectContaining({ id: q.id, kind: "tenant", subject: bad })]));
    expect((await ops("quarantine", "list", "--json")).json().data.quarantines.map((x: { id: string }) => x.id)).toContain(q.id);

    // Release: not by a viewer, not by a machine, not without a reason; then by a human, once.
    await expectProblem(await release(q.id, "viewer tries", "viewer", bad), 403, "forbidden");
    await expectProblem(await release(q.id, "a machine tries", "agents", bad), 403, "forbidden");
    await expectProblem(await release(q.id, "", "ops", bad), 400, "validation_failed");
    await sql`drop trigger quarantine_test_fault on rates_contracts`;
    const done = await release(q.id, "fixed the contract import for this tenant", "ops", bad);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.data).toMatchObject({ quarantine_id: q.id, kind: "tenant", released_by: "ops@demo-freight.test" });
    const audit = await sql`select principal_name, reason, after ->> 'release_reason' as release_reason from audit_log
                            where target_type = 'public.quarantines' and target_id = ${q.id} and action = 'quarantines.update'`;
    expect(audit.map((a) => ({ ...a }))).toEqual([{ principal_name: "ops@demo-freight.test", reason: "fixed the contract import for this tenant", release_reason: "fixed the contract import for this tenant" }]);
    expect((await sql`select 1 from alerts where tenant_id = ${bad} and source = 'quarantine.tenant' and resolved_at is null`).length).toBe(0);
    await expectProblem(await release(q.id, "twice", "ops", bad), 409, "already_released");

    // Back to work: the gate judges it from the next minute on (no instant re-quarantine),
    // and its agents take up the overdue quote.
    await tick();
    expect((await sql`select 1 from quarantines where tenant_id = ${bad} and released_at is null`).length).toBe(0);
    expect(await until("the bad tenant's escalation after release", async () => (await tick(), await escalated(badQuote)), 15_000)).toBe(true);
  });
});

describe("a subscription that always answers 500", () => {
  it("is quarantined alone; the tenant's other subscription and other tenants keep flowing; its parked events are re-queued on release", async () => {
    const tenant = await newTenant("sub");
    const other = await newTenant("other");
    await sql`insert into feature_flags_v2 (key, scope, value, reason, owner_name)
              values ('quarantine.subscription.failures', ${`tenant:${tenant}`}, '5', 'five in a row for the test', 'test'),
                     ('quarantine.subscription.seconds', ${`tenant:${tenant}`}, '0', 'at once for the test', 'test')`;
    let broken = true;
    const bad = await receiver(() => (broken ? 500 : 200));
    const good = await receiver(() => 200);
    const elsewhere = await receiver(() => 200);
    const badSub = await subscribe(tenant, "broken", bad.url);
    await subscribe(tenant, "fine", good.url);
    await subscribe(other, "fine", elsewhere.url);

    const first = await publish(tenant, 6);
    const others = await publish(other, 6);
    const q = await until("the subscription's quarantine", async () => {
      await post("outbox-relay");
      return (await sql`select id, reason from quarantines where kind = 'subscription' and subject = ${badSub} and released_at is null`)[0];
    }, 30_000);
    expect(q.reason).toContain("HTTP 500");
    // The rest flows: every event delivered to the fine subscriptions, each once.
    await until("every event delivered", async () => {
      await post("outbox-relay");
      const [r] = await sql`select count(*) filter (where state = 'delivered')::int as n from outbox_events where id = any(${[...first, ...others]}::uuid[])`;
      return r.n === 12;
    }, 30_000);
    expect(new Set(good.hits)).toEqual(new Set(first));
    expect(good.hits).toHaveLength(6);
    expect(new Set(elsewhere.hits)).toEqual(new Set(others));
    const [alert] = await sql`select summary from alerts where tenant_id = ${tenant} and source = 'quarantine.subscription' and resolved_at is null`;
    expect(alert.summary).toContain(badSub);

    // While quarantined the relay leaves it alone: new events go to the fine one and are parked for it.
    const hitsAtQuarantine = bad.hits.length;
    const later = await publish(tenant, 2);
    await until("the later events delivered", async () => {
      await post("outbox-relay");
      return later.every((id) => good.hits.includes(id));
    }, 20_000);
    expect(bad.hits.length).toBe(hitsAtQuarantine);
    const [{ parked }] = await sql`select app_private.quarantine_parked(${q.id}) as parked`;
    expect(Number(parked)).toBe(8);

    // A human releases it (the console's API: the Autonomous portal's action, as the caller).
    broken = false;
    const token = await userJwt(USERS.ops, { tenant });
    const view = await (await fetch(fnUrl("console/api/quarantine"), { headers: { authorization: `Bearer ${token}` } })).json();
    expect(view.quarantines.find((x: { id: string }) => x.id === q.id)).toMatchObject({ kind: "subscription", subscription: "broken", parked: 8 });
    expect(view.can_release).toBe(true);
    const res = await fetch(fnUrl("console/api/quarantine/release"), {
      method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ quarantine_id: q.id, reason: "receiver fixed by the tenant" }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).quarantine).toMatchObject({ kind: "subscription", requeued: 8 });
    const [audit] = await sql`select reason from audit_log where target_type = 'public.quarantines' and target_id = ${q.id} and action = 'quarantines.update'`;
    expect(audit.reason).toBe("receiver fixed by the tenant");

    // The parked events reach it, and only it: the fine subscription gets no second copy.
    await until("the parked events delivered to the released subscription", async () => {
      await post("outbox-relay");
      return [...first, ...later].every((id) => bad.hits.includes(id));
    }, 30_000);
    // ... once each, and the release itself is an event of the tenant (autonomous.quarantine.released).
    const [released] = await sql`select id from outbox_events where tenant_id = ${tenant} and event_type = 'autonomous.quarantine.released'`;
    await until("the release event delivered", async () => (await post("outbox-relay"), good.hits.includes(released.id)), 20_000);
    expect(good.hits.length).toBe(new Set(good.hits).size);
    expect(new Set(good.hits)).toEqual(new Set([...first, ...later, released.id]));
    expect((await sql`select count(*)::int as n from outbox_events where id = any(${[...first, ...later]}::uuid[]) and state = 'delivered'`)[0].n).toBe(8);
  });
});

describe("a detector that keeps throwing", () => {
  it("is quarantined in its tenant after 3 runs in a row; the portal's other detector and other tenants run on; released, it runs again", async () => {
    const tenant = await newTenant("detector");
    // A fault in the tenant's data: the stale-index detector's read of its index throws there only.
    await sql`insert into rates_index (tenant_id, origin_zip3, destination_zip3, origin_region, destination_region, equipment, rate_per_mile, effective_date, source)
              values (${tenant}, '606', '752', 'MW', 'SC', 'van', 2.5, current_date, 'quarantine-test')`;
    await sql.unsafe(`create policy quarantine_test_fault on public.rates_index as restrictive for select to authenticated
                      using (case when tenant_id = '${tenant}' then length(tenant_id::text) / 0 = 1 else true end)`);
    const mine = await overdueQuote(tenant);
    const demo = await overdueQuote("d0000000-0000-4000-8000-000000000001");

    const first = await tick();
    expect(first.agents.rates.detector_errors["rates.stale_index"]).toBeGreaterThanOrEqual(1);
    // The portal's turn went on: the other detector escalated this tenant's quote, and the demo tenant's.
    expect(await escalated(mine)).toBe(true);
    expect(await until("the demo tenant's escalation", () => escalated(demo))).toBe(true);

    const q = await until("the detector's quarantine", async () => {
      await tick();
      return (await sql`select id, reason from quarantines where kind = 'detector' and tenant_id = ${tenant} and released_at is null`)[0];
    }, 15_000);
    expect(q.reason).toMatch(/^3 runs in a row threw: .*division by zero/);
    const skipped = await tick();
    expect(skipped.agents.rates.quarantined).toContain(`rates.stale_index@${tenant}`);
    expect(skipped.agents.rates.detector_errors["rates.stale_index"] ?? 0).toBe(0);
    expect((await sql`select 1 from quarantines where kind = 'detector' and tenant_id <> ${tenant} and released_at is null and subject = 'rates.stale_index'`).length).toBe(0);

    // Released by the operator with the ops CLI (the operator's database session), once.
    await sql`drop policy quarantine_test_fault on rates_index`;
    const cli = await ops("quarantine", "release", q.id, "--reason", "index policy fixed", "--json");
    expect(cli.code, cli.stdout + cli.stderr).toBe(0);
    expect(cli.json().data).toMatchObject({ id: q.id, kind: "detector", subject: "rates.stale_index", reason: "index policy fixed" });
    expect(cli.json().data.releasedBy).toContain("via switchyard-ops");
    const [audit] = await sql`select reason from audit_log where target_id = ${q.id} and action = 'quarantines.update'`;
    expect(audit.reason).toBe("index policy fixed");
    const twice = await ops("quarantine", "release", q.id, "--reason", "again", "--json");
    expect({ code: twice.code, error: twice.json().error.code }).toEqual({ code: 71, error: "already_released" });
    const again = await tick();
    expect(again.agents.rates.quarantined).not.toContain(`rates.stale_index@${tenant}`);
    expect(again.agents.rates.detector_errors["rates.stale_index"] ?? 0).toBe(0);
  });
});
