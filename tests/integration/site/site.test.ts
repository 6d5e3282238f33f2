/**
 * The website (issue 18 "Must show"), over real HTTP against the site function and Postgres:
 * all 50 pages of the registry are served, each with a title, a description, a canonical
 * URL, Open Graph tags and JSON-LD that parses and has its type's required properties
 * (checkJsonLd), under the strict CSP; the sitemap lists the 50; the forms write one event
 * per client id with the UTM of the landing URL's cookie, refuse bad input clearly and store
 * script inert (escaped wherever the site shows it); per-IP limit; honeypot.
 * The forms post from their own loopback addresses (127.0.0.x; the gateway forwards the
 * peer address), so the per-IP limit here does not touch other files' posts.
 */
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { checkJsonLd, graphTypes, PRIMARY_TYPE } from "../../../supabase/functions/site/jsonld.ts";
import { fnUrl } from "../../helpers/env.ts";
import { sql } from "../../helpers/db.ts";

const BASE = fnUrl("site");
afterAll(() => sql.end());

/** A form post from a given loopback address (the visitor's IP as the gateway sees it). */
function post(path: string, fields: Record<string, string>, opts: { from?: string; cookie?: string; json?: boolean; type?: string; raw?: string } = {}) {
  const body = opts.raw ?? new URLSearchParams(fields).toString();
  const url = new URL(`${BASE}${path}`);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      localAddress: opts.from ?? "127.0.0.2",
      headers: {
        "content-type": opts.type ?? "application/x-www-form-urlencoded",
        "content-length": Buffer.byteLength(body),
        ...(opts.json === false ? {} : { accept: "application/json" }),
        ...(opts.cookie ? { cookie: opts.cookie } : {}),
      },
    }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const attr = (html: string, re: RegExp) => re.exec(html)?.[1] ?? null;
const demo = (email: string, extra: Record<string, string> = {}) => ({ email, name: "Ana Ruiz", company: "Ruiz Reefers", client_id: randomUUID(), page: "/pricing", ...extra });

describe("site pages", () => {
  it("serves all 50 pages of the registry with title, description, canonical, Open Graph and valid JSON-LD of the page's type", async () => {
    const registry = await sql`select path, kind from site_pages where tenant_id = app_private.site_tenant() order by path`;
    expect(registry).toHaveLength(50);
    const sitemap = await (await fetch(`${BASE}/sitemap.xml`)).text();
    const locs = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
    expect(locs.sort()).toEqual(registry.map((r) => `${BASE}${r.path}`).sort());

    const problems: string[] = [];
    await Promise.all(registry.map(async ({ path, kind }) => {
      const res = await fetch(`${BASE}${path}`);
      const html = await res.text();
      const where = `${path}:`;
      if (res.status !== 200) return problems.push(`${where} status ${res.status}`);
      if (!res.headers.get("content-type")?.startsWith("text/html")) problems.push(`${where} content-type ${res.headers.get("content-type")}`);
      if (!res.headers.get("content-security-policy")?.includes("script-src 'self'")) problems.push(`${where} no strict CSP`);
      const title = attr(html, /<title>([^<]+)<\/title>/);
      const description = attr(html, /<meta name="description" content="([^"]+)"/);
      const canonical = attr(html, /<link rel="canonical" href="([^"]+)"/);
      if (!title) problems.push(`${where} no title`);
      if (!description) problems.push(`${where} no description`);
      if (canonical !== `${BASE}${path}`) problems.push(`${where} canonical ${canonical}`);
      if (attr(html, /<meta property="og:title" content="([^"]+)"/) !== title) problems.push(`${where} og:title`);
      if (attr(html, /<meta property="og:url" content="([^"]+)"/) !== canonical) problems.push(`${where} og:url`);
      if ((html.match(/<h1\b/g) ?? []).length !== 1) problems.push(`${where} not one h1`);
      if (/<script>|\son\w+="/.test(html)) problems.push(`${where} inline script or handler`);
      const ld = attr(html, /<script type="application\/ld\+json">([\s\S]*?)<\/script>/);
      if (!ld) return problems.push(`${where} no JSON-LD`);
      const doc = JSON.parse(ld);
      problems.push(...checkJsonLd(doc).map((p) => `${where} ${p}`));
      const types = graphTypes(doc);
      if (!types.includes(PRIMARY_TYPE[kind as keyof typeof PRIMARY_TYPE])) problems.push(`${where} no ${PRIMARY_TYPE[kind as keyof typeof PRIMARY_TYPE]} (${types})`);
      if (!types.includes("Organization")) problems.push(`${where} no Organization`);
      if (path !== "/" && !types.includes("BreadcrumbList")) problems.push(`${where} no BreadcrumbList`);
    }));
    expect(problems).toEqual([]);
  });

  it("has the types the issue names where they belong: SoftwareApplication with offers on Pricing, FAQPage, BlogPosting, JobPosting, WebSite", async () => {
    const ld = async (path: string) => JSON.parse(attr(await (await fetch(`${BASE}${path}`)).text(), /<script type="application\/ld\+json">([\s\S]*?)<\/script>/)!)["@graph"] as Record<string, any>[];
    const pricing = await ld("/pricing");
    const app = pricing.find((n) => n["@type"] === "SoftwareApplication")!;
    expect(app.offers.map((o: { name: string; price: string }) => `${o.name} ${o.price}`)).toEqual(["Starter 49.00", "Growth 99.00", "Enterprise 199.00"]);
    expect(pricing.map((n) => n["@type"])).toContain("FAQPage");
    expect((await ld("/")).map((n) => n["@type"])).toEqual(["Organization", "WebSite"]);
    expect((await ld("/support")).find((n) => n["@type"] === "FAQPage")!.mainEntity.length).toBe(4);
    expect((await ld("/blog/why-every-agent-needs-a-kill-switch")).find((n) => n["@type"] === "BlogPosting")!.author.name).toBe("Dana Whitfield");
    const job = (await ld("/careers/senior-backend-engineer")).find((n) => n["@type"] === "JobPosting")!;
    expect(job.baseSalary.value.minValue).toBe(160000);
    expect(job.hiringOrganization.name).toBe("Switchyard");
  });

  it("robots.txt points at the sitemap; an unknown page is a 404 problem; a landing URL's UTM goes into a first-party HttpOnly cookie", async () => {
    expect(await (await fetch(`${BASE}/robots.txt`)).text()).toContain(`Sitemap: ${BASE}/sitemap.xml`);
    const missing = await fetch(`${BASE}/no-such-page`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).code).toBe("site_page_not_found");
    const landing = await fetch(`${BASE}/pricing?utm_source=x&utm_campaign=%3Cscript%3Ealert(1)%3C%2Fscript%3E&utm_medium=e%22mail`);
    const cookie = landing.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^sy_utm=[^;]+; Path=\/; Max-Age=2592000; SameSite=Lax; HttpOnly$/);
    expect(JSON.parse(decodeURIComponent(cookie.split(";")[0].slice("sy_utm=".length)))).toEqual({ source: "x", medium: 'e"mail', campaign: "<script>alert(1)</script>" });
    // The landing page itself shows none of it.
    expect(await landing.text()).not.toContain("<script>alert");
  });
});

