/**
 * The website's pure parts (supabase/functions/site): the JSON-LD run-time check finds a
 * missing required property (top-level and nested), the SEO audit finds what it checks on a
 * bad page and passes a good one, and the renderer escapes every piece of stored text.
 */
import { describe, expect, it } from "vitest";
import type { SitePage } from "../../supabase/functions/site/content.ts";
import { checkJsonLd, jsonLdFor, jsonLdScript } from "../../supabase/functions/site/jsonld.ts";
import { renderPage } from "../../supabase/functions/site/render.ts";
import { auditHtml } from "../../supabase/functions/site/seo.ts";
import { roiEstimate, utmFromCookie, utmFromQuery } from "../../supabase/functions/site/forms.ts";

const BASE = "https://www.switchyard.example";
const ctx = { baseUrl: BASE, titles: new Map([["/blog", "Blog"], ["/pricing", "Pricing"]]) };
const words = Array.from({ length: 160 }, (_, i) => `word${i}`).join(" ");
const post: SitePage = {
  path: "/blog/a-post", kind: "blog_post", version: 1, updated_at: "2026-12-01T00:00:00.000Z",
  title: "A post about tendering automation for brokers", description: "How brokers automate tendering with deadlines, ranked carriers and audited agent actions in one place.",
  content: { h1: "A post", lead: words, sections: [{ heading: "Part one", paragraphs: ["Text."] }], post: { published: "2026-11-01", author: "Dana" },
    image: { src: "/img/hero.svg", alt: "A chart", width: 1200, height: 630 }, related: ["/blog", "/pricing"] },
};

describe("JSON-LD check", () => {
  it("passes a complete BlogPosting and names each missing required property, nested ones too", () => {
    expect(checkJsonLd(jsonLdFor(post, ctx))).toEqual([]);
    const broken = jsonLdFor({ ...post, content: { ...post.content, post: { published: "2026-11-01", author: "" } } }, ctx);
    expect(checkJsonLd(broken)).toEqual(["[1]BlogPosting.author.name missing"]);
    const noOffers = { "@context": "https://schema.org", "@graph": [{ "@type": "SoftwareApplication", name: "S", applicationCategory: "x", operatingSystem: "Web", offers: [{ "@type": "Offer", name: "A", priceCurrency: "USD" }] }] };
    expect(checkJsonLd(noOffers)).toEqual(["[0]SoftwareApplication.offers>[0]Offer.price missing"]);
    expect(checkJsonLd({ "@graph": [] })).toEqual(["@context is not https://schema.org"]);
  });

  it("cannot be closed from inside: '<' in any value is escaped in the script element", () => {
    expect(jsonLdScript({ name: "</script><script>alert(1)</script>" })).not.toContain("<");
  });
});

describe("SEO audit", () => {
  it("scores a good page 100 and reports each failing check of a bad one", () => {
    expect(auditHtml(renderPage(post, ctx), BASE)).toMatchObject({ score: 100 });
    const bad = `<html><head><title>Short</title></head><body><main><h1>A</h1><h3>skipped</h3><h1>two</h1><img src="x.png"></main></body></html>`;
    const r = auditHtml(bad, BASE);
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["title_length", "description_length", "one_h1", "heading_order", "alt_text", "internal_links", "canonical", "json_ld", "word_count"]);
    expect(r.score).toBe(0);
  });
});

describe("rendering and forms", () => {
  it("escapes stored text everywhere it appears", () => {
    const evil = `"><script>alert(1)</script>`;
    const html = renderPage({ ...post, title: `T${evil}`, description: `D${evil}`, content: { ...post.content, h1: `H${evil}`, sections: [{ heading: evil, paragraphs: [evil], items: [evil] }] } }, ctx);
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain(`T"><`);
    expect(html).toContain("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("keeps the five UTM parameters (control characters dropped, 200 characters at most) and ignores a forged cookie", () => {
    expect(utmFromQuery(new URLSearchParams("utm_source=x&utm_medium=%00e\nmail&utm_x=1&utm_term=" + "a".repeat(300)))).toEqual({ source: "x", medium: "email", term: "a".repeat(200) });
    expect(utmFromQuery(new URLSearchParams("q=1"))).toBeNull();
    expect(utmFromCookie(`sy_utm=${encodeURIComponent(JSON.stringify({ source: "x", admin: true }))}`)).toEqual({});
    expect(utmFromCookie("sy_utm=%E0%A4%A")).toEqual({});
  });

  it("estimates ROI as the /roi page explains", () => {
    expect(roiEstimate(500, 2000, 4)).toEqual({ monthly_savings_usd: 8600, payback_months: 0.05 });
    expect(roiEstimate(0, 0, undefined)).toEqual({ monthly_savings_usd: 0 });
  });
});
