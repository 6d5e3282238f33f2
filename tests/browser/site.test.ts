/**
 * The website in a real headless Chromium (Debian's, driven by playwright-core) against the
 * throwaway stack (issue 18 "Must show"): land on /pricing?utm_source=x, submit the demo
 * form twice; the event arrives once with the UTM (the first-party cookie the landing set),
 * reaches the outbox once, and the CRM converts the lead on request into account + contact
 * + opportunity. Script typed into the form is shown back escaped (textContent) and never
 * runs; the page raises no CSP violation or script error.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, ensureChromium } from "../../scripts/stack/chromium.ts";
import { PROJECT_ROOT } from "../../scripts/stack/instance.ts";
import { DEMO_TENANT } from "../helpers/auth.ts";
import { fnUrl } from "../helpers/env.ts";
import { sql } from "../helpers/db.ts";

const SHOTS = join(PROJECT_ROOT, "test-results", "screenshots");
let browser: Browser;
let page: Page;
const errors: string[] = [];

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: ensureChromium((s) => console.log(`[chromium] ${s}`)), args: CHROMIUM_ARGS });
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("dialog", (d) => {
    errors.push(`dialog: ${d.message()}`); // an alert() would mean stored script ran
    void d.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
  await sql.end();
});

describe("website in headless Chromium", () => {
  it("pricing?utm_source=x -> demo form submitted twice -> one event with UTM, in the outbox once -> lead converted on request", async () => {
    const res = await page.goto(`${fnUrl("site")}/pricing?utm_source=x&utm_medium=cpc`);
    expect(res!.status()).toBe(200);
    expect(res!.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.waitForFunction(() => (document.querySelector("form[data-site-form='demo'] input[name='client_id']") as HTMLInputElement)?.value.length === 36);

    const email = `browser-${randomBytes(4).toString("hex")}@fleet.example`;
    const name = `<img src=x onerror=alert(1)>Lee`;
    const form = page.locator("form[data-site-form='demo']");
    await form.locator("input[name='email']").fill(email);
    await form.locator("input[name='name']").fill(name);
    await form.locator("input[name='company']").fill("Lee Fleet Services");
    const status = form.locator("[data-form-status]");
    await form.locator("button[type='submit']").click();
    await page.waitForSelector("form[data-site-form='demo'] [data-form-status][data-state='sent']");
    // The visitor's own text, shown back as text: not markup, nothing ran.
    expect(await status.textContent()).toBe(`Thanks, ${name}: we will be in touch within one business day.`);
    expect(await page.locator("form[data-site-form='demo'] [data-form-status] img").count()).toBe(0);
    await form.locator("button[type='submit']").click(); // the same form again: the same client id
    await page.waitForSelector("form[data-site-form='demo'] [data-form-status][data-state='replayed']");
    await page.screenshot({ path: join(SHOTS, "site-pricing-demo.png"), fullPage: true });

    const events = await sql`select e.id, e.event_type, e.utm, e.page from website_events e join crm_leads l on l.id = e.lead_id where l.email = ${email}`;
    expect(events.map((e) => [e.event_type, e.utm, e.page])).toEqual([["demo.requested", { source: "x", medium: "cpc" }, "/pricing"]]);
    const out = await sql`select event_type, payload -> 'utm' as utm from outbox_events where payload ->> 'website_event_id' = ${events[0].id}`;
    expect(out).toEqual([{ event_type: "website.demo.requested", utm: { source: "x", medium: "cpc" } }]);

    // A sales user converts the lead (the CRM's request, under their claims and RLS).
    const [lead] = await sql`select id, stage from crm_leads where email = ${email}`;
    expect(lead.stage).toBe("demo_requested");
    const claims = { sub: "e0000000-0000-4000-8000-000000000003", role: "authenticated", tenant_id: DEMO_TENANT, principal_kind: "human", principal_name: "ops@demo-freight.test" };
    const [conv] = await sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      return tx`select public.crm_convert_lead(${lead.id}) as r`;
    });
    expect(conv.r.converted).toBe(true);
    const [crm] = await sql`select a.name as account, c.email, o.stage from crm_opportunities o
                            join crm_accounts a on a.id = o.account_id join crm_contacts c on c.id = o.contact_id where o.lead_id = ${lead.id}`;
    expect(crm).toEqual({ account: "Lee Fleet Services", email, stage: "demo" });
    expect((await sql`select stage from crm_leads where id = ${lead.id}`)[0].stage).toBe("qualified");
    expect(errors).toEqual([]);
  });
});
