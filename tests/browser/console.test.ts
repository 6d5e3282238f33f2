/**
 * The operator console in a real headless Chromium (Debian's, driven by playwright-core),
 * against the throwaway stack of `npm test`: real HTTP, real Postgres, nothing mocked.
 * Issue 6 "Must show": sign in; the Live Feed shows a synthetic rates price_one within 2 s;
 * the kill switch (two-step confirm with a reason) sets the flag in Postgres and an agent's
 * write is refused; resume; a DLQ entry's trace link opens its trace view; an agent's action
 * is reverted from its trace view.
 * Screenshots: test-results/screenshots/ (git-ignored), kept as test artifacts.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, ensureChromium } from "../../scripts/stack/chromium.ts";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";
import { DEMO_TENANT, machineKey, signedPost, USERS, userJwt } from "../helpers/auth.ts";
import { fnUrl, stackEnv } from "../helpers/env.ts";
import { sql } from "../helpers/db.ts";

const SHOTS = join(PROJECT_ROOT, "test-results", "screenshots");
const pickup = new Date(Date.now() + 2 * 86400_000).toISOString().slice(0, 10);
const quoteBody = () => ({ origin: "60601", destination: "75201", equipment: "van", pickup_date: pickup });
const RESUME_SQL = "update feature_flags_v2 set value=false where key='autonomy.emergencyStop' and scope='global';";

let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
let traceId = "";

const shot = (name: string) => page.screenshot({ path: join(SHOTS, name), fullPage: true });
const stopFlag = async () => (await sql`select value from feature_flags_v2 where key = 'autonomy.emergencyStop' and scope = 'global'`)[0].value;

/** The kill switch's two steps: press, then confirm with a reason. */
async function flipKillSwitch(expectButton: string, reason: string) {
  await expect.poll(() => page.textContent("#ks-button")).toBe(expectButton);
  await page.click("#ks-button");
  await page.waitForSelector("#ks-confirm", { state: "visible" });
  // Step two is not possible without a reason.
  expect(await page.isDisabled("#ks-confirm-button")).toBe(true);
  await page.fill("#ks-reason", reason);
  expect(await page.isDisabled("#ks-confirm-button")).toBe(false);
  await page.click("#ks-confirm-button");
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const executablePath = ensureChromium((s) => console.log(`[chromium] ${s}`));
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
});

afterAll(async () => {
  // Never leave the platform halted, whatever happened above (the charter's resume).
  await sql.unsafe(RESUME_SQL);
  await browser?.close();
  await sql.end();
});