describe("site forms", () => {
  it("the same form posted twice (one client id) is one demo.requested event with the cookie's UTM, in the outbox once; the lead is created", async () => {
    const email = `ana-${randomUUID().slice(0, 8)}@ruiz.example`;
    const fields = demo(email);
    const cookie = `sy_utm=${encodeURIComponent(JSON.stringify({ source: "x", campaign: "winter" }))}`;
    const first = await post("/forms/demo.requested", fields, { cookie });
    expect(first.status).toBe(200);
    const a = JSON.parse(first.text);
    const second = await post("/forms/demo.requested", fields, { cookie });
    const b = JSON.parse(second.text);
    expect([a.replayed, b.replayed, b.event_id]).toEqual([false, true, a.event_id]);
    const events = await sql`select e.id, e.utm, e.page, l.stage from website_events e join crm_leads l on l.id = e.lead_id where l.email = ${email}`;
    expect(events).toEqual([{ id: a.event_id, utm: { source: "x", campaign: "winter" }, page: "/pricing", stage: "demo_requested" }]);
    const out = await sql`select event_type from outbox_events where payload ->> 'website_event_id' = ${a.event_id}`;
    expect(out.map((o) => o.event_type)).toEqual(["website.demo.requested"]);
    // The same client id with other fields is not a replay: refused, nothing new.
    const changed = await post("/forms/demo.requested", { ...fields, company: "Someone Else" }, { cookie });
    expect([changed.status, JSON.parse(changed.text).code]).toEqual([422, "idempotency_conflict"]);
  });

  it("stores script typed into a field as inert text and escapes it on the page that shows it back", async () => {
    const email = `xss-${randomUUID().slice(0, 8)}@evil.example`;
    const name = `<script>alert("x")</script><img src=x onerror=alert(1)>`;
    const res = await post("/forms/lead.created", { email, name, client_id: randomUUID(), page: "/contact" }, { json: false });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.text).not.toContain("<script>alert");
    expect(res.text).not.toContain("<img src=x");
    expect(res.text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;");
    const [lead] = await sql`select name from crm_leads where email = ${email}`;
    expect(lead.name).toBe(name); // data, as typed: nothing runs it, every page escapes it
  });

  it("answers bad input clearly and stores nothing: no client id, bad email, odd content type, oversized body, honeypot", async () => {
    const before = (await sql`select count(*)::int as n from website_events`)[0].n;
    const noId = await post("/forms/demo.requested", { ...demo("a@b.example"), client_id: "" });
    expect([noId.status, JSON.parse(noId.text).errors[0].path]).toEqual([400, "client_id"]);
    const badEmail = await post("/forms/demo.requested", demo("not-an-email"));
    expect([badEmail.status, JSON.parse(badEmail.text).code]).toEqual([400, "validation_failed"]);
    const json = await post("/forms/demo.requested", {}, { type: "application/json", raw: "{}" });
    expect([json.status, JSON.parse(json.text).code]).toEqual([415, "unsupported_media_type"]);
    const big = await post("/forms/demo.requested", {}, { raw: `email=a%40b.example&name=${"x".repeat(20_000)}` });
    expect([big.status, JSON.parse(big.text).code]).toEqual([413, "payload_too_large"]);
    const unknown = await post("/forms/account.deleted", demo("a@b.example"));
    expect(unknown.status).toBe(404);
    const bot = await post("/forms/demo.requested", { ...demo(`bot-${randomUUID().slice(0, 8)}@spam.example`), website: "http://spam.example" });
    expect(bot.status).toBe(200); // the bot is told thanks...
    expect(JSON.parse(bot.text).event_id).toBeNull(); // ...and nothing is written
    expect((await sql`select count(*)::int as n from website_events`)[0].n).toBe(before);
  });

  it("computes the ROI estimate server-side and records roi.calculated", async () => {
    const res = await post("/forms/roi.calculated", { loads_per_month: "500", avg_rate_usd: "2000", team_size: "4", client_id: randomUUID(), page: "/roi" });
    const body = JSON.parse(res.text);
    // 500 loads x 9.6 min / 60 x $45 = $3,600 + 0.5% of 500 x $2,000 = $5,000
    expect(body.message).toBe("Estimated savings: $8,600 a month.");
    const [ev] = await sql`select data from website_events where id = ${body.event_id}`;
    expect(ev.data.result).toEqual({ monthly_savings_usd: 8600, payback_months: 0.05 });
  });

  it("limits posts per visitor IP: the 11th in a minute from one address is 429 with Retry-After, another address is unaffected", async () => {
    const from = "127.0.0.3";
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post("/forms/lead.created", { email: `rl-${i}-${randomUUID().slice(0, 6)}@limit.example`, client_id: randomUUID() }, { from })).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    const limited = await post("/forms/lead.created", { email: "rl-x@limit.example", client_id: randomUUID() }, { from });
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect((await post("/forms/lead.created", { email: `rl-other-${randomUUID().slice(0, 6)}@limit.example`, client_id: randomUUID() }, { from: "127.0.0.4" })).status).toBe(200);
  });

  it("a published page version is served at once; rolling back serves the earlier one (both audited)", async () => {
    const path = "/legal/cookies";
    const [v1] = await sql`select v.title from site_pages p join site_page_versions v on v.page_id = p.id where p.path = ${path} and v.version = p.published_version`;
    const claims = { sub: "e0000000-0000-4000-8000-000000000002", role: "authenticated", tenant_id: "d0000000-0000-4000-8000-000000000001", principal_kind: "human", principal_name: "admin@demo-freight.test" };
    const asAdmin = <T>(q: (tx: typeof sql) => Promise<T>) => sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      return q(tx as unknown as typeof sql);
    });
    const content = { h1: "Cookies, revised", lead: "One first-party cookie, as before.", sections: [] };
    const pub = await asAdmin((tx) => tx`select public.site_publish(${path}, 'Cookie policy, revised — Switchyard legal', 'The revised cookie policy: one first-party cookie for campaign parameters, nothing else.', ${tx.json(content)}, 'site test') as r`);
    const to = pub[0].r.to_version as number;
    expect(await (await fetch(`${BASE}${path}`)).text()).toContain("<h1>Cookies, revised</h1>");
    await asAdmin((tx) => tx`select public.site_rollback(${path}, ${to - 1}, 'site test rollback')`);
    expect(await (await fetch(`${BASE}${path}`)).text()).toContain(`<title>${v1.title}</title>`);
    const audit = await sql`select action, before ->> 'version' as f, after ->> 'version' as t, reason from audit_log where target_type = 'site_page' and target_id = ${path}`;
    expect(audit.map((a) => `${a.action} ${a.f}->${a.t} (${a.reason})`).sort()).toEqual([`site.publish ${to - 1}->${to} (site test)`, `site.rollback ${to}->${to - 1} (site test rollback)`]);
    const bad = await asAdmin((tx) => tx`select public.site_rollback(${path}, 999, 'nope')`).catch((e) => e);
    expect(bad.code).toBe("SY280");
  });
});
