import { checkJsonLd } from "./jsonld.ts";

/**
 * The SEO audit of a rendered page (issue 18 item 2), on the HTML itself: title and
 * description lengths, one h1, heading order (no level skipped), alt text on every image,
 * internal links, a canonical link, JSON-LD that parses and has its types' required
 * properties, and the word count of the main text. Each check weighs the same; the score is
 * the share that pass (0-100). Pure: the export records it (public.site_record_audit).
 */
export interface SeoCheck {
  name: string;
  ok: boolean;
  detail: string;
}

const strip = (html: string) => html.replace(/<script[\s\S]*?<\/script>/gi, " ").replace(/<style[\s\S]*?<\/style>/gi, " ").replace(/<[^>]+>/g, " ");
const unescape = (s: string) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");

export function auditHtml(html: string, siteBase: string): { score: number; checks: SeoCheck[] } {
  const title = unescape(/<title>([\s\S]*?)<\/title>/i.exec(html)?.[1] ?? "");
  const description = unescape(/<meta name="description" content="([^"]*)"/i.exec(html)?.[1] ?? "");
  const canonical = /<link rel="canonical" href="([^"]+)"/i.exec(html)?.[1] ?? "";
  const main = /<main>([\s\S]*)<\/main>/i.exec(html)?.[1] ?? "";
  const levels = [...main.matchAll(/<h([1-6])\b/gi)].map((m) => Number(m[1]));
  const skipped = levels.findIndex((l, i) => i > 0 && l > levels[i - 1] + 1);
  const imgs = [...html.matchAll(/<img\b[^>]*>/gi)].map((m) => m[0]);
  const noAlt = imgs.filter((i) => !/\balt="[^"]+"/.test(i));
  const internal = [...main.matchAll(/<a\b[^>]*href="([^"]+)"/gi)].filter((m) => unescape(m[1]).startsWith(siteBase)).length;
  const words = unescape(strip(main)).split(/\s+/).filter((w) => /\w/.test(w)).length;
  const ld = [...html.matchAll(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/gi)].map((m) => m[1]);
  let ldProblems: string[];
  try {
    ldProblems = ld.length ? ld.flatMap((s) => checkJsonLd(JSON.parse(s))) : ["no JSON-LD"];
  } catch (err) {
    ldProblems = [`JSON-LD does not parse: ${err instanceof Error ? err.message : String(err)}`];
  }
  const checks: SeoCheck[] = [
    { name: "title_length", ok: title.length >= 30 && title.length <= 65, detail: `${title.length} characters (30-65)` },
    { name: "description_length", ok: description.length >= 70 && description.length <= 160, detail: `${description.length} characters (70-160)` },
    { name: "one_h1", ok: levels.filter((l) => l === 1).length === 1, detail: `${levels.filter((l) => l === 1).length} h1` },
    { name: "heading_order", ok: levels[0] === 1 && skipped === -1, detail: skipped === -1 ? "no level skipped" : `h${levels[skipped - 1]} then h${levels[skipped]}` },
    { name: "alt_text", ok: noAlt.length === 0, detail: `${imgs.length - noAlt.length}/${imgs.length} images with alt text` },
    { name: "internal_links", ok: internal >= 2, detail: `${internal} internal links in the main text (>= 2)` },
    { name: "canonical", ok: canonical.startsWith(siteBase), detail: canonical ? "canonical set" : "no canonical" },
    { name: "json_ld", ok: ldProblems.length === 0, detail: ldProblems.length ? ldProblems.slice(0, 3).join("; ") : "valid" },
    { name: "word_count", ok: words >= 150, detail: `${words} words (>= 150)` },
  ];
  return { score: Math.round((100 * checks.filter((c) => c.ok).length) / checks.length), checks };
}