describe("console in headless Chromium", () => {
  it("refuses a forged token, then signs in with a super_admin JWT kept in sessionStorage", async () => {
    const res = await page.goto(fnUrl("console"));
    expect(res!.status()).toBe(200);
    expect(page.url()).toMatch(/\/functions\/v1\/console\/$/); // redirected to the trailing slash
    expect(res!.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.waitForSelector("#signin", { state: "visible" });

    await page.fill("#token", await userJwt(USERS.super, { secret: "not-the-project-secret-at-all-0123456789" }));
    await page.click("#signin-button");
    await page.waitForSelector("#signin-error", { state: "visible" });
    expect(await page.textContent("#signin-error")).toContain("invalid_jwt");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    const token = await userJwt(USERS.super);
    await page.fill("#token", token);
    await page.click("#signin-button");
    await page.waitForSelector("#app", { state: "visible" });
    expect(await page.textContent("#who-name")).toBe("super@switchyard.test");
    expect(await page.textContent("#who-roles")).toContain("super_admin");
    await page.waitForSelector("#autonomy[data-state='running']");
    await page.waitForSelector("#killswitch[data-state='running']");
    expect(await page.evaluate(() => sessionStorage.getItem("switchyard.console.token"))).toBe(token);
    // The token is not left in the form, and nothing else was stored.
    expect(await page.inputValue("#token")).toBe("");
    expect(await page.evaluate(() => [localStorage.length, document.cookie])).toEqual([0, ""]);
    // The Standby panel: this stack streams to no standby.
    await page.waitForSelector("#replication-table td:has-text('No standby')");
    expect(await page.textContent("#repl-max")).toBe("the dr.standby.* thresholds");
    await shot("01-signed-in.png");
  });

  it("shows a synthetic rates price_one on the Live Feed within 2 seconds, and the SLO tile follows", async () => {
    await page.waitForSelector("#feed-status[data-state='open']", { timeout: 10_000 });
    const tileRequests = async () => {
      const text = await page.locator(".tile[data-portal='rates'] p.muted").textContent({ timeout: 100 }).catch(() => null);
      return text ? Number(/^(\d+) requests/.exec(text)?.[1] ?? 0) : 0;
    };
    const before = await tileRequests();

    traceId = randomBytes(16).toString("hex");
    const sent = Date.now();
    const res = await fetch(fnUrl("rates/price_one"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${await userJwt(USERS.ops)}`,
        traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      },
      body: JSON.stringify(quoteBody()),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).trace_id).toBe(traceId);

    await page.waitForSelector(`#feed-list li[data-trace='${traceId}'][data-phase='finish']`, { timeout: 2000 });
    const seenAfter = Date.now() - sent;
    console.log(`[console] the price_one's finish row was on screen ${seenAfter} ms after the POST was sent`);
    expect(seenAfter).toBeLessThan(2000);
    expect(await page.locator(`#feed-list li[data-trace='${traceId}'][data-phase='start']`).count()).toBe(1);
    expect(await page.textContent(`#feed-list li[data-trace='${traceId}'][data-phase='finish']`)).toContain("rates.price_one");

    // The feed event (not a timer) makes the SLO tiles reload: the rates tile counts it.
    await expect.poll(tileRequests, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(await page.locator(".tile[data-portal='rates'] .uplot").count()).toBe(1); // uPlot drew its chart
    await shot("02-live-feed.png");
  });

  it("kill switch: two-step confirm with a reason halts autonomy in Postgres; an agent's write is refused", async () => {
    const agents = await machineKey(sql, "agents");
    const agentUrl = `${fnUrl("rates/price_one")}?tenant=${DEMO_TENANT}`;
    expect((await signedPost(agentUrl, quoteBody(), agents)).status).toBe(200);

    // Cancel leaves everything as it was.
    await page.click("#ks-button");
    await page.waitForSelector("#ks-confirm", { state: "visible" });
    await page.click("#ks-cancel");
    await page.waitForSelector("#ks-confirm", { state: "hidden" });
    expect(await stopFlag()).toBe("false");

    const reason = `browser test: emergency stop drill ${traceId.slice(0, 6)}`;
    await flipKillSwitch("Emergency stop", reason);
    await page.waitForSelector("#killswitch[data-state='halted']");
    await page.waitForSelector("#autonomy[data-state='halted']");
    expect(await stopFlag()).toBe("true");
    const [change] = await sql`select new_value, reason, changed_by from feature_flag_history
                               where key = 'autonomy.emergencyStop' order by changed_at desc limit 1`;
    expect(change).toEqual({ new_value: "true", reason, changed_by: "super@switchyard.test" });

    const refused = await signedPost(agentUrl, quoteBody(), agents);
    expect(refused.status).toBe(503);
    expect((await refused.json()).code).toBe("autonomy_halted");
    await shot("03-halted.png");
  });

  it("resume through the console: the flag is false again and agents write again", async () => {
    await flipKillSwitch("Resume autonomy", "browser test: drill over, resume");
    await page.waitForSelector("#killswitch[data-state='running']");
    expect(await stopFlag()).toBe("false");
    const agents = await machineKey(sql, "agents");
    expect((await signedPost(`${fnUrl("rates/price_one")}?tenant=${DEMO_TENANT}`, quoteBody(), agents)).status).toBe(200);
    await page.waitForSelector("#flag-history li >> text=drill over, resume");
    await shot("04-resumed.png");
  });

  it("a DLQ entry's trace link opens its trace view: span waterfall with its audit rows", async () => {
    // The price_one's outbox event dead-letters for real: the relay's own functions mark it
    // delivering on its last attempt and ack a failure (trusted session, as the relay runs).
    await expect.poll(async () => Number((await sql`select count(*) from spans where trace_id = ${traceId}`)[0].count), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(5);
    const [ev] = await sql`update outbox_events set state = 'delivering', attempts = 8, delivered_at = null,
                                                  next_attempt_at = now() + interval '1 hour'
                           where trace_id = ${traceId} returning id`;
    expect(ev).toBeDefined();
    const [ack] = await sql`select app_private.outbox_ack(${ev.id}, false, 'HTTP 500 from the n8n receiver (browser test)', '[]'::jsonb, 8) as state`;
    expect(ack.state).toBe("dead");

    await page.click("#dlq-refresh");
    const row = page.locator(`#dlq-table tr[data-trace='${traceId}']`);
    await row.waitFor();
    expect(await row.getAttribute("data-state")).toBe("dead");
    await row.locator("button[data-action='dry-run']").click();
    await expect.poll(() => page.textContent("#dlq-result")).toContain("would replay 1 event(s)");
    await shot("05-dlq.png");

    await row.locator("a.trace-link").click();
    await page.waitForSelector("#trace-view", { state: "visible" });
    expect(new URL(page.url()).hash).toBe(`#/trace/${traceId}`);
    expect(await page.textContent("#trace-id")).toBe(traceId);
    await page.waitForSelector("#waterfall .wf-row[data-name='rates.price_one']");
    const names = await page.locator("#waterfall .wf-row").evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.name));
    expect(names[0]).toBe("rates.price_one"); // the root first, its steps beneath it
    expect(new Set(names)).toEqual(new Set(["rates.price_one", "detect", "decide", "act", "prove"]));
    const bars = await page.locator("#waterfall .wf-bar").count();
    expect(bars).toBe(names.length);
    expect(await page.locator("#trace-audit tbody tr").count()).toBeGreaterThanOrEqual(1);
    expect(await page.textContent("#trace-audit tbody")).toContain("rates_quotes");
    expect(await page.locator("#trace-dlq tbody tr").count()).toBe(1);
    expect(await page.textContent("#trace-outbox tbody")).toContain("dead");
    await shot("06-trace-view.png");

    await page.click("#trace-back");
    await page.waitForSelector("#overview", { state: "visible" });
  });

  it("an agent's escalation is reverted from its trace view: Revert (two steps), then Clear revert", async () => {
    const quote = randomUUID();
    await sql`insert into rates_quotes (id, tenant_id, request, quote, total, status, needs_approval_since)
              values (${quote}, ${DEMO_TENANT}, '{}', '{}', 777, 'needs_approval', now() - interval '3 hours')`;
    const tick = await fetch(fnUrl("autopilot/tick"), { method: "POST", headers: { authorization: `Bearer ${stackEnv.serviceRoleKey}` }, body: "{}" });
    expect(tick.status).toBe(200);
    const [a] = await sql`select trace_id from alerts where source = 'rates.approval_sla' and dedupe_key = ${quote}`;
    expect(a?.trace_id).toBeTruthy();

    await page.goto(`${fnUrl("console")}/#/trace/${a.trace_id}`);
    await page.waitForSelector("#trace-revert", { state: "visible" });
    expect(await page.textContent("#trace-revert-note")).toContain("rates/escalate_quote is reversible");
    await page.click("#trace-revert-btn");
    expect(await page.textContent("#trace-revert-btn")).toBe("Confirm revert");
    expect((await sql`select escalated_at from rates_quotes where id = ${quote}`)[0].escalated_at).not.toBeNull(); // not yet
    await page.click("#trace-revert-btn");
    await expect.poll(() => page.textContent("#trace-revert-result")).toContain("Reverted");
    expect((await sql`select escalated_at from rates_quotes where id = ${quote}`)[0].escalated_at).toBeNull();
    await expect.poll(() => page.textContent("#trace-revert-btn")).toBe("Clear revert");
    expect(await page.textContent("#trace-revert-note")).toContain("hold this work");
    await shot("07-reverted.png");
    await page.click("#trace-revert-btn");
    await page.click("#trace-revert-btn");
    await expect.poll(() => page.textContent("#trace-revert-result")).toContain("Cleared");
    expect((await sql`select cleared_at from action_runs where trace_id = ${a.trace_id}`)[0].cleared_at).not.toBeNull();
    await page.click("#trace-back");
  });

  it("a quarantined detector is shown in the Quarantine panel and released there with a reason (two steps)", async () => {
    const [q] = await sql`select app_private.quarantine_trip(${DEMO_TENANT}::uuid, 'detector', 'rates.browser_test',
                            '3 runs in a row threw: browser test') as id`;
    await page.click("#quarantine-refresh");
    const row = page.locator(`#quarantine-table tr[data-id='${q.id}']`);
    await row.waitFor();
    expect(await row.getAttribute("data-state")).toBe("open");
    expect(await row.textContent()).toContain("rates.browser_test");
    await row.locator("button[data-action='release']").click();
    await page.waitForSelector("#q-confirm", { state: "visible" });
    expect(await page.isDisabled("#q-confirm-button")).toBe(true); // not without a reason
    await page.fill("#q-reason", "browser test: detector fixed");
    await page.click("#q-confirm-button");
    await expect.poll(() => page.textContent("#quarantine-result")).toContain("Released detector rates.browser_test");
    await expect.poll(() => row.getAttribute("data-state")).toBe("released");
    const [r] = await sql`select released_by_name, release_reason from quarantines where id = ${q.id}`;
    expect(r).toEqual({ released_by_name: "super@switchyard.test", release_reason: "browser test: detector fixed" });
    await shot("08-quarantine.png");
  });

  it("sign-out clears the token; a reload stays signed out; no CSP violation or script error happened", async () => {
    await page.click("#signout");
    await page.waitForSelector("#signin", { state: "visible" });
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.reload();
    await page.waitForSelector("#signin", { state: "visible" });
    expect(await page.isHidden("#app")).toBe(true);
    await shot("09-signed-out.png");
    // The forged sign-in above answered 401 (Chromium logs failed fetches); nothing else.
    const unexpected = consoleErrors.filter((e) => !/status of 401/.test(e));
    expect(unexpected).toEqual([]);
  });
});
