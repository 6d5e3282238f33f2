/**
 * `npm run site:export [-- --out dist/site --base-url https://www.example.com --db-url postgres://...]`
 *
 * Writes the website's live pages as static HTML (<out>/<path>/index.html, / as index.html),
 * with sitemap.xml, robots.txt and the site's assets, for any static host: hosted Supabase
 * serves text/html from functions as plain text unless the project has a custom domain
 * (README). Renders with the site function's own code (supabase/functions/site), so the
 * files are the pages the function serves. Each page's SEO audit is recorded with its
 * history (public.site_record_audit, as agents@) and printed.
 * The database: --db-url, else SUPABASE_DB_URL, else the local stack's (54322).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { machineClaims, POOL_OPTIONS, withClaims } from "../../packages/shared/db/client.ts";
import { ASSETS } from "../../supabase/functions/site/assets.ts";
import { livePages, siteContext } from "../../supabase/functions/site/pages.ts";
import { renderPage, robots, sitemap } from "../../supabase/functions/site/render.ts";
import { auditHtml } from "../../supabase/functions/site/seo.ts";

const { values } = parseArgs({
  options: { out: { type: "string", default: "dist/site" }, "base-url": { type: "string" }, "db-url": { type: "string" }, "no-audit": { type: "boolean", default: false } },
});
const dbUrl = values["db-url"] ?? process.env.SUPABASE_DB_URL ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const out = resolve(values.out!);
const sql = postgres(dbUrl, { ...POOL_OPTIONS, max: 2 });

try {
  const [{ t: tenant }] = await sql`select app_private.site_tenant() as t`;
  if (!tenant) throw new Error("ops.site_settings names no tenant (run the seed)");
  const pages = await livePages(sql, tenant);
  // Static files are served from the host's root unless a base URL is given.
  const ctx = siteContext(pages, (values["base-url"] ?? "").replace(/\/$/, ""));
  const write = (rel: string, body: string) => {
    const file = join(out, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
  };
  const rows: string[] = [];
  for (const page of pages) {
    const html = renderPage(page, ctx);
    write(page.path === "/" ? "index.html" : `${page.path.slice(1)}/index.html`, html);
    const audit = auditHtml(html, ctx.baseUrl);
    if (!values["no-audit"]) {
      await withClaims(sql, machineClaims("agents", tenant), (tx) => tx`select public.site_record_audit(${page.path}, ${page.version}, ${audit.score}, ${tx.json(audit.checks as never)})`);
    }
    rows.push(`${String(audit.score).padStart(3)}  ${page.path}${audit.checks.filter((c) => !c.ok).map((c) => `  [${c.name}: ${c.detail}]`).join("")}`);
  }
  write("sitemap.xml", sitemap(pages, ctx));
  write("robots.txt", robots(ctx));
  for (const [path, asset] of ASSETS) write(path.slice(1), asset.body);
  console.log(`SEO score  page\n${rows.join("\n")}`);
  console.log(`site:export: ${pages.length} pages written to ${out}`);
} finally {
  await sql.end();
}
