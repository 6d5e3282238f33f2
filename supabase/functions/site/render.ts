import { type PageContent, type SiteContext, type SitePage, urlOf } from "./content.ts";
import { jsonLdFor, jsonLdScript } from "./jsonld.ts";

/**
 * Server-rendered HTML of a page (the site function and `npm run site:export` both call it).
 * Every piece of text is escaped (esc); nothing inline runs (the CSP has no 'unsafe-inline'):
 * the one script is /site.js, the one stylesheet /site.css, JSON-LD is data, not script.
 */
const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const esc = (s: unknown) => String(s ?? "").replace(/[&<>"']/g, (c) => ESC[c]);

/** The form of each kind of page -> the website event its submission is. */
export const FORM_EVENTS = { demo: "demo.requested", contact: "lead.created", roi: "roi.calculated", checkout: "checkout.started" } as const;
export type FormName = keyof typeof FORM_EVENTS;

const NAV: [string, string][] = [["/features", "Features"], ["/pricing", "Pricing"], ["/solutions/brokers", "Solutions"], ["/docs", "Docs"], ["/blog", "Blog"], ["/demo", "Book a demo"]];
const FOOTER: [string, string][] = [["/about", "About"], ["/careers", "Careers"], ["/support", "Support"], ["/contact", "Contact"], ["/legal/privacy", "Privacy"], ["/legal/terms", "Terms"], ["/legal/cookies", "Cookies"]];

const input = (name: string, label: string, type = "text", extra = "") =>
  `<label>${esc(label)} <input name="${name}" type="${type}"${extra}></label>`;

function form(name: FormName, ctx: SiteContext): string {
  const fields: Record<FormName, string> = {
    demo: input("email", "Work email", "email", " required maxlength=\"254\"") + input("name", "Name", "text", " required maxlength=\"200\"") +
      input("company", "Company", "text", " maxlength=\"200\"") + input("phone", "Phone", "tel", " maxlength=\"40\"") + input("preferred_date", "Preferred date", "date"),
    contact: input("email", "Email", "email", " required maxlength=\"254\"") + input("name", "Name", "text", " required maxlength=\"200\"") +
      input("company", "Company", "text", " maxlength=\"200\"") + input("phone", "Phone", "tel", " maxlength=\"40\""),
    roi: input("loads_per_month", "Loads per month", "number", " required min=\"0\" max=\"1000000\"") + input("avg_rate_usd", "Average rate (USD)", "number", " required min=\"0\" max=\"100000\"") +
      input("team_size", "Team size", "number", " min=\"0\" max=\"100000\"") + input("email", "Email (optional)", "email", " maxlength=\"254\""),
    checkout: `<label>Plan <select name="plan"><option value="starter">Starter</option><option value="growth">Growth</option><option value="enterprise">Enterprise</option></select></label>` +
      input("seats", "Seats", "number", " required min=\"1\" max=\"100000\" value=\"5\"") +
      `<label>Currency <select name="currency"><option value="USD">USD</option><option value="CAD">CAD</option></select></label>` + input("email", "Email", "email", " maxlength=\"254\""),
  };
  const event = FORM_EVENTS[name];
  return `<form class="site-form" method="post" action="${esc(urlOf(ctx, `/forms/${event}`))}" data-site-form="${name}">
<h2>${esc({ demo: "Request a demo", contact: "Send us a message", roi: "Calculate your savings", checkout: "Choose your plan" }[name])}</h2>
${fields[name]}
<input type="hidden" name="client_id" value="">
<input type="hidden" name="page" value="">
<label class="hp" aria-hidden="true">Leave this empty <input name="website" type="text" tabindex="-1" autocomplete="off"></label>
<button type="submit">${esc(name === "checkout" ? "Continue to payment" : name === "roi" ? "Calculate" : "Send")}</button>
<p class="form-status" data-form-status role="status"></p>
</form>`;
}

function body(page: SitePage, ctx: SiteContext): string {
  const c: PageContent = page.content;
  const parts: string[] = [`<h1>${esc(c.h1)}</h1>`, `<p class="lead">${esc(c.lead)}</p>`];
  if (c.post) parts.push(`<p class="meta">By ${esc(c.post.author)}, <time datetime="${esc(c.post.published)}">${esc(c.post.published)}</time></p>`);
  if (c.image) parts.push(`<img src="${esc(urlOf(ctx, c.image.src))}" alt="${esc(c.image.alt)}" width="${c.image.width}" height="${c.image.height}">`);
  if (c.job) {
    const j = c.job;
    parts.push(`<p class="meta">${esc(j.city)} &middot; ${esc(j.employment_type.replace("_", " ").toLowerCase())} &middot; ${esc(j.currency)} ${(j.salary_min_cents / 100).toLocaleString("en-US")}&ndash;${(j.salary_max_cents / 100).toLocaleString("en-US")} a year</p>`);
  }
  for (const s of c.sections) {
    parts.push(`<section><h2>${esc(s.heading)}</h2>${s.paragraphs.map((p) => `<p>${esc(p)}</p>`).join("")}${s.items ? `<ul>${s.items.map((i) => `<li>${esc(i)}</li>`).join("")}</ul>` : ""}</section>`);
  }
  if (c.plans?.length) {
    parts.push(`<section class="plans"><h2>Plans</h2>${c.plans.map((p) => `<div class="plan"><h3>${esc(p.name)}</h3><p class="price">$${(p.price_cents / 100).toFixed(0)} per seat per month</p><p>${esc(p.summary)}</p><ul>${p.features.map((f) => `<li>${esc(f)}</li>`).join("")}</ul></div>`).join("")}</section>`);
  }
  if (c.faq?.length) parts.push(`<section class="faq"><h2>Frequently asked questions</h2>${c.faq.map((f) => `<h3>${esc(f.q)}</h3><p>${esc(f.a)}</p>`).join("")}</section>`);
  if (c.form) parts.push(form(c.form, ctx));
  if (c.related?.length) {
    parts.push(`<nav class="related" aria-label="Related"><h2>Related</h2><ul>${c.related.map((p) => `<li><a href="${esc(urlOf(ctx, p))}">${esc(ctx.titles.get(p) ?? p)}</a></li>`).join("")}</ul></nav>`);
  }
  return parts.join("\n");
}

const links = (ctx: SiteContext, items: [string, string][]) => items.map(([p, n]) => `<a href="${esc(urlOf(ctx, p))}">${esc(n)}</a>`).join(" ");

/** The whole document: head (title, description, canonical, Open Graph, JSON-LD) and body. */
export function renderPage(page: SitePage, ctx: SiteContext): string {
  const url = urlOf(ctx, page.path);
  const image = urlOf(ctx, page.content.image?.src ?? "/img/hero.svg");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)}</title>
<meta name="description" content="${esc(page.description)}">
<link rel="canonical" href="${esc(url)}">
<meta property="og:type" content="${page.kind === "blog_post" ? "article" : "website"}">
<meta property="og:site_name" content="Switchyard">
<meta property="og:title" content="${esc(page.title)}">
<meta property="og:description" content="${esc(page.description)}">
<meta property="og:url" content="${esc(url)}">
<meta property="og:image" content="${esc(image)}">
<meta name="twitter:card" content="summary_large_image">
<link rel="icon" href="${esc(urlOf(ctx, "/img/logo.svg"))}" type="image/svg+xml">
<link rel="stylesheet" href="${esc(urlOf(ctx, "/site.css"))}">
<script type="application/ld+json">${jsonLdScript(jsonLdFor(page, ctx))}</script>
<script src="${esc(urlOf(ctx, "/site.js"))}" defer></script>
</head>
<body>
<header><a class="brand" href="${esc(urlOf(ctx, "/"))}"><img src="${esc(urlOf(ctx, "/img/logo.svg"))}" alt="Switchyard" width="32" height="32"> Switchyard</a>
<nav aria-label="Main">${links(ctx, NAV)}</nav></header>
<main>
${body(page, ctx)}
</main>
<footer><nav aria-label="Footer">${links(ctx, FOOTER)}</nav><p>&copy; 2026 Switchyard</p></footer>
</body>
</html>
`;
}

/** The answer page of a form posted without JavaScript (what the visitor typed, escaped). */
export function renderNotice(ctx: SiteContext, heading: string, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(heading)} — Switchyard</title><meta name="robots" content="noindex">
<link rel="stylesheet" href="${esc(urlOf(ctx, "/site.css"))}"></head>
<body><main><h1>${esc(heading)}</h1><p>${esc(message)}</p><p><a href="${esc(urlOf(ctx, "/"))}">Back to the home page</a></p></main></body></html>
`;
}

export function sitemap(pages: SitePage[], ctx: SiteContext): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
${pages.map((p) => `  <url><loc>${esc(urlOf(ctx, p.path))}</loc><lastmod>${esc(p.updated_at.slice(0, 10))}</lastmod></url>`).join("\n")}
</urlset>
`;
}

export const robots = (ctx: SiteContext) => `User-agent: *\nAllow: /\nDisallow: ${new URL(urlOf(ctx, "/forms/")).pathname}\nSitemap: ${urlOf(ctx, "/sitemap.xml")}\n`;
