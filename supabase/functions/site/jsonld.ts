import type {
  BlogPosting, BreadcrumbList, FAQPage, JobPosting, Offer, Organization, SoftwareApplication, TechArticle, Thing,
  WebPage, WebSite,
} from "schema-dts";
import { ORG, type SiteContext, type SitePage, urlOf } from "./content.ts";

/**
 * JSON-LD for a page (schema.org, typed with schema-dts at compile time): every page has its
 * primary type (PRIMARY_TYPE) and, below the home page, a BreadcrumbList; Organization is
 * on every page as the publisher. checkJsonLd() is the run-time check of each type's
 * required properties (Google's structured-data requirements), run by the tests, the SEO
 * audit and before a page is served.
 */
type Node = Exclude<Thing, string> & { "@type": string };

export const PRIMARY_TYPE: Record<SitePage["kind"], string> = {
  home: "WebSite", pricing: "SoftwareApplication", features: "WebPage", roi: "WebPage", solution: "WebPage",
  blog_index: "WebPage", blog_post: "BlogPosting", docs: "WebPage", doc: "TechArticle", support: "FAQPage",
  careers: "WebPage", job: "JobPosting", legal: "WebPage", contact: "WebPage", demo: "WebPage", page: "WebPage",
};

/** Required properties per type (nested paths with "."; an array is required non-empty). */
export const REQUIRED: Record<string, string[]> = {
  Organization: ["name", "url", "logo"],
  WebSite: ["name", "url", "publisher"],
  WebPage: ["name", "url", "description"],
  SoftwareApplication: ["name", "applicationCategory", "operatingSystem", "offers"],
  Offer: ["name", "price", "priceCurrency"],
  FAQPage: ["mainEntity"],
  Question: ["name", "acceptedAnswer.text"],
  BreadcrumbList: ["itemListElement"],
  ListItem: ["position", "name", "item"],
  BlogPosting: ["headline", "datePublished", "author.name", "image", "publisher"],
  TechArticle: ["headline", "description", "publisher"],
  JobPosting: ["title", "description", "datePosted", "validThrough", "hiringOrganization.name", "jobLocation.address.addressCountry", "employmentType", "baseSalary.currency"],
};

function organization(ctx: SiteContext): Organization {
  return { "@type": "Organization", "@id": `${urlOf(ctx, "/")}#organization`, name: ORG.name, url: urlOf(ctx, "/"), logo: urlOf(ctx, ORG.logoPath) };
}
const publisher = (ctx: SiteContext) => ({ "@id": `${urlOf(ctx, "/")}#organization` });

function breadcrumbs(page: SitePage, ctx: SiteContext): BreadcrumbList {
  const segs = page.path.split("/").filter(Boolean);
  const paths = ["/", ...segs.map((_, i) => `/${segs.slice(0, i + 1).join("/")}`)];
  return {
    "@type": "BreadcrumbList",
    itemListElement: paths.map((p, i) => ({
      "@type": "ListItem",
      position: i + 1,
      name: p === "/" ? "Home" : p === page.path ? page.content.h1 : ctx.titles.get(p) ?? segs[i - 1],
      item: urlOf(ctx, p),
    })),
  };
}

