import { z } from "zod";

/**
 * A page version's content (public.site_page_versions.content): the one schema the renderer,
 * the JSON-LD builder, the SEO audit and the static export read. Strings are plain text:
 * the renderer escapes every one of them (no HTML is stored).
 */
const text = (max: number) => z.string().trim().min(1).max(max);
const sitePath = z.string().regex(/^\/[a-z0-9/-]*$/, "A site path like /pricing");

export const pageContent = z.object({
  h1: text(200),
  lead: text(2000),
  sections: z.array(z.object({ heading: text(200), paragraphs: z.array(text(4000)).max(20), items: z.array(text(300)).max(30).optional() })).max(20),
  faq: z.array(z.object({ q: text(300), a: text(2000) })).max(30).optional(),
  plans: z.array(z.object({
    name: text(60),
    sku: z.enum(["starter", "growth", "enterprise"]),
    price_cents: z.number().int().min(0).max(100_000_000),
    summary: text(300),
    features: z.array(text(200)).max(20),
  })).max(6).optional(),
  post: z.object({ published: z.iso.date(), author: text(100) }).optional(),
  job: z.object({
    posted: z.iso.date(),
    valid_through: z.iso.date(),
    city: text(100),
    region: text(10),
    country: z.string().regex(/^[A-Z]{2}$/),
    employment_type: z.enum(["FULL_TIME", "PART_TIME", "CONTRACTOR"]),
    salary_min_cents: z.number().int().min(0),
    salary_max_cents: z.number().int().min(0),
    currency: z.enum(["USD", "CAD"]),
  }).optional(),
  form: z.enum(["demo", "contact", "roi", "checkout"]).optional(),
  image: z.object({ src: z.string().regex(/^\/[a-z0-9/-]+\.(svg|png|jpg|webp)$/, "An image path like /img/hero.svg"), alt: z.string().max(300), width: z.number().int().min(1).max(8000), height: z.number().int().min(1).max(8000) }).optional(),
  related: z.array(sitePath).max(20).optional(),
});
export type PageContent = z.infer<typeof pageContent>;

export const PAGE_KINDS = [
  "home", "pricing", "features", "roi", "solution", "blog_index", "blog_post", "docs", "doc",
  "support", "careers", "job", "legal", "contact", "demo", "page",
] as const;
export type PageKind = (typeof PAGE_KINDS)[number];

/** A live page as the site serves it: registry row + its published version. */
export interface SitePage {
  path: string;
  kind: PageKind;
  version: number;
  title: string;
  description: string;
  content: PageContent;
  updated_at: string;
}

/** Where the site lives: absolute base URL (canonical links) and its breadcrumb names. */
export interface SiteContext {
  /** e.g. https://www.example.com or http://127.0.0.1:54321/functions/v1/site (no trailing slash) */
  baseUrl: string;
  /** path -> page (h1 / title for breadcrumbs and internal link names) */
  titles: Map<string, string>;
}

export const ORG = {
  name: "Switchyard",
  logoPath: "/img/logo.svg",
} as const;

/** An absolute URL of a site path. */
export const urlOf = (ctx: Pick<SiteContext, "baseUrl">, path: string) => `${ctx.baseUrl}${path === "/" ? "/" : path}`;
