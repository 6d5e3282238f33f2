import { machineClaims, type Sql, withClaims } from "../../../packages/shared/db/client.ts";
import { pageContent, type SiteContext, type SitePage } from "./content.ts";

/** Every live page of the site (RLS: read as n8n@ in the site's tenant). The function and the export read them so. */
export async function livePages(sql: Sql, tenant: string): Promise<SitePage[]> {
  const rows = await withClaims(sql, machineClaims("n8n", tenant), (tx) => tx`
    select p.path, p.kind, v.version, v.title, v.description, v.content, p.updated_at
    from public.site_pages p
    join public.site_page_versions v on v.page_id = p.id and v.version = p.published_version
    where p.tenant_id = ${tenant} order by p.sort, p.path`);
  // A version whose content does not parse is not served (the rest of the site is).
  return rows.flatMap((r) => {
    const content = pageContent.safeParse(r.content);
    if (!content.success) return [];
    return [{ path: r.path, kind: r.kind, version: r.version, title: r.title, description: r.description, content: content.data, updated_at: new Date(r.updated_at).toISOString() }];
  });
}


export const siteContext = (pages: SitePage[], baseUrl: string): SiteContext => ({ baseUrl, titles: new Map(pages.map((p) => [p.path, p.content.h1])) });
