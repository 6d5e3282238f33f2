import { z } from "zod";
import { FORM_EVENTS } from "./render.ts";

/**
 * The site's forms -> the CRM's website events (the same actions n8n's signed webhooks run).
 * A form is urlencoded; its fields become the event's data, the UTM comes from the
 * first-party cookie the landing page set (utmFromQuery / utmCookie), never from the form.
 */
export const FORM_BODY_LIMIT = 16 * 1024;
export const UTM_COOKIE = "sy_utm";
const UTM_KEYS = ["source", "medium", "campaign", "term", "content"] as const;
export type Utm = Partial<Record<(typeof UTM_KEYS)[number], string>>;

export const formEvents = Object.values(FORM_EVENTS) as string[];

/** utm_* parameters of a landing URL (printable text, at most 200 characters each). */
export function utmFromQuery(params: URLSearchParams): Utm | null {
  const utm: Utm = {};
  for (const k of UTM_KEYS) {
    const v = params.get(`utm_${k}`);
    if (v !== null && v.trim() !== "") utm[k] = v.replace(/\p{Cc}/gu, "").trim().slice(0, 200);
  }
  return Object.keys(utm).length ? utm : null;
}

const utmSchema = z.strictObject(Object.fromEntries(UTM_KEYS.map((k) => [k, z.string().max(200).optional()])) as Record<(typeof UTM_KEYS)[number], z.ZodOptional<z.ZodString>>);

/** The UTM cookie's value (anything else, or none: no UTM). */
export function utmFromCookie(header: string | null): Utm {
  const raw = (header ?? "").split(/;\s*/).find((c) => c.startsWith(`${UTM_COOKIE}=`))?.slice(UTM_COOKIE.length + 1);
  if (!raw) return {};
  try {
    const parsed = utmSchema.safeParse(JSON.parse(decodeURIComponent(raw)));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

export const utmCookie = (utm: Utm, secure: boolean) =>
  `${UTM_COOKIE}=${encodeURIComponent(JSON.stringify(utm))}; Path=/; Max-Age=2592000; SameSite=Lax; HttpOnly${secure ? "; Secure" : ""}`;

/** The ROI calculator's estimate (the /roi page explains the assumptions). */
export function roiEstimate(loadsPerMonth: number, avgRateUsd: number, teamSize: number | undefined) {
  const labour = (loadsPerMonth * 9.6 / 60) * 45;
  const margin = loadsPerMonth * avgRateUsd * 0.005;
  const monthly = Math.round((labour + margin) * 100) / 100;
  const cost = Math.max(1, teamSize ?? 1) * 99;
  return { monthly_savings_usd: monthly, ...(monthly > 0 ? { payback_months: Math.round((cost / monthly) * 100) / 100 } : {}) };
}

const num = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : Number(v));
const opt = (v: string | undefined) => (v === undefined || v.trim() === "" ? undefined : v);

/** The form's fields -> the CRM event's input (validated by the CRM action's own schema). */
export function eventInput(event: string, f: Record<string, string>, page: string, utm: Utm): unknown {
  const person = { email: opt(f.email), name: opt(f.name), company: opt(f.company), phone: opt(f.phone) };
  const data = (() => {
    switch (event) {
      case "lead.created":
        return person;
      case "demo.requested":
        return { ...person, preferred_date: opt(f.preferred_date) };
      case "roi.calculated": {
        const inputs = { loads_per_month: num(f.loads_per_month), avg_rate_usd: num(f.avg_rate_usd), team_size: num(f.team_size) };
        const ok = Number.isFinite(inputs.loads_per_month) && Number.isFinite(inputs.avg_rate_usd);
        return { email: person.email, inputs, result: ok ? roiEstimate(inputs.loads_per_month!, inputs.avg_rate_usd!, inputs.team_size) : {} };
      }
      default:
        return { email: person.email, plan: f.plan, seats: num(f.seats), currency: f.currency || undefined };
    }
  })();
  return { type: event, data: { page, utm, ...data } };
}

export const clientId = z.guid();
