/**
 * The console's static files, read once at module load and served from memory.
 *
 * - static/app.js, static/app.css: the console itself (plain browser JS/CSS, no build step).
 * - uPlot (the time-series charts): its dist files from the `uplot` npm package. Locally
 *   they are read from node_modules, found relative to this file (import.meta.url). For a
 *   hosted deploy, [functions.console] static_files in supabase/config.toml lists the same
 *   files so `supabase functions deploy` bundles them; the bundle keeps their relative
 *   paths, so the same lookup finds them.
 */

export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  /** Weak validator for conditional requests. */
  etag: string;
}

async function etagOf(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `"${Array.from(digest.slice(0, 12), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

async function load(candidates: string[], type: string): Promise<Asset> {
  const errors: string[] = [];
  for (const rel of candidates) {
    const url = new URL(rel, import.meta.url);
    try {
      const body = new Uint8Array(await Deno.readFile(url));
      return { body, type, etag: await etagOf(body) };
    } catch (err) {
      errors.push(`${url.pathname}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`console asset not found (${errors.join("; ")})`);
}

const UPLOT = "../../../node_modules/uplot/dist/";

const [appJs, appCss, uplotJs, uplotCss] = await Promise.all([
  load(["./static/app.js"], "text/javascript; charset=utf-8"),
  load(["./static/app.css"], "text/css; charset=utf-8"),
  load([`${UPLOT}uPlot.iife.min.js`], "text/javascript; charset=utf-8"),
  load([`${UPLOT}uPlot.min.css`], "text/css; charset=utf-8"),
]);

/** Served paths (relative to the console's base) -> asset. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["/app.js", appJs],
  ["/app.css", appCss],
  ["/vendor/uplot.js", uplotJs],
  ["/vendor/uplot.css", uplotCss],
]);