function primary(page: SitePage, ctx: SiteContext): Node {
  const url = urlOf(ctx, page.path);
  const c = page.content;
  const image = c.image ? urlOf(ctx, c.image.src) : urlOf(ctx, ORG.logoPath);
  switch (PRIMARY_TYPE[page.kind]) {
    case "WebSite":
      return { "@type": "WebSite", name: ORG.name, url, description: page.description, publisher: publisher(ctx) } satisfies WebSite;
    case "SoftwareApplication":
      return {
        "@type": "SoftwareApplication", name: ORG.name, url, description: page.description,
        applicationCategory: "BusinessApplication", operatingSystem: "Web",
        offers: (c.plans ?? []).map((p): Offer => ({
          "@type": "Offer", name: p.name, price: (p.price_cents / 100).toFixed(2), priceCurrency: "USD", url, description: p.summary,
        })),
      } satisfies SoftwareApplication;
    case "FAQPage":
      return {
        "@type": "FAQPage", name: page.title, url,
        mainEntity: (c.faq ?? []).map((f) => ({ "@type": "Question", name: f.q, acceptedAnswer: { "@type": "Answer", text: f.a } })),
      } satisfies FAQPage;
    case "BlogPosting":
      return {
        "@type": "BlogPosting", headline: c.h1, description: page.description, url, image,
        datePublished: c.post?.published, dateModified: page.updated_at.slice(0, 10),
        author: { "@type": "Person", name: c.post?.author }, publisher: publisher(ctx), mainEntityOfPage: url,
      } satisfies BlogPosting;
    case "TechArticle":
      return { "@type": "TechArticle", headline: c.h1, description: page.description, url, publisher: publisher(ctx) } satisfies TechArticle;
    case "JobPosting": {
      const j = c.job;
      return {
        "@type": "JobPosting", title: c.h1, description: c.lead, url,
        datePosted: j?.posted, validThrough: j?.valid_through, employmentType: j?.employment_type,
        hiringOrganization: organization(ctx),
        jobLocation: { "@type": "Place", address: { "@type": "PostalAddress", addressLocality: j?.city, addressRegion: j?.region, addressCountry: j?.country } },
        baseSalary: j && {
          "@type": "MonetaryAmount", currency: j.currency,
          value: { "@type": "QuantitativeValue", minValue: j.salary_min_cents / 100, maxValue: j.salary_max_cents / 100, unitText: "YEAR" },
        },
      } satisfies JobPosting;
    }
    default:
      return { "@type": "WebPage", name: page.title, url, description: page.description, publisher: publisher(ctx) } satisfies WebPage;
  }
}

/** The page's JSON-LD document: one @graph. */
export function jsonLdFor(page: SitePage, ctx: SiteContext): { "@context": "https://schema.org"; "@graph": Node[] } {
  const graph: Node[] = [organization(ctx) as Node, primary(page, ctx)];
  if (page.path !== "/") graph.push(breadcrumbs(page, ctx) as Node);
  // A pricing page's FAQ is structured data too.
  if (page.kind !== "support" && page.content.faq?.length) graph.push(primary({ ...page, kind: "support" }, ctx));
  return { "@context": "https://schema.org", "@graph": graph };
}

/** JSON for a <script type="application/ld+json">: "<" escaped so no text can close the script. */
export const jsonLdScript = (doc: unknown) => JSON.stringify(doc).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0);

function get(node: unknown, path: string): unknown {
  let cur: unknown = node;
  for (const k of path.split(".")) cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

/**
 * The run-time check: each node (and every nested typed node) has its type's required
 * properties. Returns the problems ("BlogPosting.author.name missing"); [] means valid.
 */
export function checkJsonLd(doc: unknown): string[] {
  const problems: string[] = [];
  const visit = (node: unknown, where: string) => {
    if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${where}[${i}]`));
    if (!node || typeof node !== "object") return;
    const type = (node as { "@type"?: unknown })["@type"];
    if (typeof type === "string") {
      for (const p of REQUIRED[type] ?? []) if (!present(get(node, p))) problems.push(`${where}${type}.${p} missing`);
    }
    for (const [k, v] of Object.entries(node)) if (k !== "@context") visit(v, `${where}${typeof type === "string" ? type : ""}.${k}>`);
  };
  if (!doc || typeof doc !== "object" || (doc as Record<string, unknown>)["@context"] !== "https://schema.org") problems.push("@context is not https://schema.org");
  visit((doc as { "@graph"?: unknown })?.["@graph"] ?? doc, "");
  return problems;
}

/** The @types of a JSON-LD document's top-level graph. */
export const graphTypes = (doc: unknown): string[] =>
  (((doc as { "@graph"?: { "@type"?: string }[] })?.["@graph"]) ?? []).map((n) => String(n["@type"]));
