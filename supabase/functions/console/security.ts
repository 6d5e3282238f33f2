import { type CorsPolicy, corsPolicy, withOwnOrigin } from "../../../packages/shared/http/cors.ts";

/**
 * The console's browser security (charter §9: "CSP/CORS locked; secrets never in browser").
 *
 * CSP: nothing inline. Scripts, styles and fetches come from this origin only; the page can
 * be framed by nobody; forms post nowhere else. uPlot and the console script set styles
 * through the CSSOM (element.style), which `style-src 'self'` allows; style attributes in
 * markup would be blocked (and there are none).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
  "strict-transport-security": "max-age=31536000",
};

/** A copy of `res` carrying the security headers (and `extra`). */
export function secure(res: Response, extra: Record<string, string> = {}): Response {
  const headers = new Headers(res.headers);
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) headers.set(k, v);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/**
 * The origins this request may come from: the console's own origin (the page calls its API
 * same-origin; see withOwnOrigin), plus any listed in SWITCHYARD_CORS_ORIGINS.
 * Browsers set Origin themselves; a page elsewhere cannot claim to be this one.
 */
export function consolePolicy(req: Request, configured: string | undefined): CorsPolicy {
  return withOwnOrigin(req, corsPolicy(configured, { methods: ["GET", "POST", "OPTIONS"] }));
}
